"""Revocation and suspension end to end: content -> OB 2.0 stub and lists -> OB 3.0 status lists.

Revoking changes the status files and the award page, never the signed credential. The status
lists are checked three ways: our decoder against the W3C example vector, our own Data
Integrity verifier, and Digital Bazaar's vc-bitstring-status-list (tests/js/check-status.mjs),
which verifies the list credential and reads the credential's bit like a wallet would.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import testkeys
from badgekiln.commands.editing import Change, apply
from badgekiln.credentials import status_lists
from badgekiln.crypto import dataintegrity, didweb, jsonld
from badgekiln.diagnostics import Report
from badgekiln.model import ledger
from conftest import TESTS, award_dir, build, copy_project, ledger_awards, one_file_ledger, tree
from ob2validator import serve_directory, validate
from test_independent_verifier import JS_DIR, require_node

BASE = "https://badges.minimal.example/"

AWARDS = """badge: safety
issued_on: 2026-02-01
awards:
  # the first award
  - recipient: ada
  - name: Bob Brown
    email: bob@example.com
  - name: Cleo Diaz
    email: cleo@example.com
"""


def _project(tmp_path: Path, credential_status: str | None = None) -> Path:
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(AWARDS)
    if credential_status:
        _set_credential_status(project, credential_status)
    return project


def _set_credential_status(project: Path, form: str) -> None:
    site_yaml = project / "content/site.yaml"
    text = site_yaml.read_text().split("signing:")[0]
    site_yaml.write_text(text + f"signing:\n  credential_status: {form}\n")


def _build(project: Path, out: Path | None = None, **options):
    prepared = build(project, out, keyring=testkeys.keyring(), **options)
    assert prepared.model is not None and not prepared.report.has_errors(), prepared.diagnostics
    return prepared


def _award(prepared, name: str):
    return next(a for a in prepared.model.awards if a.recipient_name == name)


def _change(project: Path, action: str, ref: str, reason: str = "", on: str = "2026-06-01") -> None:
    from badgekiln.validate.values import parse_datetime

    report, message = apply(project, Change(action, ref, reason, parse_datetime(on)), Report())
    assert not report.has_errors(), report.sorted()


def _bits(site: Path, purpose: str) -> bytes:
    doc = json.loads((site / f"status/acme/{purpose}.json").read_text())
    return status_lists.decode(doc["credentialSubject"]["encodedList"])


# --- the bitstring ---------------------------------------------------------------------------

def test_decoder_reads_the_w3c_example_list():
    vector = json.loads((TESTS / "vectors/misc/bitstring-status-list.json").read_text())
    bits = status_lists.decode(vector["encodedList"])
    assert len(bits) == vector["expected"]["decodedByteLength"] and not any(bits)


def test_encoding_is_multibase_gzip_with_the_spec_bit_order_and_deterministic():
    encoded = status_lists.encode([0, 9, ledger.STATUS_LIST_SIZE - 1])
    assert encoded.startswith("uH4sI") and "=" not in encoded  # "u" + base64url(gzip), no padding
    assert encoded == status_lists.encode([ledger.STATUS_LIST_SIZE - 1, 9, 0])
    bits = status_lists.decode(encoded)
    assert len(bits) * 8 == ledger.STATUS_LIST_SIZE == 131072  # herd privacy: the spec minimum
    assert bits[0] == 0x80 and bits[1] == 0x40 and bits[-1] == 0x01 and sum(map(bool, bits)) == 3
    assert [status_lists.bit(bits, i) for i in (0, 1, 9, 131071)] == [True, False, True, True]
    with pytest.raises(status_lists.StatusListError):
        status_lists.encode([ledger.STATUS_LIST_SIZE])


# --- revoke / suspend / reinstate through the build -------------------------------------------

def test_revoking_changes_status_files_and_page_but_never_the_credential(tmp_path: Path):
    project = _project(tmp_path)
    first = _build(project)
    site = project / "_site"
    bob = _award(first, "Bob Brown")
    before = tree(site)
    credential = json.loads(before[f"{award_dir(bob.slug)}/credential.json"])
    # the default: one entry, as OB 3.0 ([0..1]) and its JSON schemas require
    assert credential["credentialStatus"] == {
        "id": f"{BASE}status/acme/revocation.json#{bob.status_index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": str(bob.status_index),
        "statusListCredential": f"{BASE}status/acme/revocation.json"}
    assert not any(_bits(site, "revocation"))
    profile = json.loads(before["issuers/acme.json"])
    assert profile["revocationList"] == f"{BASE}status/acme/ob2-revocations.json"

    _change(project, "revoke", "safety/bob@example.com", "Issued to the wrong person.")
    second = _build(project)
    after = tree(site)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    data_files = [p for p in changed if not p.endswith(".html")]  # pages list or show awards in many places
    assert data_files == sorted([
        f"{award_dir(bob.slug)}/assertion.json",
        "status/acme/1edtech-revocations.json", "status/acme/ob2-revocations.json",
        "status/acme/revocation.json",  # re-signed with a new validFrom; the suspension list did not change
    ]), changed
    assert f"{award_dir(bob.slug)}/index.html" in changed
    credential = f"{award_dir(bob.slug)}/credential.json"
    assert after[credential] == before[credential]  # never re-signed
    assert json.loads(after[f"{award_dir(bob.slug)}/assertion.json"]) == {
        "@context": "https://w3id.org/openbadges/v2", "id": f"{BASE}{award_dir(bob.slug)}/assertion.json",
        "revoked": True, "revocationReason": "Issued to the wrong person."}
    bits = _bits(site, "revocation")
    assert status_lists.bit(bits, bob.status_index) and sum(map(bool, bits)) == 1
    assert not any(_bits(site, "suspension"))
    assert json.loads(after["status/acme/ob2-revocations.json"])["revokedAssertions"] == [
        {"id": f"{BASE}{award_dir(bob.slug)}/assertion.json", "revocationReason": "Issued to the wrong person."}]
    oneedtech = json.loads(after["status/acme/1edtech-revocations.json"])
    assert oneedtech["revokedCredential"] == oneedtech["revokedCredentials"] == [
        {"id": f"{BASE}{award_dir(bob.slug)}/credential.json", "revoked": True,
         "revocationReason": "Issued to the wrong person."}]
    page = after[f"{award_dir(bob.slug)}/index.html"].decode()
    assert "status--revoked" in page and "Issued to the wrong person." in page
    assert _award(second, "Bob Brown").revocation.on.date().isoformat() == "2026-06-01"


def test_suspension_is_reversible_and_reinstating_restores_every_file(tmp_path: Path):
    project = _project(tmp_path)
    first = _build(project)
    site = project / "_site"
    cleo = _award(first, "Cleo Diaz")
    original = tree(site)
    _change(project, "suspend", "safety/Cleo Diaz", "Under review.", on="2026-05-01")
    _build(project)
    assert status_lists.bit(_bits(site, "suspension"), cleo.status_index)
    assert not any(_bits(site, "revocation"))
    stub = json.loads((site / f"{award_dir(cleo.slug)}/assertion.json").read_text())
    assert stub["revoked"] is True and stub["revocationReason"] == "Suspended: Under review."
    assert "status--suspended" in (site / f"{award_dir(cleo.slug)}/index.html").read_text()
    _change(project, "reinstate", cleo.slug, "Review complete.", on="2026-05-20")
    third = _build(project)
    assert third.model.awards and _award(third, "Cleo Diaz").suspension is None
    assert _award(third, "Cleo Diaz").reinstatement.reason == "Review complete."
    restored = tree(site)
    assert not any(_bits(site, "suspension"))
    assert restored[f"{award_dir(cleo.slug)}/assertion.json"] == original[f"{award_dir(cleo.slug)}/assertion.json"]
    assert restored[f"{award_dir(cleo.slug)}/credential.json"] == original[f"{award_dir(cleo.slug)}/credential.json"]


def test_status_lists_are_signed_credentials_from_the_credentials_issuer(tmp_path: Path):
    project = _project(tmp_path)
    _change_first = _build(project)
    _change(project, "revoke", "safety/ada", "Withdrawn.")
    _build(project)
    site = project / "_site"
    did_doc = json.loads((site / ".well-known/did.json").read_text())
    resolve = didweb.did_document_key_resolver(did_doc)
    ada = _award(_change_first, "Ada Lovelace")
    credential = json.loads((site / f"{award_dir(ada.slug)}/credential.json").read_text())
    for purpose in status_lists.PURPOSES:
        doc = json.loads((site / f"status/acme/{purpose}.json").read_text())
        assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
        assert doc["issuer"] == credential["issuer"]["id"] == did_doc["id"]
        assert doc["credentialSubject"] == {**doc["credentialSubject"], "type": "BitstringStatusList",
                                            "statusPurpose": purpose, "id": f"{BASE}status/acme/{purpose}.json#list"}
        # the latest content date when the list last changed, never the clock: the suspension list
        # is still the one signed at the first build (frozen in the ledger), the revocation list was
        # signed again on revoking
        expected = "2026-06-01T00:00:00Z" if purpose == "revocation" else "2026-02-01T00:00:00Z"
        assert doc["validFrom"] == expected
        assert dataintegrity.verify(doc, resolve).ok


def test_status_files_are_deterministic(tmp_path: Path):
    project = _project(tmp_path)
    _build(project)
    _change(project, "suspend", "safety/ada", "Paused.")
    _build(project, tmp_path / "one")
    _build(project, tmp_path / "two")
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert one == two
    assert any(p.startswith("status/") for p in one)


@pytest.mark.parametrize("form", ["single", "list"])
def test_independent_verifier_reads_the_status_bits(tmp_path: Path, form: str):
    node = require_node()
    project = _project(tmp_path, form)
    first = _build(project)
    _change(project, "revoke", "safety/bob@example.com", "Issued to the wrong person.")
    _change(project, "suspend", "safety/Cleo Diaz", "Under review.")
    _build(project)
    site = project / "_site"
    files = [site / award_dir(_award(first, n).slug) / "credential.json"
             for n in ("Ada Lovelace", "Bob Brown", "Cleo Diaz")]
    completed = subprocess.run([node, str(JS_DIR / "check-status.mjs"), "--contexts", str(jsonld.CONTEXTS_DIR),
                                "--site", str(site), "--base-url", BASE, *map(str, files)],
                               cwd=JS_DIR, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    expected = [{"revocation": False, "suspension": False}, {"revocation": True, "suspension": False},
                {"revocation": False, "suspension": True}]
    if form == "single":  # the credential names the revocation list only
        expected = [{"revocation": bits["revocation"]} for bits in expected]
    assert [(r["verified"], r["statusVerified"], r["status"]) for r in lines] == [
        (True, True, bits) for bits in expected], lines


def test_credential_status_form_is_frozen_per_credential(tmp_path: Path):
    """Changing `credential_status` shapes new credentials only; issued ones keep theirs."""
    project = _project(tmp_path)
    first = _build(project)
    site = project / "_site"
    before = tree(site)
    records = ledger_awards(project)
    assert {r["credential"]["status"] for r in records.values()} == {"single"}
    _set_credential_status(project, "list")
    (project / "content/awards/2026.yaml").write_text(AWARDS + "  - name: Dee Evans\n    email: dee@example.com\n")
    second = _build(project)
    assert not second.diagnostics, second.diagnostics
    after = tree(site)
    for award in first.model.awards:
        path = f"{award_dir(award.slug)}/credential.json"
        assert after[path] == before[path], path
    dee = json.loads(after[f"{award_dir(_award(second, 'Dee Evans').slug)}/credential.json"])
    assert [(e["type"], e.get("statusPurpose")) for e in dee["credentialStatus"]] == [
        ("BitstringStatusListEntry", "revocation"), ("BitstringStatusListEntry", "suspension"),
        ("1EdTechRevocationList", None)]
    assert "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json" in dee["@context"]
    # a record from before the setting existed (no "status", and no integrity checks either: an
    # older Badgekiln wrote it) was signed with the list
    ledger_doc = one_file_ledger(project)
    for record in ledger_doc["awards"].values():
        record["credential"].pop("status")
    for section in ("awards", "issuers"):
        for record in ledger_doc[section].values():
            record.pop("check")
    for record in ledger_doc["keys"]:
        record.pop("check")
    (project / ledger.LEDGER_PATH).write_text(json.dumps(ledger_doc))
    legacy = build(project, keyring=testkeys.keyring())
    # Dee's list-form credential still matches; the three single-form ones now read as lists
    assert [d.code for d in legacy.diagnostics] == ["E502"] * 3, legacy.diagnostics
    assert {d.message.split(":")[0] for d in legacy.diagnostics} == {"this award changed (status list entry)"}


def test_ims_validator_reports_a_revoked_hosted_assertion(tmp_path: Path):
    project = _project(tmp_path)
    _build(project)
    _change(project, "revoke", "safety/bob@example.com", "Issued to the wrong person.")
    served = tmp_path / "served"
    served.mkdir()
    with serve_directory(served) as base:
        prepared = build(project, served / "site", base_url=base + "site/")
        assert prepared.model is not None, prepared.diagnostics
        bob, ada = _award(prepared, "Bob Brown"), _award(prepared, "Ada Lovelace")
        urls = [f"{base}site/{award_dir(a.slug)}/assertion.json" for a in (bob, ada)]
        revoked, valid = validate(urls)
    assert valid["valid"] is True, valid  # a Profile with revocationList still validates
    assert revoked["valid"] is False and revoked["errorCount"] == 1, revoked
    [message] = revoked["messages"]
    assert "Chosen OBClass None not implemented yet" in message["result"], revoked


def test_example_content_shows_every_state(tmp_path: Path):
    project = copy_project("example", tmp_path)
    prepared = build(project)
    assert prepared.model is not None, prepared.diagnostics
    awards = prepared.model.awards
    from badgekiln.render.award_state import expiry_state
    from conftest import FIXED_NOW

    current = [a for a in awards if a.revocation is None and a.suspension is None and (a.cpd is None or a.cpd.current)]
    states = {expiry_state(a.expires, FIXED_NOW) for a in current}
    assert {"valid", "expiring", "expired"} <= states
    assert any(a.revocation for a in awards) and any(a.suspension for a in awards)
    assert any(a.reinstatement for a in awards)
    assert any(a.cpd and a.cpd.number >= 1 for a in awards)  # renewed through CPD
    lapsed = [a for a in awards if a.cpd and a.cpd.current and a.cpd.lapses_on and a.cpd.lapses_on < FIXED_NOW]
    assert lapsed, "a CPD badge that lapsed"
    assert not prepared.ledger_changed, "the example's ledger is committed up to date"


def test_verify_reports_revoked_suspended_expired_lapsed_and_renewed(tmp_path: Path):
    from badgekiln.verify import checker
    from conftest import FIXED_NOW

    project = copy_project("example", tmp_path)
    prepared = _build(project)
    site = project / "_site"

    def pick(test):
        return next(a for a in prepared.model.awards if test(a))

    cases = {
        "revoked": pick(lambda a: a.revocation is not None),
        "suspended": pick(lambda a: a.suspension is not None),
        "expired": pick(lambda a: a.cpd is None and a.expires and a.expires < FIXED_NOW),
        "lapsed": pick(lambda a: a.cpd and a.cpd.current and a.cpd.lapses_on < FIXED_NOW),
        "renewed": pick(lambda a: a.cpd and a.cpd.renewed_by and a.expires < FIXED_NOW),
        "valid": pick(lambda a: a.revocation is None and a.suspension is None and a.cpd is None
                      and a.expires and a.expires.year >= 2028),
    }

    def checks(award, json_name):
        result = checker.verify(str(site / award_dir(award.slug) / json_name), site=site, now=FIXED_NOW,
                                network=False)
        [finding] = result.findings
        return finding.valid, {c.name: (c.ok, c.message) for c in finding.checks}

    for suffix in ("credential.json", "assertion.json"):  # OB 3.0 credential, OB 2.0 hosted assertion
        valid, found = checks(cases["valid"], suffix)
        assert valid, found
        valid, found = checks(cases["lapsed"], suffix)
        assert not valid and found["renewal"][0] is False, found
        assert found["renewal"][1].startswith(f"lapsed on {cases['lapsed'].expires.date()}: the 20 CPD points "
                                              "every 12 months needed to renew it were not logged")
        valid, found = checks(cases["renewed"], suffix)
        assert not valid and found["dates"][1].startswith("expired on")
        assert found["renewal"][0] is None and "renewed through CPD; the current credential is" in found["renewal"][1]
        valid, found = checks(cases["expired"], suffix)
        assert not valid and found["dates"] == (False, f"expired on {cases['expired'].expires.date()}")
        assert "renewal" not in found
    valid, found = checks(cases["revoked"], "credential.json")
    assert not valid and found["status"] == (
        False, f"revoked by the issuer: {cases['revoked'].revocation.reason}"), found
    valid, found = checks(cases["suspended"], "credential.json")
    assert not valid and found["status"] == (
        False, f"suspended by the issuer: {cases['suspended'].suspension.reason}"), found
    valid, found = checks(cases["valid"], "credential.json")
    assert found["status"] == (True, "not revoked or suspended (revocation list, suspension list, "
                                     "1EdTech revocation list)")
