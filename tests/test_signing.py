"""Signed Open Badges 3.0 credentials on the real example site, checked by tools we did not write.

The example is built with the TEST-ONLY key (tests/keys/). Each credential must match both
1EdTech JSON schemas, verify with Digital Bazaar's Data Integrity stack (node) against the
DID document the build published, and its VC-JWT must verify with WebCrypto. Issued
credentials are frozen in the ledger: key rotation, a missing key, or a rebuild in another
process never change them; content that would change them is refused until `--reissue`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import testkeys
from badgekiln import bake, canonical
from badgekiln.credentials import ob3, signing
from badgekiln.crypto import dataintegrity, didweb, jws, keys
from badgekiln.diagnostics import format_text
from badgekiln.model import ledger
from conftest import (
    FIXED_NOW,
    REPO,
    SeededMinter,
    award_dir,
    baked_downloads,
    build,
    copy_project,
    ledger_awards,
    ledger_files,
    one_file_ledger,
    tree,
)
from jsonschema import Draft201909Validator
from test_independent_verifier import JS_DIR, require_node, run_verifier

SCHEMAS = REPO / "generator" / "data" / "schemas"
DID = "did:web:badges.northwind-academy.example"
KEY_ID = testkeys.signing_key().id


def _credentials(project: Path) -> list[Path]:
    return sorted((project / "_site" / "a").glob("*/*/credential.json"))


def _did_doc(project: Path) -> dict:
    return json.loads((project / "_site/.well-known/did.json").read_text())


def test_every_award_gets_every_signed_form(signed):
    project, prepared = signed
    site = project / "_site"
    files = tree(site)
    assert prepared.model.site.vc_jwt and prepared.model.site.ob2_signed  # the example exercises every form
    for award in prepared.model.awards:
        stem = award_dir(award.slug)
        credential = json.loads(files[f"{stem}/credential.json"])
        assert files[f"{stem}/credential.json"] == canonical.json_bytes(credential)
        assert files[f"{stem}/credential.jwt"].count(b".") == 2
        assert files[f"{stem}/assertion.jws"].count(b".") == 2
        # the default: per award only its page and JSON; images are baked when downloaded
        assert sorted(p for p in files if p.startswith(stem + "/")) == [
            f"{stem}/{name}" for name in ("assertion.json", "assertion.jws", "credential.json", "credential.jwt",
                                          "index.html")]
        # one PNG carries both: the hosted OB 2.0 assertion and the signed OB 3.0 credential
        baked = baked_downloads(site, award)
        assert {b.version: json.loads(b.payload) for b in bake.unbake(baked["png"])} == {
            "ob2": json.loads(files[f"{stem}/assertion.json"]), "ob3": credential}
        if "svg" in baked:  # one prefix per SVG: OB 2.0 in one, OB 3.0 in the other, directly after <svg ...>
            assert [b.version for b in bake.unbake(baked["svg"])] == ["ob2"]
            svg3 = baked["credential-svg"]
            [found] = bake.unbake(svg3)
            assert found.version == "ob3" and found.verify is None and json.loads(found.payload) == credential
            root_end = svg3.index(b">", svg3.index(b"<svg")) + 1
            assert svg3[root_end:].startswith(b"<openbadges:credential><![CDATA[{")
            assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in svg3[:root_end]
    did_doc = json.loads(files[".well-known/did.json"])
    assert did_doc["id"] == DID
    assert did_doc["assertionMethod"] == [f"{DID}#key-{KEY_ID}", f"{DID}#rsa-{KEY_ID}"]
    key_doc = json.loads(files[f"issuers/northwind/key-{KEY_ID}.json"])
    assert key_doc["type"] == "CryptographicKey" and key_doc["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    profile = json.loads(files["issuers/northwind.json"])
    assert profile["publicKey"] == [key_doc["id"]]


def test_credential_shape_follows_the_digest(signed):
    project, prepared = signed
    award = next(a for a in prepared.model.awards if a.evidence)
    doc = json.loads((project / f"_site/{award_dir(award.slug)}/credential.json").read_text())
    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                               "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]
    assert doc["id"] == f"https://badges.northwind-academy.example/{award_dir(award.slug)}/credential.json"
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["issuer"]["id"] == DID and doc["issuer"]["type"] == ["Profile"]
    assert doc["issuer"]["image"] == {"id": "https://badges.northwind-academy.example/issuers/northwind.png",
                                      "type": "Image"}
    [identifier] = doc["credentialSubject"]["identifier"]
    assert identifier["identityType"] == "emailAddress" and identifier["hashed"] is True
    assert identifier["salt"] == award.salt and identifier["identityHash"].startswith("sha256$")
    achievement = doc["credentialSubject"]["achievement"]
    assert {"criteria", "image", "alignment", "creditsAvailable", "achievementType"} <= set(achievement)
    assert achievement["alignment"][0]["type"] == ["Alignment"]
    assert doc["validFrom"] == "2026-03-13T00:00:00Z" and doc["validUntil"] == "2029-03-13T00:00:00Z"
    assert doc["evidence"] == [{"type": ["Evidence"], "id": award.evidence[0].url, "name": award.evidence[0].name}]
    assert doc["credentialSchema"] == [{"id": ob3.SCHEMA_ID, "type": "1EdTechJsonSchemaValidator2019"}]
    [proof] = doc["proof"]
    assert proof == {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                     "created": "2026-11-28T12:00:00Z", "verificationMethod": f"{DID}#key-{KEY_ID}",
                     "proofPurpose": "assertionMethod", "proofValue": proof["proofValue"]}
    # the extensions context only when a 1EdTech type is used
    assert ob3.contexts_for({"type": ["VerifiableCredential"]}) == doc["@context"][:2]
    assert ob3.contexts_for({"credentialStatus": {"type": "1EdTechRevocationList"}}) == doc["@context"]


SCHEMA_NAMES = ["formal/ob_v3p0_achievementcredential_schema.formal.json", "ob_v3p0_achievementcredential_schema.json"]


def _schema_errors(name: str, doc: dict) -> list[str]:
    schema = json.loads((SCHEMAS / name).read_text())
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_credential_matches_the_1edtech_schema(signed, name):
    project, _ = signed
    problems = {}
    for path in _credentials(project):
        errors = _schema_errors(name, json.loads(path.read_text()))
        if errors:
            problems[path.name] = errors
    assert len(_credentials(project)) >= 40
    assert problems == {}


def test_list_form_credential_status_is_the_only_schema_deviation_and_verifies(tmp_path):
    """`credential_status: list` (opt-in): three entries, VC 2.0-valid, outside OB 3.0's [0..1]."""
    project = copy_project("example", tmp_path)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("signing:\n", "signing:\n  credential_status: list\n"))
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.report.has_errors(), format_text(prepared.diagnostics)
    for path in _credentials(project):
        doc = json.loads(path.read_text())
        status = doc["credentialStatus"]
        assert [e.get("statusPurpose", e["type"]) for e in status] == ["revocation", "suspension",
                                                                        "1EdTechRevocationList"]
        for name in SCHEMA_NAMES:
            assert {e.split(":")[0] for e in _schema_errors(name, doc)} == {"credentialStatus"}, path.name
            for entry in status:
                assert _schema_errors(name, {**doc, "credentialStatus": entry}) == [], (path.name, entry)
    results = run_verifier(_credentials(project), "--now", "valid-from",
                           did_doc=project / "_site/.well-known/did.json")
    assert results and all(r["verified"] for r in results.values())


