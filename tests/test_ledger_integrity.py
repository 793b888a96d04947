"""A hand edit of the ledger is caught (issue 10, finding 4): E305 at the record's line, naming the field.

Each record carries a per-field integrity check that needs no secret; ledgers written before
the checks existed, or in one file (format 1), are accepted and rewritten by the next build.
The award files of format 2 are checked as a set: one missing is an error, never a re-mint.
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
from conftest import REPO, build, copy_project, ledger_awards, ledger_files, one_file_ledger, tree


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


def _only_award(project: Path) -> tuple[str, dict, Path]:
    [(key, record)] = ledger_awards(project).items()
    return key, record, project / ledger.record_path(key)


def test_a_checked_award_file_copied_under_another_name_is_refused_by_the_next_build(project: Path):
    """A build remembers the award files that passed their checks (by name and bytes), and skips
    them next time; the same bytes under another file's name are checked again, and refused."""
    key, _, path = _only_award(project)
    assert _run(project, "build").returncode == 0  # remembered: this file, these bytes, passed
    elsewhere = project / ledger.bucket_path("00" if ledger.bucket_of(key) != "00" else "01")
    elsewhere.write_bytes(path.read_bytes())
    site = tree(project / "_site")
    result = _run(project, "build")
    assert result.returncode == 1 and f"award record '{key}' belongs in {ledger.record_path(key)}" in result.stderr
    assert tree(project / "_site") == site


def test_one_changed_salt_is_an_error_at_its_line_naming_the_field(project: Path):
    key, record, path = _only_award(project)
    text = path.read_text()
    path.write_text(text.replace(record["salt"], "0" * 32))
    site = tree(project / "_site")
    for command in ("check", "build"):
        result = _run(project, command)
        assert result.returncode == 1, (command, result.stderr)
        line = _line_of(text, '"salt"')
        assert (f"{ledger.record_path(key)}:{line}:7: error[E305]: award record '{key}' was edited by hand: 'salt' "
                "no longer matches its integrity check\n  hint: restore the ledger from git") in result.stderr
    assert tree(project / "_site") == site


def test_moved_unchecked_and_rewritten_records_and_every_section_are_checked(project: Path):
    key, _, path = _only_award(project)
    good = path.read_text()
    head_path = project / ledger.LEDGER_PATH
    head = head_path.read_text()

    def diagnostics(edited: dict, where: Path = path) -> list[tuple[str, int, str]]:
        where.write_text(json.dumps(edited, indent=2, sort_keys=True) + "\n")
        prepared = build(project, keyring=testkeys.keyring())
        path.write_text(good)
        head_path.write_text(head)
        assert prepared.model is None
        return [(d.location.path, d.location.line, d.message) for d in prepared.diagnostics]

    bucket = ledger.record_path(key)
    moved = json.loads(good)
    other = next(k for k in (f"{key.partition('/')[0]}/{n:016x}" for n in range(5000))
                 if ledger.bucket_of(k) == ledger.bucket_of(key))
    moved["awards"][other] = moved["awards"].pop(key)
    assert diagnostics(moved) == [(bucket, 3, f"award record '{other}' does not match its integrity check at all: "
                                               "it was renamed, moved or rewritten by hand")]
    elsewhere = project / ledger.bucket_path("00" if ledger.bucket_of(key) != "00" else "01")
    elsewhere.write_text(good)  # the record, sealed, copied into another award file
    assert diagnostics(json.loads(good)) == [(elsewhere.relative_to(project).as_posix(), 1,
                                              f"{elsewhere.relative_to(project).as_posix()} cannot be read (award "
                                              f"record '{key}' belongs in {bucket})")]
    elsewhere.unlink()
    unchecked = json.loads(good)
    del unchecked["awards"][key]["check"]
    assert diagnostics(unchecked) == [(bucket, 3, f"award record '{key}' has no integrity check, unlike the rest of "
                                                  "the ledger (was it added or copied by hand?)")]
    two = json.loads(good)
    two["awards"][key]["status_index"] += 1
    two["awards"][key]["expires"] = "2099-01-01T00:00:00Z"
    [(_, line, message)] = diagnostics(two)
    assert message == f"award record '{key}' was edited by hand: 'expires', 'status_index' no longer match its " \
                      "integrity check"
    key_record = json.loads(head)
    key_record["keys"][0]["retired"] = "2026-01-01T00:00:00Z"
    [(where, line, message)] = diagnostics(key_record, head_path)
    assert message.endswith("was edited by hand: 'retired' no longer matches its integrity check")
    assert where == ledger.LEDGER_PATH and message.startswith(f"signing key record '{key_record['keys'][0]['id']}'")
    status = json.loads(head)
    status["issuers"]["acme"]["revocation"]["validFrom"] = "2020-01-01T00:00:00Z"
    assert [m for _, _, m in diagnostics(status, head_path)] == [
        "issuer record 'acme' was edited by hand: 'revocation' no longer matches its integrity check"]


