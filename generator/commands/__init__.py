"""Commands: the verbs beyond build (serve, new/import, keys, revoke/suspend, due, notify)."""