def test_every_credential_verifies_with_digital_bazaar_and_one_changed_character_fails(signed, tmp_path):
    project, _ = signed
    files = _credentials(project)
    tampered = json.loads(files[0].read_text())
    tampered["credentialSubject"]["achievement"]["name"] += "!"
    tampered_file = tmp_path / "tampered.json"
    tampered_file.write_text(json.dumps(tampered))
    did_doc = project / "_site/.well-known/did.json"
    results = run_verifier(files + [tampered_file], "--now", "valid-from", did_doc=did_doc)
    assert [r["verified"] for r in results.values()].count(True) == len(files)
    assert results["tampered.json"]["verified"] is False
    assert "signature" in results["tampered.json"]["error"].lower()


def _run_webcrypto(tokens: list[Path], did_doc: Path) -> list[dict]:
    completed = subprocess.run([require_node(), str(JS_DIR / "verify-jwt.mjs"), "--did-doc", str(did_doc),
                                *map(str, tokens)], capture_output=True, text=True, timeout=120, check=False)
    return [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]


def test_vc_jwt_shape_and_webcrypto_verification(signed, tmp_path):
    project, prepared = signed
    site = project / "_site"
    tokens = sorted(site.glob("a/*/*/credential.jwt"))
    assert len(tokens) == len(prepared.model.awards)
    award = prepared.model.awards[0]
    token = (site / f"{award_dir(award.slug)}/credential.jwt").read_text()
    header, payload, _, _ = jws.decode(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": f"{DID}#rsa-{KEY_ID}"}
    credential = json.loads((site / f"{award_dir(award.slug)}/credential.json").read_text())
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    claims = {"iss": DID, "jti": credential["id"], "nbf": int(award.issued_on.timestamp())}
    if award.expires:
        claims["exp"] = int(award.expires.timestamp())
    assert payload == {**unsigned, **claims}
    method = next(m for m in _did_doc(project)["verificationMethod"] if m["id"] == header["kid"])
    assert method["type"] == "JsonWebKey" and "d" not in method["publicKeyJwk"]
    jws.verify_rs256(token, keys.rsa_key_from_jwk({k: method["publicKeyJwk"][k] for k in ("kty", "n", "e")}))
    forged = tmp_path / "forged.jwt"
    head, body, sig = token.split(".")
    forged.write_text(".".join([head, jws.b64url(json.dumps({**payload, "name": "Forged"}).encode()), sig]))
    results = _run_webcrypto(tokens + [forged], site / ".well-known/did.json")
    assert [r["verified"] for r in results] == [True] * len(tokens) + [False], results


def test_ledger_freezes_each_signed_credential(signed):
    project, prepared = signed
    doc = json.loads((project / ledger.LEDGER_PATH).read_text())
    assert [k["id"] for k in doc["keys"]] == [KEY_ID]
    text = b"".join(ledger_files(project).values()).decode()
    assert "secretKeyMultibase" not in text and "privateKeyPem" not in text
    awards = ledger_awards(project)
    for award in prepared.model.awards:
        record = awards[award.key]["credential"]
        credential = json.loads((project / f"_site/{award_dir(award.slug)}/credential.json").read_text())
        assert record["proofValue"] == credential["proof"][0]["proofValue"]
        assert record["verificationMethod"] == f"{DID}#key-{KEY_ID}"
        assert record["digest"] == canonical.digest({k: v for k, v in credential.items() if k != "proof"})


def test_signed_build_is_byte_identical_across_processes_and_key_sources(signed, tmp_path):
    project, _ = signed
    second = tmp_path / "example"
    shutil.copytree(project / "content", second / "content")  # same ledger, records included
    env = {**os.environ, "PYTHONHASHSEED": "999", "SOURCE_DATE_EPOCH": "1800000000",
           "BADGEKILN_SIGNING_KEYS": testkeys.env_value()}
    subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(second), "--frozen"], env=env,
                   check=True, capture_output=True)
    assert tree(second / "_site") == tree(project / "_site")
    assert ledger_files(second) == ledger_files(project)