def test_a_missing_award_file_is_an_error_never_new_links(project: Path):
    key, _, path = _only_award(project)
    site = tree(project / "_site")
    path.unlink()
    result = _run(project, "build")
    assert result.returncode == 1
    assert (f"content/ledger.json:1: error[E305]: {ledger.record_path(key)} is missing: it holds published awards, "
            "which would get new links\n  hint: restore it from git (`git checkout content/ledger.json "
            "content/ledger/`)") in result.stderr
    assert tree(project / "_site") == site and not path.exists()


def test_an_award_file_the_head_does_not_list_is_read(project: Path):
    """Two branches merged, each adding an award file: git takes both files; the head lists one."""
    head_path = project / ledger.LEDGER_PATH
    listed = json.loads(head_path.read_text())
    before = ledger_files(project)
    head_path.write_bytes(ledger.seal({**listed, "buckets": []}))
    rebuilt = build(project, keyring=testkeys.keyring())
    assert rebuilt.model is not None and not rebuilt.diagnostics and not rebuilt.ledger_minted
    assert ledger_files(project) == before  # listed again, nothing minted


def test_a_one_file_ledger_without_checks_is_accepted_and_rewritten_by_the_next_build(project: Path):
    """Format 1 (one file, as Badgekiln wrote it before issue 12) and no checks (before issue 10)."""
    current = ledger_files(project)
    site = tree(project / "_site")
    doc = one_file_ledger(project)
    for section in ("awards", "issuers"):
        for record in doc[section].values():
            del record["check"]
    for record in doc["keys"]:
        del record["check"]
    old = json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"
    path = project / ledger.LEDGER_PATH
    path.write_bytes(old)
    frozen = build(project, frozen=True, keyring=testkeys.keyring())  # CI: accepted, left as it is, and said
    assert frozen.model is not None and not frozen.diagnostics and ledger_files(project) == {ledger.LEDGER_PATH: old}
    assert any("written by an older Badgekiln (in one file, or without integrity checks): run `badgekiln build` "
               "once and commit" in n for n in frozen.notices)
    assert tree(project / "_site") == site  # the same site: the same awards at the same links
    upgraded = build(project, keyring=testkeys.keyring())
    assert upgraded.model is not None and not upgraded.diagnostics and not upgraded.ledger_minted
    assert ledger_files(project) == current
    again = build(project, frozen=True, keyring=testkeys.keyring())
    assert again.model is not None and not any("older Badgekiln" in n for n in again.notices)


