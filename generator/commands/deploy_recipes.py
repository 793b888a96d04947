"""How a new site is published, per host profile (site.yaml `host:`): the file `new site` writes.

Every recipe builds with `--frozen` (only awards minted and committed on the provider's
machine are published) and the signing key from the host's secret store, and publishes only
`_site/`: the repository with the learners' emails stays private. README.md's "Deploying"
section is the same recipes, for a clone.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import __version__


@dataclass(frozen=True)
class Recipe:
    path: str | None  # the file `new site` writes (None: nothing to write)
    text: str
    step: str  # the project README's "publish" step


_HEAD = """\
# Made by `badgekiln new site` for host: %(host)s. Build on every push to main and publish only
# the built site; the repository itself stays private. The signing key comes from the secret
# BADGEKILN_SIGNING_KEYS (see keys/README.md); without it the build stops instead of
# publishing a site without its signed files.
"""

_BUILD_STEPS = """\
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      # the version that made this site; upgrade it here after building with the new one locally
      - run: pip install "badgekiln==%(version)s"
      # --frozen: publish only awards built and committed on your machine (content/ledger*)
      - run: badgekiln build --frozen
        env:
          BADGEKILN_SIGNING_KEYS: ${{ secrets.BADGEKILN_SIGNING_KEYS }}
"""

_ON_PUSH = """\
name: publish
on:
  push:
    branches: [main]
  workflow_dispatch:
"""

_PUBLISH_JOB = """\
concurrency:
  group: publish
  cancel-in-progress: false
jobs:
  publish:
    runs-on: ubuntu-latest
""" + _BUILD_STEPS

_GITHUB_PAGES = _HEAD + """\
# GitHub: Settings > Pages > Source: GitHub Actions.
""" + _ON_PUSH + """\
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
""" + _BUILD_STEPS + """\
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site
      - id: deploy
        uses: actions/deploy-pages@v4
"""

_CLOUDFLARE_PAGES = _HEAD + """\
# Cloudflare: create the Pages project %(project)s (Direct Upload), then add the repository
# secrets CLOUDFLARE_API_TOKEN (a token with Cloudflare Pages: Edit) and CLOUDFLARE_ACCOUNT_ID.
# Badgekiln writes _site/_headers, which lets other sites' verifiers read the badge JSON.
""" + _ON_PUSH + """\
permissions:
  contents: read
  deployments: write
""" + _PUBLISH_JOB + """\
      - uses: cloudflare/wrangler-action@v3
        with:
          apiToken: ${{ secrets.CLOUDFLARE_API_TOKEN }}
          accountId: ${{ secrets.CLOUDFLARE_ACCOUNT_ID }}
          command: pages deploy _site --project-name=%(project)s --branch=main
"""

_S3 = _HEAD + """\
# AWS: an S3 bucket behind CloudFront, and an IAM role this repository may assume (OpenID
# Connect) that can write the bucket and invalidate the distribution. Repository variables:
# AWS_ROLE_ARN, AWS_REGION, S3_BUCKET, CLOUDFRONT_DISTRIBUTION_ID.
# rclone --checksum uploads only the files whose content changed (it compares each file's MD5
# with the object's ETag), sets Content-Type from the extension and deletes what the site no
# longer has; one invalidation of /* then makes CloudFront fetch the changes.
""" + _ON_PUSH + """\
permissions:
  contents: read
  id-token: write
""" + _PUBLISH_JOB + """\
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_ROLE_ARN }}
          aws-region: ${{ vars.AWS_REGION }}
      - run: sudo apt-get install -y rclone
      - run: rclone sync --checksum --fast-list _site "$REMOTE"
        env:
          REMOTE: ":s3,provider=AWS,env_auth=true,region=${{ vars.AWS_REGION }}:${{ vars.S3_BUCKET }}"
      - run: aws cloudfront create-invalidation --distribution-id "${{ vars.CLOUDFRONT_DISTRIBUTION_ID }}" --paths "/*"
"""

_NETLIFY = """\
# Made by `badgekiln new site` for host: netlify. Netlify builds every push and publishes only
# _site/; the repository itself stays private. Add the signing key as the environment
# variable BADGEKILN_SIGNING_KEYS (Site configuration > Environment variables, scope Builds,
# marked secret; see keys/README.md): without it the build stops instead of publishing a site
# without its signed files. Badgekiln writes _site/_headers, which lets other sites' verifiers
# read the badge JSON.
[build]
  # --frozen: publish only awards built and committed on your machine (content/ledger*)
  command = "pip install badgekiln==%(version)s && badgekiln build --frozen"
  publish = "_site"

[build.environment]
  PYTHON_VERSION = "3.12"
  CI = "true"
"""

_GITLAB_PAGES = """\
# Made by `badgekiln new site` for host: gitlab-pages. Build on every push to the default branch
# and publish only the built site (GitLab Pages serves the job's public/ folder); the
# repository itself stays private. Add the signing key as the CI/CD variable
# BADGEKILN_SIGNING_KEYS, masked and protected, holding `base64 -w0 keys/ID.key.json` (see
# keys/README.md): without it the build stops instead of publishing a site without its signed files.
pages:
  image: python:3.12-slim
  script:
    # the version that made this site; upgrade it here after building with the new one locally
    - pip install "badgekiln==%(version)s"
    # --frozen: publish only awards built and committed on your machine (content/ledger*)
    - badgekiln build --frozen --out public
  artifacts:
    paths:
      - public
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"""

_WORKFLOW = ".github/workflows/publish.yml"
_PUSH = "commit content/ (with the ledger: content/ledger.json, content/ledger/) and push: "

RECIPES: dict[str, Recipe] = {
    "github-pages": Recipe(_WORKFLOW, _GITHUB_PAGES, _PUSH + f"{_WORKFLOW} builds with `--frozen` and publishes "
                           "`_site/` to GitHub Pages (Settings > Pages > Source: GitHub Actions)."),
    "cloudflare-pages": Recipe(_WORKFLOW, _CLOUDFLARE_PAGES, _PUSH + f"{_WORKFLOW} builds with `--frozen` and "
                               "uploads `_site/` to Cloudflare Pages (the secrets it needs are listed at its top)."),
    "netlify": Recipe("netlify.toml", _NETLIFY, _PUSH + "Netlify builds with `--frozen` (netlify.toml) and "
                      "publishes `_site/`; connect the repository in Netlify first."),
    "gitlab-pages": Recipe(".gitlab-ci.yml", _GITLAB_PAGES, _PUSH + "the `pages` job in .gitlab-ci.yml builds "
                           "with `--frozen` and publishes the site to GitLab Pages."),
    "s3": Recipe(_WORKFLOW, _S3, _PUSH + f"{_WORKFLOW} builds with `--frozen`, uploads what changed to your "
                 "S3 bucket and refreshes CloudFront (the variables it needs are listed at its top)."),
    "none": Recipe(None, "", "commit content/ (with the ledger: content/ledger.json, content/ledger/), build "
                   "with `badgekiln build --frozen` and publish the `_site/` folder on any static host (only "
                   "`_site/`: it holds no email)."),
}
RECIPES["cloudflare-pages-paid"] = RECIPES["cloudflare-pages"]


def deploy_file(host: str, project_name: str) -> dict[str, str]:
    """{path: text} of the file that publishes a new site on `host` (none for host: none)."""
    recipe = RECIPES[host]
    if recipe.path is None:
        return {}
    return {recipe.path: recipe.text % {"version": __version__, "host": host, "project": project_name}}