def test_fresh_signing_is_deterministic(tmp_path):
    one = copy_project("example", tmp_path / "one")
    two = copy_project("example", tmp_path / "two")
    build(one, keyring=testkeys.keyring())
    build(two, keyring=testkeys.keyring())
    assert tree(one / "_site") == tree(two / "_site")
    assert ledger_files(one) == ledger_files(two)
    again = build(one, keyring=testkeys.keyring(), minter=SeededMinter(seed=99))
    assert not again.ledger_changed


def test_parallel_signing_gives_the_same_records_as_serial(monkeypatch):
    signer = signing.Signer(testkeys.signing_key(), DID)
    docs = [{**ob3_doc(), "name": f"Badge {i}"} for i in range(12)]
    work = [(str(i), signer, doc) for i, doc in enumerate(docs)]
    serial = list(signing.sign_many(work, "2026-01-01T00:00:00Z"))
    monkeypatch.setattr(signing, "_PARALLEL_MIN", 2)
    monkeypatch.setattr(signing.os, "cpu_count", lambda: 2)
    assert list(signing.sign_many(work, "2026-01-01T00:00:00Z")) == serial


def test_a_site_signed_by_worker_processes_equals_one_signed_serially(tmp_path: Path, monkeypatch):
    """Workers make each new credential from the model they inherit (the parent keeps none):
    the same records, the same ledger, the same site as signing in one process."""
    sites = {}
    for mode in ("serial", "workers"):
        project = copy_project("example", tmp_path / mode)
        (project / ledger.LEDGER_PATH).unlink()  # every credential is new
        shutil.rmtree(project / ledger.AWARDS_DIR)
        if mode == "workers":
            monkeypatch.setattr(signing, "_PARALLEL_MIN", 2)
            monkeypatch.setenv("BADGEKILN_JOBS", "2")  # two processes, on a runner with one core too
        result = build(project, keyring=testkeys.keyring())
        assert result.model is not None and any(n.startswith("signed ") for n in result.notices)
        sites[mode] = (ledger_files(project), tree(project / "_site"))
        # each record arrives with its own copy of what all repeat: the build keeps one of each
        records = list(result.signing.records.values())
        for name in ("created", "verificationMethod", "status"):
            assert len({id(r[name]) for r in records}) == len({r[name] for r in records}), name
        assert len({id(r["parts"]) for r in records}) == len({json.dumps(r["parts"], sort_keys=True) for r in records})
    assert sites["workers"] == sites["serial"]


