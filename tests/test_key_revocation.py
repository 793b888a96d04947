"""`keys revoke`: a leaked signing key stops vouching for anything, on the real example site.

The example is signed with the TEST-ONLY key, the key is rotated and then revoked (it leaked),
and the site is rebuilt. Every credential must then carry a proof by the new key that Digital
Bazaar's verifier accepts against the new DID document, while a copy signed with the leaked
key fails there and in our own `verify`. The leaked key is refused at build time (E505), and
a site left with no key to re-sign with fails to build (E506) without touching the old site.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import stat
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import testkeys
from badgekiln import bake, cli
from badgekiln.crypto import jws, keys
from badgekiln.diagnostics import Report, format_text
from badgekiln.model import ledger
from conftest import FIXED_NOW, award_dir, baked_downloads, build, copy_project, ledger_awards, ledger_files, tree
from test_independent_verifier import run_verifier

DID = "did:web:badges.northwind-academy.example"
OLD_ID = testkeys.signing_key().id
REVOKED_AT = FIXED_NOW + timedelta(hours=1)
REBUILT_AT = FIXED_NOW + timedelta(days=1)
REASON = "laptop stolen"


def _epoch(when) -> str:
    return str(int(when.timestamp()))


def _cli(*argv: str, at=REVOKED_AT) -> tuple[int, str, str]:
    """Run the command line at a fixed clock, capturing what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setenv("SOURCE_DATE_EPOCH", _epoch(at))
        mp.delenv(keys.ENV_VAR, raising=False)
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _keyring(project: Path) -> keys.Keyring:
    """The keys in the project's keys/ folder only (never the developer's environment)."""
    report = Report()
    ring = keys.load_keyring(project, {}, report)
    assert not report.items, format_text(report.items)
    return ring


def _credentials(site: Path) -> list[Path]:
    return sorted((site / "a").glob("*/*/credential.json"))


def _leaks(data: bytes) -> list[int]:
    return [i for i, p in enumerate(testkeys.secret_patterns()) if p in data]


@pytest.fixture(scope="module")
def revoked(tmp_path_factory):
    """Sign with the test key, `keys rotate`, `keys revoke <old>`, rebuild; keep the old site."""
    root = tmp_path_factory.mktemp("revoked")
    project = copy_project("example", root)
    first = build(project, keyring=testkeys.keyring())
    assert first.model is not None and not first.report.has_errors(), format_text(first.diagnostics)
    old_site = root / "old-site"
    shutil.copytree(project / "_site", old_site)
    assert _cli("--project", str(project), "keys", "rotate")[0] == 0
    [new_file] = sorted((project / "keys").glob("*.key.json"))
    code, out, err = _cli("--project", str(project), "keys", "revoke", OLD_ID, "--reason", REASON)
    assert code == 0, err
    prepared = build(project, keyring=_keyring(project), now=REBUILT_AT)
    assert prepared.model is not None and not prepared.diagnostics, format_text(prepared.diagnostics)
    return SimpleNamespace(project=project, site=project / "_site", old_site=old_site, prepared=prepared,
                           new_id=new_file.name.split(".")[0], revoke_out=out)


def test_every_credential_is_re_signed_by_the_new_key_and_verifies(revoked):
    site, new_id = revoked.site, revoked.new_id
    awards = revoked.prepared.model.awards
    assert f"re-signed {len(awards)} credential(s) signed with revoked key {OLD_ID}" in \
        "\n".join(revoked.prepared.signing.notices)
    for award in awards:
        doc = json.loads((site / f"{award_dir(award.slug)}/credential.json").read_text())
        old = json.loads((revoked.old_site / f"{award_dir(award.slug)}/credential.json").read_text())
        [proof] = doc["proof"]
        assert proof["verificationMethod"] == f"{DID}#key-{new_id}"
        assert proof["created"] == "2026-11-29T12:00:00Z"
        assert {k: v for k, v in doc.items() if k != "proof"} == {k: v for k, v in old.items() if k != "proof"}
        baked = {b.version: b.payload for b in bake.unbake(baked_downloads(site, award)["png"])}
        assert json.loads(baked["ob3"]) == doc
        header = jws.decode((site / f"{award_dir(award.slug)}/credential.jwt").read_text())[0]
        assert header["kid"] == f"{DID}#rsa-{new_id}"
    records = ledger_awards(revoked.project)
    assert {r["credential"]["verificationMethod"] for r in records.values()} == {f"{DID}#key-{new_id}"}
    results = run_verifier(_credentials(site), "--now", "valid-from", did_doc=site / ".well-known/did.json")
    assert len(results) == len(awards) and all(r["verified"] for r in results.values()), results


