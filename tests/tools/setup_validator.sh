#!/usr/bin/env bash
# Create (or reuse) .validator-venv/ at the repository root holding the IMS Open Badges 2.0
# validator (badgecheck 1.2.0, import name `openbadges`) from the pin set
# tests/tools/ob2-validator-requirements.txt.
#
# Idempotent: if the venv exists, imports `openbadges`, and was installed from a requirements
# file with the same SHA-256 (stored in .validator-venv/.requirements.sha256), nothing is done.
# The stamp is written last, so an interrupted install is redone from scratch next time.
# The venv is kept apart from the project's environment on purpose: `cryptography` must NOT be
# installed in it (python-jose would switch backends and every signed assertion would fail).
#
# Usage: bash tests/tools/setup_validator.sh        (env PYTHON=... to pick the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.validator-venv"
req="$here/ob2-validator-requirements.txt"
stamp="$venv/.requirements.sha256"
py="${PYTHON:-python3}"

up_to_date() {
    [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
        && "$venv/bin/python" -c 'import openbadges' >/dev/null 2>&1
}

want="$(sha256sum "$req" | cut -d' ' -f1)"
if up_to_date; then
    echo "ob2 validator venv up to date: $venv"
    exit 0
fi

# Serialise concurrent runs (e.g. parallel test workers) on a lock of the requirements file.
exec 9<"$req"
flock 9
if up_to_date; then
    echo "ob2 validator venv up to date: $venv"
    exit 0
fi

rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
if "$venv/bin/python" -c 'import cryptography' >/dev/null 2>&1; then
    echo "error: cryptography is installed in $venv; it must not be (see $req)" >&2
    exit 1
fi
"$venv/bin/python" -c 'import openbadges'
echo "$want" > "$stamp"
echo "ob2 validator venv installed: $venv"
