"""A hand edit of the ledger is caught (issue 10, finding 4): E305 at the record's line, naming the field.

Each record carries a per-field integrity check that needs no secret; ledgers written before
the checks existed are accepted and sealed by the next build.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import testkeys
from badgekiln import cli
from badgekiln.model import ledger
from conftest import REPO, build, copy_project, tree


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = copy_project("minimal", tmp_path)
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics
    return project


def _run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def test_one_changed_salt_is_an_error_at_its_line_naming_the_field(project: Path):
    path = project / ledger.LEDGER_PATH
    text = path.read_text()
    [(key, record)] = json.loads(text)["awards"].items()
    path.write_text(text.replace(record["salt"], "0" * 32))
    site = tree(project / "_site")
    for command in ("check", "build"):
        result = _run(project, command)
        assert result.returncode == 1, (command, result.stderr)
        line = _line_of(text, '"salt"')
        assert (f"content/ledger.json:{line}:7: error[E305]: award record '{key}' was edited by hand: 'salt' no "
                "longer matches its integrity check\n  hint: restore the ledger from git") in result.stderr
    assert tree(project / "_site") == site


def test_moved_unchecked_and_rewritten_records_and_every_section_are_checked(project: Path):
    path = project / ledger.LEDGER_PATH
    good = path.read_text()
    doc = json.loads(good)
    [key] = doc["awards"]

    def diagnostics(edited: dict) -> list[tuple[int, str]]:
        path.write_text(json.dumps(edited, indent=2, sort_keys=True) + "\n")
        prepared = build(project, keyring=testkeys.keyring())
        assert prepared.model is None
        return [(d.location.line, d.message) for d in prepared.diagnostics]

    moved = json.loads(good)
    moved["awards"]["safety/0000000000000000"] = moved["awards"].pop(key)
    assert diagnostics(moved) == [(3, "award record 'safety/0000000000000000' does not match its integrity check "
                                      "at all: it was renamed, moved or rewritten by hand")]
    unchecked = json.loads(good)
    del unchecked["awards"][key]["check"]
    assert diagnostics(unchecked) == [(3, f"award record '{key}' has no integrity check, unlike the rest of the "
                                          "ledger (was it added or copied by hand?)")]
    two = json.loads(good)
    two["awards"][key]["status_index"] += 1
    two["awards"][key]["expires"] = "2099-01-01T00:00:00Z"
    [(line, message)] = diagnostics(two)
    assert message == f"award record '{key}' was edited by hand: 'expires', 'status_index' no longer match its " \
                      "integrity check"
    key_record = json.loads(good)
    key_record["keys"][0]["retired"] = "2026-01-01T00:00:00Z"
    [(line, message)] = diagnostics(key_record)
    assert message.endswith("was edited by hand: 'retired' no longer matches its integrity check")
    assert message.startswith(f"signing key record '{doc['keys'][0]['id']}'")
    status = json.loads(good)
    status["issuers"]["acme"]["revocation"]["validFrom"] = "2020-01-01T00:00:00Z"
    assert [m for _, m in diagnostics(status)] == [
        "issuer record 'acme' was edited by hand: 'revocation' no longer matches its integrity check"]


def test_a_ledger_without_checks_is_accepted_and_sealed_by_the_next_build(project: Path):
    path = project / ledger.LEDGER_PATH
    sealed = path.read_bytes()
    doc = json.loads(sealed)
    for section in ("awards", "issuers"):
        for record in doc[section].values():
            del record["check"]
    for record in doc["keys"]:
        del record["check"]
    old = json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"
    path.write_bytes(old)
    frozen = build(project, frozen=True, keyring=testkeys.keyring())  # CI: accepted, left as it is, and said
    assert frozen.model is not None and not frozen.diagnostics and path.read_bytes() == old
    assert any("has no integrity checks yet: run `badgekiln build` once and commit it" in n for n in frozen.notices)
    upgraded = build(project, keyring=testkeys.keyring())
    assert upgraded.model is not None and not upgraded.diagnostics
    assert path.read_bytes() == sealed
    again = build(project, frozen=True, keyring=testkeys.keyring())
    assert again.model is not None and not any("integrity checks" in n for n in again.notices)


def test_keys_commands_refuse_to_seal_a_hand_edit_again(project: Path, capsys):
    path = project / ledger.LEDGER_PATH
    text = path.read_text()
    record = next(iter(json.loads(text)["awards"].values()))
    path.write_text(text.replace(record["slug"], "a" * 24))
    assert cli.main(["--project", str(project), "keys", "rotate"]) == 2
    assert "error[E305]" in capsys.readouterr().err
    assert record["slug"] not in path.read_text()  # untouched: not re-sealed