def test_a_one_file_ledger_half_rewritten_is_finished_by_the_next_build(project: Path):
    """A build killed while writing format 2: award files beside a head still in format 1."""
    current = ledger_files(project)
    doc = one_file_ledger(project)
    (project / ledger.LEDGER_PATH).write_bytes(ledger.seal(doc))
    (project / ledger.AWARDS_DIR).mkdir()
    for path, data in current.items():
        if path != ledger.LEDGER_PATH:
            (project / path).write_bytes(data[: len(data) // 2])  # even torn ones: format 1 ignores them
    finished = build(project, keyring=testkeys.keyring())
    assert finished.model is not None and not finished.diagnostics, finished.diagnostics
    assert ledger_files(project) == current


def test_adding_an_award_rewrites_the_head_and_one_award_file(tmp_path: Path):
    project = copy_project("example", tmp_path)
    build(project, keyring=testkeys.keyring())
    before, published = ledger_files(project), set(ledger_awards(project))
    (project / "content/awards/2026-12-new.yaml").write_text(
        "badge: fire-warden\nissued_on: 2026-11-20\nawards:\n  - name: New Person\n    email: new@example.com\n")
    added = build(project, keyring=testkeys.keyring())
    assert added.model is not None and added.ledger_changed and not added.diagnostics, added.diagnostics
    after = ledger_files(project)
    [new_key] = set(ledger_awards(project)) - published
    changed = {p for p in after if before.get(p) != after[p]}  # the head too, when the award file is new
    assert changed - {ledger.LEDGER_PATH} == {ledger.record_path(new_key)}


def test_keys_commands_refuse_to_seal_a_hand_edit_again(project: Path, capsys):
    _, record, path = _only_award(project)
    path.write_text(path.read_text().replace(record["slug"], "a" * 24))
    head = (project / ledger.LEDGER_PATH).read_bytes()
    assert cli.main(["--project", str(project), "keys", "rotate"]) == 2
    assert "error[E305]" in capsys.readouterr().err
    assert (project / ledger.LEDGER_PATH).read_bytes() == head  # untouched: not re-sealed


def test_the_ledger_keeps_a_hundred_thousand_awards_in_files_a_git_host_takes():
    """Every award file stays small: 256 files, and the key's hash spreads awards evenly."""
    keys = [f"badge/{n:016x}" for n in range(100_000)]
    counts: dict[str, int] = {}
    for key in keys:
        counts[ledger.bucket_of(key)] = counts.get(ledger.bucket_of(key), 0) + 1
    assert len(counts) == 256 and max(counts.values()) < 1.25 * len(keys) / 256


def test_award_files_checked_once_are_not_checked_again_until_their_bytes_change(project: Path, monkeypatch):
    """A rebuild skips the integrity checks of award files whose bytes passed them here before
    (at 10^5 awards those checks are seconds of every build); an edit changes the bytes."""
    from badgekiln.model import ledger_integrity

    verified: list[str] = []
    original = ledger_integrity.verify
    monkeypatch.setattr(ledger_integrity, "verify", lambda doc, text, path, *a, **k: (
        verified.append(path), original(doc, text, path, *a, **k))[1])
    key, record, path = _only_award(project)
    site_yaml = project / "content/site.yaml"
    for _ in range(2):
        verified.clear()
        os.utime(site_yaml, ns=(0, site_yaml.stat().st_mtime_ns + 10**9))  # an input touched: a check runs
        assert build(project, keyring=testkeys.keyring(), incremental=True).model is not None
    assert verified == [ledger.LEDGER_PATH]  # the head is always checked; the award file passed before
    path.write_text(path.read_text().replace(record["salt"], "0" * 32))
    edited = build(project, keyring=testkeys.keyring(), incremental=True)
    assert edited.model is None and [d.code for d in edited.diagnostics] == ["E305"]
    assert ledger.record_path(key) in verified


def test_award_files_a_build_wrote_are_not_checked_by_the_next_until_their_bytes_change(tmp_path: Path, monkeypatch):
    """A build that writes the ledger remembers its award files as passing their checks (it checked
    those it kept and wrote the others from checked records): after a first build, the next one
    checks only the head; an award file edited since is checked, and refused."""
    from badgekiln.model import ledger_integrity

    verified: list[str] = []
    original = ledger_integrity.verify
    monkeypatch.setattr(ledger_integrity, "verify", lambda doc, text, path, *a, **k: (
        verified.append(path), original(doc, text, path, *a, **k))[1])
    project = copy_project("minimal", tmp_path)
    assert build(project, keyring=testkeys.keyring(), incremental=True).model is not None  # the first build
    roster = project / "content/awards/2026.yaml"
    for name in ("Bo Ng", "Cy Li"):  # an award added: a new record, in some award file
        verified.clear()
        roster.write_text(roster.read_text() + f"  - name: {name}\n    email: {name.split()[0].lower()}@example.org\n")
        assert build(project, keyring=testkeys.keyring(), incremental=True).model is not None
        assert verified == [ledger.LEDGER_PATH]  # the award files it read are the ones the last build wrote
    key, record, path = next((k, r, project / ledger.record_path(k)) for k, r in ledger_awards(project).items())
    path.write_text(path.read_text().replace(record["salt"], "0" * 32))
    edited = build(project, keyring=testkeys.keyring(), incremental=True)
    assert edited.model is None and [d.code for d in edited.diagnostics] == ["E305"]
    assert ledger.record_path(key) in verified
