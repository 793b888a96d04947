"""The files `new site` writes around content/: what keeps a provider's own repository safe.

A provider starts in an empty git repository. Everything a build, `keys new` or `notify`
creates that must never be committed (private keys, the built site, the cache, the outbox of
emails, the lock) is git-ignored from the first commit; keys/README.md says how to keep and
back up a key; the host's deploy file (deploy_recipes.py) publishes only `_site/`, built with
`--frozen` and the key from a secret; and a short README says that the repository must stay private.
"""
from __future__ import annotations

import textwrap

from .deploy_recipes import RECIPES, deploy_file
from .key_commands import README as KEYS_README

GITIGNORE_LINES = ("keys/*", "!keys/README.md", "_site/", ".badgekiln-cache/", "_outbox/", ".badgekiln.lock",
                   "content/.notified.lock")

GITIGNORE = """\
# Made by `badgekiln new site`. Private signing keys, learners' emails (_outbox/) and what
# builds make never enter git; content/ (with the ledger: content/ledger.json, content/ledger/) and keys/README.md do.
keys/*
!keys/README.md
_site/
.badgekiln-cache/
_outbox/
.badgekiln.lock
content/.notified.lock
"""

README = """\
# %(title)s

Open Badges published with Badgekiln.

> **Keep this repository private.** `content/` holds your learners' names and email
> addresses. Only the built `_site/` folder is published, and it holds no email address.

Next steps:

1. Describe who issues the badges and what they are: `badgekiln new issuer ID`,
   `badgekiln new badge ID` (then edit the files in content/).%(base_url_step)s
2. Add awards: `badgekiln new award --badge ID --name NAME --email EMAIL`, or a spreadsheet
   with `badgekiln import roster.csv --badge ID`.
3. `badgekiln keys new` makes the signing key in keys/ (git-ignored). Back it up, and store
   its content in your build's secret `BADGEKILN_SIGNING_KEYS` (see keys/README.md).
%(publish_step)s
5. After each deploy, `badgekiln notify` emails each new award's link to its recipient.
"""

BASE_URL_STEP = "\n   Set `base_url` in content/site.yaml to the address the site will be published at."


def files(title: str, base_url_given: bool, host: str, project_name: str) -> dict[str, str]:
    """Project-relative path -> text of every file around content/site.yaml."""
    return {
        ".gitignore": GITIGNORE,
        "keys/README.md": KEYS_README,
        **deploy_file(host, project_name),
        "README.md": README % {"title": title, "base_url_step": "" if base_url_given else BASE_URL_STEP,
                               "publish_step": textwrap.fill(
                                   f"`badgekiln build`, preview with `badgekiln serve`, then {RECIPES[host].step}",
                                   96, initial_indent="4. ", subsequent_indent="   ")},
    }


def missing_ignores(existing: str) -> list[str]:
    """The lines an existing .gitignore lacks (it is never overwritten: the user adds them)."""
    present = {line.strip() for line in existing.splitlines()}
    return [line for line in GITIGNORE_LINES if line not in present]