def test_badgekiln_jobs_caps_the_signing_processes_too(tmp_path: Path, monkeypatch):
    """BADGEKILN_JOBS=1 (a CI runner or container with one core to give) signs in the build's own
    process, however many cores the machine reports; BADGEKILN_JOBS=2 starts a pool of two."""
    from concurrent import futures

    pools: list[int] = []
    real = futures.ProcessPoolExecutor

    class Counted(real):
        def __init__(self, workers, *args, **kwargs):
            pools.append(workers)
            super().__init__(workers, *args, **kwargs)
    monkeypatch.setattr(futures, "ProcessPoolExecutor", Counted)
    monkeypatch.setattr(signing, "_PARALLEL_MIN", 2)
    monkeypatch.setattr(signing.os, "cpu_count", lambda: 16)
    sites = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("BADGEKILN_JOBS", jobs)
        project = copy_project("example", tmp_path / jobs)
        (project / ledger.LEDGER_PATH).unlink()  # every credential is new
        shutil.rmtree(project / ledger.AWARDS_DIR)
        result = build(project, keyring=testkeys.keyring())
        assert any(n.startswith("signed ") for n in result.notices)
        sites[jobs] = (ledger_files(project), tree(project / "_site"))
        assert pools == ([] if jobs == "1" else [2])
    assert sites["1"] == sites["2"]


@pytest.mark.parametrize("value, warned", [("two", True), ("0", True), ("-1", True), (" 2 ", False), ("", False)])
def test_a_badgekiln_jobs_that_is_no_number_is_said_where_it_is(value, warned, tmp_path: Path, monkeypatch):
    """A hurried `BADGEKILN_JOBS=two` (or 0) is not silently ignored: W801 names the variable, and
    the build goes on with one process per core."""
    monkeypatch.setenv("BADGEKILN_JOBS", value)
    project = copy_project("minimal", tmp_path)
    checked = build(project, keyring=testkeys.keyring())
    said = [d for d in checked.diagnostics if d.code == "W801"]
    assert checked.model is not None and bool(said) == warned
    if warned:
        assert str(said[0].location) == "$BADGEKILN_JOBS" and repr(value) in said[0].message


