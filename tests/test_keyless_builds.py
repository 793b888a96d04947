"""Builds without the signing key (issue 10, finding 2): republish what the ledger froze, or fail.

A CI run whose secret is missing, or a laptop without the key file, must never deploy a site
with fewer verification files than the ledger says exist: the signed status lists are frozen
in the ledger like the credentials and republished byte for byte while no status changes;
anything that needs a new signature stops a CI or --frozen build, and stops any build when
the alternative would be a missing or stale list.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import testkeys
from badgekiln.commands.editing import Change, apply
from badgekiln.crypto import keys
from badgekiln.diagnostics import Report
from badgekiln.model import ledger
from badgekiln.validate.values import parse_datetime
from conftest import REPO, build, build_result, copy_project, tree

LISTS = ("status/acme/revocation.json", "status/acme/suspension.json")


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    """The minimal site with two awards, built once with the key: credentials and status lists frozen."""
    project = copy_project("minimal", tmp_path)
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text() + "  - name: Bo Li\n    email: bo@example.com\n")
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics, prepared.diagnostics
    return project


def _revoke(project: Path, who: str) -> None:
    report, _ = apply(project, Change("revoke", who, "Issued in error", parse_datetime("2026-06-01")), Report())
    assert not report.has_errors(), report.sorted()  # an edit needs no key


def _cli(project: Path, *args: str, ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", keys.ENV_VAR)}
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_the_ledger_freezes_each_signed_status_list(signed: Path):
    doc = json.loads((signed / ledger.LEDGER_PATH).read_text())
    lists = doc["issuers"]["acme"]
    assert sorted(lists) == ["check", "revocation", "suspension"]
    for purpose in ("revocation", "suspension"):
        published = json.loads((signed / f"_site/status/acme/{purpose}.json").read_text())
        assert lists[purpose]["proof"] == published["proof"][0]
        assert lists[purpose]["validFrom"] == published["validFrom"]


def test_without_the_key_the_last_signed_lists_are_republished_byte_for_byte(signed: Path, tmp_path: Path):
    site = tree(signed / "_site")
    local = build_result(signed, tmp_path / "local", keyring=keys.Keyring())
    assert local.ok and [d.code for d in local.checked.diagnostics] == [], local.checked.diagnostics
    for path in LISTS:
        assert (tmp_path / "local" / path).read_bytes() == site[path], path
    ci = _cli(signed, "build", "--frozen", "--out", str(tmp_path / "ci"), ci=True)
    assert ci.returncode == 0, ci.stderr
    assert tree(tmp_path / "ci") == tree(tmp_path / "local")


def test_a_status_change_without_the_key_fails_instead_of_publishing_a_stale_list(signed: Path):
    before = tree(signed / "_site")
    _revoke(signed, "safety/ada")
    for ci in (False, True):
        refused = _cli(signed, "build", ci=ci)
        assert refused.returncode == 1, refused.stderr
        assert ("content/ledger.json:1: error[E507]: no usable signing key (keys/ or $BADGEKILN_SIGNING_KEYS), "
                "and publishing without it would drop signed files the ledger records as published: the "
                "revocation status list of issuer 'acme' changed and must be signed again") in refused.stderr
        assert tree(signed / "_site") == before
    assert "hint: set the BADGEKILN_SIGNING_KEYS secret" in refused.stderr  # the CI run's fix
    ledger_before = (signed / ledger.LEDGER_PATH).read_bytes()
    with_key = build(signed, keyring=testkeys.keyring())
    assert with_key.model is not None and not with_key.diagnostics
    assert (signed / ledger.LEDGER_PATH).read_bytes() != ledger_before  # the new list is recorded
    resigned = tree(signed / "_site")
    assert resigned["status/acme/revocation.json"] != before["status/acme/revocation.json"]
    assert resigned["status/acme/suspension.json"] == before["status/acme/suspension.json"]  # unchanged, not re-signed
    again = _cli(signed, "build", "--frozen", ci=True)  # and from now on CI needs no key again
    assert again.returncode == 0, again.stderr
    assert {p: tree(signed / "_site")[p] for p in LISTS} == {p: resigned[p] for p in LISTS}


def test_a_new_award_needs_the_key_in_ci_and_warns_on_a_laptop(signed: Path):
    awards = signed / "content/awards/2026.yaml"
    awards.write_text(awards.read_text() + "  - name: Cy Ng\n    email: cy@example.com\n")
    ci = _cli(signed, "build", ci=True)
    assert ci.returncode == 1
    assert ("error[E507]: no usable signing key (keys/ or $BADGEKILN_SIGNING_KEYS), but this CI build must sign: "
            "1 award(s) have no signed Open Badges 3.0 credential") in ci.stderr
    laptop = build(signed, keyring=keys.Keyring())
    assert laptop.model is not None and [d.code for d in laptop.diagnostics] == ["W501"]
    assert "1 award(s) have no signed Open Badges 3.0 credential" in laptop.diagnostics[0].message


def test_the_writer_never_publishes_fewer_verification_files_than_the_ledger_records(signed: Path, monkeypatch):
    """The last line of defence: whatever produced the files, a missing recorded one aborts the swap."""
    before = tree(signed / "_site")
    from badgekiln.pipeline import assemble  # (the build imports it when it has something to publish)

    real = assemble.all_artifacts

    def losing_a_credential(*args, **kwargs):
        return (a for a in real(*args, **kwargs) if not a.path.endswith("/credential.json"))

    monkeypatch.setattr(assemble, "all_artifacts", losing_a_credential)
    result = build_result(signed, keyring=testkeys.keyring())
    assert not result.written and tree(signed / "_site") == before
    [problem] = result.checked.diagnostics
    assert problem.code == "E507" and problem.message.startswith("2 signed file(s) the ledger records as published "
                                                                 "would be missing (a/")


def test_expected_files_name_exactly_the_paths_never_struck_off():
    """The writer's tally of recorded verification files (a hash each, not the paths): the paths it
    names as missing are made again from the model, so only those never published or kept."""
    from badgekiln.credentials.published import ExpectedFiles

    paths = [f"a/{n % 7:02}/learner-{n}/credential.json" for n in range(2000)] + ["status/acme/revocation.json"]
    made = []
    expected = ExpectedFiles(lambda: made.append(1) or [*paths, paths[0]])  # (a path given twice counts once)
    assert len(expected) == len(paths) and expected.missing() == sorted(paths)
    for path in paths[1:]:
        expected.strike(path)
    expected.strike("a/00/someone-else/credential.json")  # not recorded: no effect
    calls = len(made)
    assert expected.missing() == [paths[0]]
    assert expected.missing(lambda path: not path.startswith("a/00/")) == []
    expected.strike(paths[0])
    assert expected.missing() == [] and len(made) == calls + 2  # made again only while one is missing
