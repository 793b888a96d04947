"""Verify: check any badge (credential, JWT, baked image, URL) the way an employer would."""