def ob3_doc() -> dict:
    from test_independent_verifier import build_credential

    doc = build_credential()
    return {**doc, "issuer": {**doc["issuer"], "id": DID}}


def test_signer_matches_the_reference_signer_and_signs_status_lists():
    signer = signing.Signer(testkeys.signing_key(), DID)
    doc = ob3_doc()
    reference = dataintegrity.sign(doc, testkeys.signing_key().ed25519, verification_method=signer.ed25519_method,
                                   created="2026-01-01T00:00:00Z")
    assert signer.sign_document(doc, created="2026-01-01T00:00:00Z") == reference
    resolver = didweb.did_document_key_resolver(signing.did_document(DID, (testkeys.signing_key().public,)))
    status_list = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": "https://badges.example/status/1.json",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://badges.example/status/1.json#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation",
                              "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"}}
    signed = signer.sign_document(status_list)
    assert signed["proof"][0]["created"] == "2026-01-01T00:00:00Z"  # from validFrom: re-signing is stable
    assert signer.sign_document(status_list) == signed
    assert dataintegrity.verify(signed, resolver).ok


def test_key_rotation_republishes_issued_credentials_unchanged(signed, tmp_path):
    project, _ = signed
    rotated = tmp_path / "example"
    shutil.copytree(project / "content", rotated / "content")
    before = tree(project / "_site")
    old_jwt_files = {p: d for p, d in before.items() if p.endswith("/credential.jwt")}
    from badgekiln import cli

    assert cli.main(["--project", str(rotated), "keys", "rotate"]) == 0
    [new_file] = sorted((rotated / "keys").glob("*.key.json"))
    new_id = new_file.name.split(".")[0]
    # the old private key is nowhere near this project: only the new one is in keys/
    content = rotated / "content/awards/2026-food-hygiene.yaml"
    content.write_text(content.read_text() + "  - name: New Starter\n    email: new.starter@example.com\n")
    prepared = build(rotated, minter=SeededMinter(seed=5), now=FIXED_NOW + timedelta(hours=1))
    assert prepared.model is not None and not prepared.diagnostics, format_text(prepared.diagnostics)
    after = tree(rotated / "_site")
    for path, data in before.items():
        if path.endswith("/credential.json"):
            assert after[path] == data, f"{path} changed after rotation"
    new_award = next(a for a in prepared.model.awards if a.recipient_name == "New Starter")
    new_doc = json.loads(after[f"{award_dir(new_award.slug)}/credential.json"])
    assert new_doc["proof"][0]["verificationMethod"] == f"{DID}#key-{new_id}"
    did_doc = json.loads(after[".well-known/did.json"])
    assert did_doc["assertionMethod"] == [f"{DID}#key-{KEY_ID}", f"{DID}#key-{new_id}",
                                          f"{DID}#rsa-{KEY_ID}", f"{DID}#rsa-{new_id}"]
    registry = json.loads((rotated / ledger.LEDGER_PATH).read_text())["keys"]
    assert [(k["id"], bool(k["retired"])) for k in registry] == [(KEY_ID, True), (new_id, False)]
    # old and new credentials verify against the new DID document; so do JWTs made before rotation
    old_jwts = []
    for index, (path, data) in enumerate(sorted(old_jwt_files.items())[:3]):
        old_jwts.append(tmp_path / f"old-{index}.jwt")
        old_jwts[-1].write_bytes(data)
    results = run_verifier(_credentials(rotated), "--now", "valid-from",
                           did_doc=rotated / "_site/.well-known/did.json")
    assert all(r["verified"] for r in results.values())
    new_jwts = sorted((rotated / "_site/a").glob("*/*/credential.jwt"))
    assert all(r["verified"] for r in _run_webcrypto(old_jwts + new_jwts, rotated / "_site/.well-known/did.json"))
    assert jws.decode(new_jwts[0].read_text())[0]["kid"] == f"{DID}#rsa-{new_id}"
    # the retired key, if someone still supplies it, is refused
    refused = build(rotated, keyring=testkeys.keyring())
    assert "E504" in {d.code for d in refused.diagnostics}


