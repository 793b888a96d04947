"""Correcting a published learner's email (issue 10, finding 8): same slug, page and ledger record.

`correct-email` (or `previous_email:` written by hand) moves the award's ledger record to the
new address; the OB 2.0 identity is hashed for it and the OB 3.0 credential signed again.
Changing the address without it is an error at the award's line that says how to correct it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import testkeys
from badgekiln import cli
from badgekiln.credentials.identity import matches
from badgekiln.crypto import dataintegrity, didweb, keys
from conftest import award_dir, build, copy_project, ledger_awards, tree

AWARDS = "badge: safety\nissued_on: 2026-02-01\nawards:\n  - recipient: ada\n  # Bo's\n" \
         "  - name: Bo Li\n    email: bo@example.com\n"


@pytest.fixture
def published(tmp_path: Path) -> Path:
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(AWARDS)
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics, prepared.diagnostics
    return project


def _ledger(project: Path) -> dict:
    return ledger_awards(project)


def _correct(project: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--project", str(project), "correct-email", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _verifies(project: Path, credential: dict) -> bool:
    did_doc = json.loads((project / "_site/.well-known/did.json").read_text())
    return dataintegrity.verify(credential, didweb.did_document_key_resolver(did_doc)).ok


def test_a_changed_email_is_an_error_at_the_award_that_says_how_to_correct_it(published: Path):
    awards = published / "content/awards/2026.yaml"
    awards.write_text(awards.read_text().replace("bo@example.com", "bo.li@example.org"))
    before = tree(published / "_site")
    prepared = build(published, keyring=testkeys.keyring())
    assert prepared.model is None and tree(published / "_site") == before
    [problem] = prepared.diagnostics
    assert (problem.code, problem.location.path, problem.location.line) == ("E303", "content/awards/2026.yaml", 6)
    assert problem.message.startswith("this award's recipient email changed after it was published (it is the "
                                      "award of page ")
    assert "a published recipient identity cannot change silently" in problem.message
    assert "add `previous_email: OLD-ADDRESS` next to the new email" in problem.hint
    assert "badgekiln correct-email " in problem.hint


def test_correct_email_keeps_slug_page_and_record_and_reissues_the_credential(published: Path, capsys):
    site = published / "_site"
    def identity(slug: str) -> str:
        return json.loads((site / award_dir(slug) / "assertion.json").read_text())["recipient"]["identity"]

    bo_key, bo = next((k, v) for k, v in _ledger(published).items()
                      if matches(identity(v["slug"]), v["salt"], "bo@example.com"))
    old_credential = json.loads((site / f"{award_dir(bo['slug'])}/credential.json").read_text())
    code, out, err = _correct(published, capsys, "safety/bo@example.com", "--to", " Bo.Li@Example.org ")
    assert code == 0, err
    assert "corrected the email of the award in content/awards/2026.yaml:6 to bo.li@example.org." in out
    assert f"keeps its page {bo['slug']} and link" in out
    assert (published / "content/awards/2026.yaml").read_text() == AWARDS.replace(
        "    email: bo@example.com\n", "    email: bo.li@example.org\n    previous_email: bo@example.com\n")
    # without the key, the corrected award cannot be published (its credential needs a new signature)
    keyless = build(published, keyring=keys.Keyring())
    assert [(d.code, d.location.line) for d in keyless.diagnostics] == [("E507", 6)]
    prepared = build(published, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics, prepared.diagnostics
    new_key, record = next((k, v) for k, v in _ledger(published).items() if v["slug"] == bo["slug"])
    assert new_key != bo_key and bo_key not in _ledger(published)
    assert {k: v for k, v in record.items() if k not in ("credential", "check")} == {
        k: v for k, v in bo.items() if k not in ("credential", "check")}  # slug, salt, index and dates kept
    assertion = json.loads((site / f"{award_dir(bo['slug'])}/assertion.json").read_text())
    assert matches(assertion["recipient"]["identity"], bo["salt"], "bo.li@example.org")
    assert not matches(assertion["recipient"]["identity"], bo["salt"], "bo@example.com")
    assert (site / f"{award_dir(bo['slug'])}/index.html").is_file()
    credential = json.loads((site / f"{award_dir(bo['slug'])}/credential.json").read_text())
    assert credential != old_credential and credential["id"] == old_credential["id"]
    subject = credential["credentialSubject"]["identifier"][0]
    assert matches(subject["identityHash"], subject["salt"], "bo.li@example.org")
    assert _verifies(published, credential)
    # done: later builds change nothing, with or without previous_email left in content
    again = build(published, keyring=testkeys.keyring())
    assert not again.ledger_changed and not again.diagnostics
    awards = published / "content/awards/2026.yaml"
    awards.write_text(awards.read_text().replace("    previous_email: bo@example.com\n", ""))
    assert not build(published, keyring=testkeys.keyring()).ledger_changed


def test_a_recipients_email_is_corrected_on_the_recipient(published: Path, capsys):
    before = {v["slug"] for v in _ledger(published).values()}
    code, out, err = _correct(published, capsys, "safety/ada", "--to", "ada@lovelace.example")
    assert code == 0, err
    assert "corrected the email of recipient 'ada' (every award of theirs) in content/recipients/people.yaml:1" in out
    assert (published / "content/recipients/people.yaml").read_text() == (
        "- id: ada\n  name: Ada Lovelace\n  email: ada@lovelace.example\n  previous_email: ada@example.com\n")
    prepared = build(published, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics
    assert {v["slug"] for v in _ledger(published).values()} == before


def test_refusals_change_nothing(published: Path, capsys):
    awards = published / "content/awards/2026.yaml"
    before = awards.read_bytes()
    assert _correct(published, capsys, "safety/bo@example.com", "--to", "not-an-address")[0] == 1
    code, _, err = _correct(published, capsys, "safety/bo@example.com", "--to", "ada@example.com")
    assert code == 1 and "error[E302]" in err and "was left as it was" in err  # Ada has that badge already
    code, _, err = _correct(published, capsys, "safety/nobody", "--to", "x@example.com")
    assert code == 1 and "error[E301]" in err
    assert awards.read_bytes() == before
    # previous_email by hand naming an address another award still uses
    awards.write_text(AWARDS + "  - name: Cy Ng\n    email: cy@example.com\n    previous_email: bo@example.com\n")
    prepared = build(published, keyring=testkeys.keyring())
    assert [(d.code, d.location.line) for d in prepared.diagnostics] == [("E302", 10)]
    assert "another award of badge 'safety' in content still has that address" in prepared.diagnostics[0].message