def test_the_did_document_keeps_the_revoked_key_only_as_revoked(revoked):
    doc = json.loads((revoked.site / ".well-known/did.json").read_text())
    new_id, stamp = revoked.new_id, "2026-11-28T13:00:00Z"
    assert doc["assertionMethod"] == [f"{DID}#key-{new_id}", f"{DID}#rsa-{new_id}"]
    assert doc["authentication"] == [f"{DID}#key-{new_id}"]
    methods = {m["id"]: m for m in doc["verificationMethod"]}
    assert set(methods) == {f"{DID}#{kind}-{kid}" for kind in ("key", "rsa") for kid in (OLD_ID, new_id)}
    assert methods[f"{DID}#key-{OLD_ID}"]["revoked"] == stamp and methods[f"{DID}#key-{OLD_ID}"]["type"] == "Multikey"
    assert methods[f"{DID}#rsa-{OLD_ID}"]["revoked"] == stamp
    assert "revoked" not in methods[f"{DID}#key-{new_id}"] and "revoked" not in methods[f"{DID}#rsa-{new_id}"]
    registry = json.loads((revoked.project / ledger.LEDGER_PATH).read_text())["keys"]
    old = next(k for k in registry if k["id"] == OLD_ID)
    assert (old["revoked"], old["revocationReason"]) == (stamp, REASON) and old["retired"]


def test_ob2_no_longer_names_the_revoked_key(revoked):
    files = tree(revoked.site)
    new_key_url = f"https://badges.northwind-academy.example/issuers/northwind/key-{revoked.new_id}.json"
    assert json.loads(files["issuers/northwind.json"])["publicKey"] == [new_key_url]
    assert f"issuers/northwind/key-{OLD_ID}.json" not in files
    award = revoked.prepared.model.awards[0]
    claims = jws.decode(files[f"{award_dir(award.slug)}/assertion.jws"].decode())[1]
    assert claims["verification"]["creator"] == new_key_url


