#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run all of it.
# Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Headless Chromium for the page tests (Debian packages; Playwright never downloads a browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi

# git: the provider-path tests run `git init`, `git add -A` and `git check-ignore` in real repositories.
if ! command -v git >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null
  fi
fi

# The independent Data Integrity verifier (Digital Bazaar, under node).
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi

# The IMS Open Badges 2.0 validator, in its own virtual environment.
bash tests/tools/setup_validator.sh >/dev/null

exec python3 -m pytest -n auto "$@"