def test_changed_content_is_refused_until_reissued(signed, tmp_path):
    project, prepared = signed
    changed = tmp_path / "example"
    shutil.copytree(project / "content", changed / "content")
    badge_file = changed / "content/badges/food-hygiene.yaml"
    text = badge_file.read_text()
    badge_file.write_text(text.replace("name: ", "name: Level 2 ", 1))
    count = len(prepared.model.awards_of("food-hygiene"))
    refused = build(changed, keyring=testkeys.keyring())
    assert refused.model is None
    [problem] = refused.diagnostics
    assert problem.code == "E502" and problem.location.path == "content/badges/food-hygiene.yaml"
    assert f"would change {count} credential(s) already issued" in problem.message
    assert problem.message.startswith("badge 'food-hygiene' changed (name):"), problem.message
    assert not (changed / "_site").exists()

    later = FIXED_NOW + timedelta(days=1)
    reissued = build(changed, keyring=testkeys.keyring(), reissue=True, now=later)
    assert reissued.model is not None and not reissued.diagnostics
    assert any(f"re-issued {count} changed credential(s)" in n for n in reissued.signing.notices)
    site = changed / "_site"
    for award in reissued.model.awards:
        doc = json.loads((site / f"{award_dir(award.slug)}/credential.json").read_text())
        old = json.loads((project / f"_site/{award_dir(award.slug)}/credential.json").read_text())
        if award.badge == "food-hygiene":
            assert doc["proof"][0]["created"] == "2026-11-29T12:00:00Z" and doc["name"].startswith("Level 2")
        else:
            assert doc == old
    assert all(r["verified"] for r in run_verifier(_credentials(changed), "--now", "valid-from",
                                                    did_doc=site / ".well-known/did.json").values())


def test_e502_names_the_fields_that_changed_at_their_source(signed, tmp_path):
    project, _ = signed
    changed = tmp_path / "example"
    shutil.copytree(project / "content", changed / "content")
    issuer = changed / "content/issuers/northwind.yaml"
    issuer.write_text(issuer.read_text().replace("badges@northwind-academy.example", "info@northwind-academy.example")
                      .replace('"+441632960000"', '"+441632960001"'))
    awards = changed / "content/awards/2026-food-hygiene.yaml"
    awards.write_text(awards.read_text().replace("    email: ugo.obi@example.com\n",
                                                 "    email: ugo.obi@example.com\n    expires: 2031-01-01\n"))
    refused = build(changed, keyring=testkeys.keyring())
    by_path = {d.location.path: d for d in refused.diagnostics if d.code == "E502"}
    assert by_path["content/issuers/northwind.yaml"].message.startswith(
        "issuer 'northwind' changed (email, telephone):"), by_path
    ugo = by_path["content/awards/2026-food-hygiene.yaml"]
    assert ugo.message.startswith("this award changed (expires):") and ugo.location.line == 4, ugo
    # a record frozen before fields were recorded still gets the old message
    ledger_path = changed / ledger.LEDGER_PATH
    doc = one_file_ledger(changed)
    for entry in doc["awards"].values():
        entry["credential"].pop("fields", None)
        entry.pop("check", None)  # sealed again below, as an older Badgekiln would have written it
    ledger_path.write_bytes(ledger.seal(doc))
    older = build(changed, keyring=testkeys.keyring())
    assert any(d.message.startswith("issuer 'northwind' changed:") for d in older.diagnostics), older.diagnostics