def test_old_copies_fail_digital_bazaar_and_our_verify(revoked, tmp_path, monkeypatch, capsys):
    model = revoked.prepared.model
    award = next(a for a in model.awards if a.expires and a.expires > REBUILT_AT and a.revocation is None
                 and a.suspension is None and a.cpd is None)
    old = revoked.old_site / award_dir(award.slug)
    copies = {}
    for suffix, name in (("credential.json", "credential.json"), ("credential.jwt", "credential.jwt"),
                         ("ob2.jws", "assertion.jws")):
        copies[suffix] = tmp_path / f"old.{suffix}"
        shutil.copyfile(old / name, copies[suffix])
    copies["png"] = tmp_path / "old.png"  # what the award page's download gave before the key was revoked
    copies["png"].write_bytes(baked_downloads(revoked.old_site, award)["png"])
    [result] = run_verifier([copies["credential.json"]], "--now", "valid-from",
                            did_doc=revoked.site / ".well-known/did.json").values()
    assert result["verified"] is False
    assert f"#key-{OLD_ID}\" not authorized by controller" in result["error"], result["error"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch(REBUILT_AT))
    for suffix in ("credential.json", "credential.jwt", "png"):
        code = cli.main(["verify", str(copies[suffix]), "--site", str(revoked.site)])
        out = capsys.readouterr().out
        assert code == 1, out
        assert "issuer key: the issuer revoked the signing key" in out and "on 2026-11-28" in out, out
    code = cli.main(["verify", str(copies["ob2.jws"]), "--site", str(revoked.site)])
    out = capsys.readouterr().out
    assert code == 1 and "issuer key" in out and "not published by the issuer" in out, out
    # the new copy of the same award is valid, status lists (re-signed by the new key) included
    code = cli.main(["verify", str(revoked.site / f"{award_dir(award.slug)}/credential.json"),
                     "--site", str(revoked.site), "--email", award.email, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["valid"], report


def test_rebuilding_changes_nothing_once_re_signed(revoked, tmp_path):
    again = tmp_path / "example"
    shutil.copytree(revoked.project / "content", again / "content")
    prepared = build(again, frozen=True, keyring=_keyring(revoked.project), now=REBUILT_AT + timedelta(days=3))
    assert prepared.model is not None and not prepared.diagnostics, format_text(prepared.diagnostics)
    assert tree(again / "_site") == tree(revoked.site)


def test_supplying_the_revoked_key_is_refused(revoked, tmp_path):
    project = tmp_path / "example"
    shutil.copytree(revoked.project / "content", project / "content")
    ring = keys.Keyring((*_keyring(revoked.project).keys, testkeys.signing_key()))
    prepared = build(project, keyring=ring)
    assert prepared.model is None and not (project / "_site").exists()
    [problem] = prepared.diagnostics
    assert problem.code == "E505" and problem.location.path == "tests/keys/TEST-ONLY-signing-key.json"
    assert f"signing key {OLD_ID} was revoked on 2026-11-28 ({REASON})" in problem.message
    assert keys.ENV_VAR in problem.hint
    assert _leaks(problem.format().encode()) == []


def test_revoking_the_only_key_stops_the_build_until_a_new_key_exists(tmp_path):
    """The leaked key is the current one and sits in keys/: revoke strips it, E506 until `keys rotate`."""
    project = copy_project("example", tmp_path)
    key_file = project / "keys" / f"{OLD_ID}{keys.KEY_SUFFIX}"
    key_file.parent.mkdir(mode=0o700)
    keys.write_private_file(key_file, testkeys.key_json())
    signed = build(project, keyring=_keyring(project))
    assert signed.model is not None and not signed.diagnostics, format_text(signed.diagnostics)
    site_before = tree(project / "_site")

    code, out, err = _cli("--project", str(project), "keys", "revoke", OLD_ID, "--reason", REASON)
    assert code == 0, err
    assert "It was the current key, so it is retired too" in out
    assert "badgekiln keys rotate" in out and "E506" in out
    assert f"re-signs the {len(signed.model.awards)} credential(s) {OLD_ID} signed" in out
    assert "stop verifying" in out and keys.ENV_VAR in out and ledger.LEDGER_PATH in out
    assert _leaks((out + err).encode()) == []
    stripped = json.loads(key_file.read_text())
    assert stripped["status"] == "revoked" and stripped["revocationReason"] == REASON
    assert "secretKeyMultibase" not in stripped["ed25519"] and "privateKeyPem" not in stripped["rsa"]
    assert _leaks(key_file.read_bytes()) == [] and stat.S_IMODE(key_file.stat().st_mode) == 0o600

    refused = build(project, keyring=_keyring(project), now=REBUILT_AT)
    assert refused.model is None
    [problem] = refused.diagnostics
    assert problem.code == "E506" and problem.location.path == ledger.LEDGER_PATH
    assert f"{len(signed.model.awards)} credential(s) of issuer 'northwind' were signed with revoked key " \
           f"{OLD_ID}" in problem.message
    assert "badgekiln keys rotate" in problem.hint
    assert tree(project / "_site") == site_before

    code, out, err = _cli("--project", str(project), "keys", "rotate")
    assert code == 0, err
    assert f"in place of revoked key {OLD_ID}" in out
    rebuilt = build(project, keyring=_keyring(project), now=REBUILT_AT)
    assert rebuilt.model is not None and not rebuilt.diagnostics, format_text(rebuilt.diagnostics)
    site = project / "_site"
    results = run_verifier(_credentials(site), "--now", "valid-from", did_doc=site / ".well-known/did.json")
    assert all(r["verified"] for r in results.values())
    assert _leaks(b"".join(tree(site).values())) == []


def test_keys_list_shows_the_revocation_and_its_reason(revoked):
    code, out, _ = _cli("--project", str(revoked.project), "keys", "list")
    assert code == 0
    [row] = [line for line in out.splitlines() if line.startswith(OLD_ID + " ") and "every issuer" in line]
    assert "REVOKED 2026-11-28" in row
    assert f"{OLD_ID} was revoked on 2026-11-28: {REASON}" in out


def test_the_revoke_message_says_what_happens_next(revoked):
    out = revoked.revoke_out
    assert out.startswith(f"Revoked signing key {OLD_ID} (every issuer): {REASON}\n")
    assert "It was the current key" not in out  # `keys rotate` had already retired it
    assert "keys rotate" not in out  # a replacement exists
    assert f"with the current key {revoked.new_id}" in out
    assert "copies" in out and "stop verifying" in out
    assert f"Commit {ledger.LEDGER_PATH}" in out and f"Update the {keys.ENV_VAR} secret" in out


def test_unknown_and_already_revoked_keys_are_command_errors(revoked):
    project = str(revoked.project)
    code, _, err = _cli("--project", project, "keys", "revoke", OLD_ID[:-1] + "x", "--reason", "typo")
    assert code == 2
    assert f"unknown key '{OLD_ID[:-1]}x'" in err and f"did you mean '{OLD_ID}'?" in err
    assert f"known keys: {OLD_ID}, {revoked.new_id}" in err
    before = ledger_files(revoked.project)
    code, _, err = _cli("--project", project, "keys", "revoke", OLD_ID, "--reason", "again")
    assert code == 2 and f"key {OLD_ID} was already revoked on 2026-11-28 ({REASON})" in err
    code, _, err = _cli("--project", project, "keys", "revoke", revoked.new_id, "--reason", "   ")
    assert code == 2 and "--reason" in err
    assert ledger_files(revoked.project) == before


def test_registry_round_trips_revocations_and_reads_old_ledgers():
    public = testkeys.signing_key().public
    old_json = public.as_json()
    assert "revoked" not in old_json and "revocationReason" not in old_json  # old ledgers keep their bytes
    assert keys.PublicKey.from_json(old_json) == public
    revoked_key = keys.PublicKey.from_json({**old_json, "retired": "2026-11-28T13:00:00Z",
                                            "revoked": "2026-11-28T13:00:00Z", "revocationReason": REASON})
    assert (revoked_key.revoked, revoked_key.revocation_reason) == ("2026-11-28T13:00:00Z", REASON)
    assert keys.PublicKey.from_json(revoked_key.as_json()) == revoked_key
    with pytest.raises(keys.KeyProblem, match="revoked"):
        keys.PublicKey.from_json({**old_json, "revoked": 1})
    stripped = keys.key_file_json(revoked_key, None, None)
    assert stripped["status"] == "revoked" and keys.parse_key_object(stripped, "x") == revoked_key
