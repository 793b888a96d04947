"""The files `new site` writes around content/: what keeps a provider's own repository safe.

A provider starts in an empty git repository. Everything a build, `keys new` or `notify`
creates that must never be committed (private keys, the built site, the cache, the outbox of
emails, the lock) is git-ignored from the first commit; keys/README.md says how to keep and
back up a key; a GitHub Actions workflow publishes only `_site/`, built with `--frozen` and
the key from a secret; and a short README says that the repository must stay private.
"""
from __future__ import annotations

from .. import __version__
from .key_commands import README as KEYS_README

GITIGNORE_LINES = ("keys/*", "!keys/README.md", "_site/", ".badgekiln-cache/", "_outbox/", ".badgekiln.lock",
                   "content/.notified.lock")

GITIGNORE = """\
# Made by `badgekiln new site`. Private signing keys, learners' emails (_outbox/) and what
# builds make never enter git; content/ (with content/ledger.json) and keys/README.md do.
keys/*
!keys/README.md
_site/
.badgekiln-cache/
_outbox/
.badgekiln.lock
content/.notified.lock
"""

WORKFLOW = """\
# Made by `badgekiln new site`: build on every push to main and publish only _site/ with
# GitHub Pages (Settings > Pages > Source: GitHub Actions). The repository itself stays private.
# The signing key comes from the repository secret BADGEKILN_SIGNING_KEYS (see keys/README.md);
# without it the build stops instead of publishing a site without its signed files.
name: publish
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
  pages: write
  id-token: write
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  publish:
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deploy.outputs.page_url }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      # the version that made this site; upgrade it here after building with the new one locally
      - run: pip install "badgekiln==%(version)s"
      # --frozen: publish only awards built and committed on your machine (content/ledger.json)
      - run: badgekiln build --frozen
        env:
          BADGEKILN_SIGNING_KEYS: ${{ secrets.BADGEKILN_SIGNING_KEYS }}
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site
      - id: deploy
        uses: actions/deploy-pages@v4
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
   its content in the repository secret `BADGEKILN_SIGNING_KEYS` (see keys/README.md).
4. `badgekiln build`, preview with `badgekiln serve`, then commit content/ (with
   content/ledger.json) and push: .github/workflows/publish.yml builds with `--frozen` and
   publishes `_site/` to GitHub Pages.
5. After each deploy, `badgekiln notify` emails each new award's link to its recipient.
"""

BASE_URL_STEP = "\n   Set `base_url` in content/site.yaml to the address the site will be published at."


def files(title: str, base_url_given: bool) -> dict[str, str]:
    """Project-relative path -> text of every file around content/site.yaml."""
    return {
        ".gitignore": GITIGNORE,
        "keys/README.md": KEYS_README,
        ".github/workflows/publish.yml": WORKFLOW % {"version": __version__},
        "README.md": README % {"title": title, "base_url_step": "" if base_url_given else BASE_URL_STEP},
    }


def missing_ignores(existing: str) -> list[str]:
    """The lines an existing .gitignore lacks (it is never overwritten: the user adds them)."""
    present = {line.strip() for line in existing.splitlines()}
    return [line for line in GITIGNORE_LINES if line not in present]