def test_without_a_key_the_site_is_built_unsigned_and_says_so(example, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    prepared = build(example, keyring=keys.Keyring())
    assert prepared.model is not None and not prepared.diagnostics
    [notice] = prepared.signing.notices
    assert "no signing key yet" in notice and "badgekiln keys new" in notice
    files = tree(example / "_site")
    assert not [p for p in files if "/credential." in p or p.endswith(".jws") or "did.json" in p]
    award = prepared.model.awards[0]
    assert [b.version for b in bake.unbake(baked_downloads(example / "_site", award)["png"])] == ["ob2"]
    # in CI, a site that never had a key and signs nothing builds its Open Badges 2.0 site...
    minimal = copy_project("minimal", example.parent / "ci")
    completed = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(minimal)],
                               capture_output=True, text=True, check=True, env={**os.environ, "CI": "true"})
    assert "note: no signing key: the site is Open Badges 2.0 only" in completed.stderr
    assert "store it in the BADGEKILN_SIGNING_KEYS secret" in completed.stderr
    # ...but one whose site.yaml asks for signed forms stops: its secret is missing (E507)
    refused = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(example)],
                             capture_output=True, text=True, env={**os.environ, "CI": "true"})
    assert refused.returncode == 1 and "error[E507]" in refused.stderr and "this CI build must sign" in refused.stderr
    assert "set the BADGEKILN_SIGNING_KEYS secret" in refused.stderr


def test_a_few_signatures_are_counted_without_a_meaningless_rate(tmp_path):
    project = copy_project("minimal", tmp_path)
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None, prepared.diagnostics
    assert "signed 1 credential(s)" in prepared.signing.notices
    assert not [n for n in prepared.signing.notices if "credentials/s" in n or " s (" in n]


def test_frozen_ci_build_without_a_key_republishes_frozen_credentials_or_fails(signed, tmp_path, monkeypatch):
    """issue 10, finding 2: a CI run whose secret is missing must not deploy a site without its signed files."""
    project, _ = signed
    ci = tmp_path / "example"
    shutil.copytree(project / "content", ci / "content")
    monkeypatch.setenv("CI", "true")
    prepared = build(ci, frozen=True, keyring=keys.Keyring())
    assert prepared.model is None and not (ci / "_site").exists()
    [problem] = prepared.diagnostics
    assert problem.code == "E507" and "would drop signed files the ledger records as published" in problem.message
    assert ("the VC-JWT copies of issuer 'northwind'" in problem.message
            and "the Open Badges 2.0 signed assertions of issuer 'northwind'" in problem.message)
    assert "BADGEKILN_SIGNING_KEYS secret" in problem.hint
    # with the RS256 forms switched off, everything else is republished from the ledger byte for byte
    site_yaml = ci / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("vc_jwt: true", "vc_jwt: false")
                         .replace("ob2_signed: true", "ob2_signed: false"))
    prepared = build(ci, frozen=True, keyring=keys.Keyring())
    assert prepared.model is not None and not prepared.diagnostics, prepared.diagnostics
    for path in _credentials(project):
        assert (ci / "_site" / path.relative_to(project / "_site")).read_bytes() == path.read_bytes()
    for name in (".well-known/did.json", "status/northwind/revocation.json", "status/northwind/suspension.json"):
        assert (ci / "_site" / name).read_bytes() == (project / "_site" / name).read_bytes(), name


def test_frozen_refuses_to_record_new_signatures(example):
    build(example)  # unsigned: the ledger has no signatures yet
    prepared = build(example, frozen=True, keyring=testkeys.keyring())
    assert prepared.model is None
    [problem] = prepared.diagnostics
    assert problem.code == "E304" and "record new credential signatures or signing keys" in problem.message


def test_preview_signs_with_its_own_did_and_leaves_the_ledger_alone(signed, tmp_path):
    project, _ = signed
    preview = tmp_path / "example"
    shutil.copytree(project / "content", preview / "content")
    ledger_before = ledger_files(preview)
    prepared = build(preview, base_url="http://127.0.0.1:8123/", keyring=testkeys.keyring())
    assert not prepared.ledger_changed and ledger_files(preview) == ledger_before
    did_doc = preview / "_site/.well-known/did.json"
    assert json.loads(did_doc.read_text())["id"] == "did:web:127.0.0.1%3A8123"
    results = run_verifier(_credentials(preview)[:5], "--now", "valid-from", did_doc=did_doc)
    assert all(r["verified"] for r in results.values())


def _unsigned(model, award, routes) -> dict:
    badge = model.badge(award.badge)
    return signing.unsigned_credential(award, badge, model.issuer(badge.issuer), model.site, routes, DID)


def test_credential_extra_members_are_signed_and_pull_in_contexts(signed, monkeypatch):
    project, prepared = signed
    award = prepared.model.awards[0]
    routes = signing.Routes(prepared.model.site.base_url)
    monkeypatch.setattr(signing, "credential_extra", lambda a, i, r, f: {"refreshService": {
        "id": f"{r.url(r.award_credential_json(a))}", "type": "1EdTechCredentialRefresh"}})
    doc = _unsigned(prepared.model, award, routes)
    assert doc["refreshService"]["type"] == "1EdTechCredentialRefresh"
    assert doc["@context"][-1] == ob3.EXTENSIONS_CONTEXT
    monkeypatch.setattr(signing, "credential_extra", lambda a, i, r, f: {"nickname": "undefined term"})
    undefined = _unsigned(prepared.model, award, routes)
    result = signing.sign_one(signing.Signer(testkeys.signing_key(), DID), undefined, "2026-01-01T00:00:00Z")
    assert result[1] == "/nickname" and "not defined" in result[0]  # a build error (E503), never dropped


def test_ob2_signed_assertions_pass_the_ims_validator(tmp_path):
    from ob2validator import error_messages, serve_directory, validate

    project = copy_project("example", tmp_path)
    out = tmp_path / "site"
    out.mkdir()
    with serve_directory(out) as base:
        prepared = build(project, out, base_url=base, keyring=testkeys.keyring())
        model = prepared.model
        current = [a for a in model.awards if (a.expires is None or a.expires > FIXED_NOW)
                   and a.revocation is None and a.suspension is None][:3]
        revoked = next(a for a in model.awards if a.revocation is not None)
        tokens = [(out / f"{award_dir(a.slug)}/assertion.jws").read_text() for a in [*current, revoked]]
        results = [validate([t], recipient=a.email)[0] for t, a in zip(tokens, [*current, revoked])]
        head, body, sig = tokens[0].split(".")
        claims = json.loads(jws.b64url_decode(body))
        forged_body = jws.b64url(canonical.dumps({**claims, "issuedOn": "2026-01-01T00:00:00Z"}).encode())
        [forged] = validate([f"{head}.{forged_body}.{sig}"])
    for result in results[:-1]:
        assert result["valid"], error_messages(result)
        assert result["blockedUrls"] == []
    assert not results[-1]["valid"]
    assert any("has been revoked" in e for e in error_messages(results[-1]))
    assert not forged["valid"]  # the validator really checks our RS256 signature against the key
    assert any("failed verification" in e for e in error_messages(forged)), error_messages(forged)


def test_json_ld_undefined_terms_are_build_errors_not_dropped(signed):
    _, prepared = signed
    routes = signing.Routes(prepared.model.site.base_url)
    doc = _unsigned(prepared.model, prepared.model.awards[0], routes)
    doc["credentialSubject"]["achievement"]["fieldOfStudyy"] = "typo"
    reason, pointer = signing.sign_one(signing.Signer(testkeys.signing_key(), DID), doc, "2026-01-01T00:00:00Z")
    assert pointer == "/credentialSubject/achievement/fieldOfStudyy" and "fieldOfStudyy" in reason


def test_an_undefined_term_in_a_credential_fails_the_build(tmp_path, monkeypatch):
    project = copy_project("minimal", tmp_path)
    monkeypatch.setattr(signing, "credential_extra", lambda award, issuer, routes, form: {"nickname": "Ada"})
    prepared = build(project, tmp_path / "out", keyring=testkeys.keyring())
    assert prepared.model is None and not (tmp_path / "out").exists()
    [problem] = prepared.diagnostics
    assert problem.code == "E503" and "'nickname' is not defined by the @context" in problem.message


def test_a_mistyped_credential_status_points_at_site_yaml(example):
    site_yaml = example / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("signing:\n", "signing:\n  credential_status: lists\n"))
    prepared = build(example, keyring=testkeys.keyring())
    [problem] = prepared.diagnostics
    assert problem.code == "E207" and problem.location.path == "content/site.yaml" and problem.location.line
    assert "did you mean 'list'" in problem.hint
