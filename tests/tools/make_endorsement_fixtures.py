"""Write the signed endorsements that tests/sites/invalid/E70*-*/ and W701-*/ hold.

Run from the repository root (`python tests/tools/make_endorsement_fixtures.py`) after changing
them; the output is committed. They are signed by a TEST-ONLY endorser whose public key is its
did:key (so they verify offline, like the OB 3.0 spec examples), for tests/sites/minimal.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

import conftest  # noqa: E402,F401  (loads this clone's badgekiln)
from badgekiln.crypto import dataintegrity, multikey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"badgekiln TEST-ONLY endorser").digest())
PUBLIC = multikey.encode_public_key(KEY.public_key())
ENDORSER = f"did:key:{PUBLIC}"
INVALID = REPO / "tests" / "sites" / "invalid"
SPEC = REPO / "tests" / "vectors" / "ob-v3p0-spec-examples" / "example-37-sample-endorsementcredential.ldp.json"
SITE = "https://badges.minimal.example/"


def endorsement(subject: str, *, until: str | None = "2031-01-01T00:00:00Z", status: bool = False,
                ident: str = "urn:uuid:7b1e9a52-0d7c-4a8e-9a43-3f1f0c2b6d01",
                name: str = "Test Accreditation Council endorses Safety Basics",
                comment: str = "Meets the **council's standard** for safety courses.") -> dict:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                     "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"],
        "id": ident,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": name,
        "issuer": {"id": ENDORSER, "type": ["Profile"], "name": "Test Accreditation Council",
                   "url": "https://accreditation.example/"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "type": ["EndorsementSubject"],
                              "endorsementComment": comment},
        "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
                                    "ob_v3p0_endorsementcredential_schema.json",
                              "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if until:
        doc["validUntil"] = until
    if status:
        doc["credentialStatus"] = {"id": "https://accreditation.example/revocations.json",
                                   "type": "1EdTechRevocationList"}
    return dataintegrity.sign(doc, KEY, verification_method=f"{ENDORSER}#{PUBLIC}", created="2025-01-01T00:00:00Z")


def write(case: str, name: str, data: dict | str) -> Path:
    path = INVALID / case / "content" / "endorsements" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    badge = f"{SITE}badges/safety.json"
    spec = json.loads(SPEC.read_text())
    spec["credentialSubject"]["endorsementComment"] = "1EdTech University is in excellent standing"
    write("E702-endorsement-tampered", "sde.json", spec)
    issuer = INVALID / "E702-endorsement-tampered" / "content" / "issuers" / "acme.yaml"
    issuer.parent.mkdir(parents=True, exist_ok=True)
    issuer.write_text("name: Acme Training\nurl: https://1edtech.edu/issuers/565049\nemail: badges@acme.example\n")
    write("E703-endorsement-expired", "council.json", endorsement(badge, until="2026-01-01T00:00:00Z"))
    write("E705-endorsement-unknown-badge", "council.json", endorsement(f"{SITE}badges/safty.json"))
    write("W701-endorsement-status-unchecked", "council.json", endorsement(badge, status=True))
    revoked = write("E704-endorsement-revoked", "council.json", endorsement(badge, status=True))
    record = {"source": "content/endorsements/council.json", "checked_on": "2026-11-01T00:00:00Z",
              "sha256": hashlib.sha256(revoked.read_bytes()).hexdigest(), "keys": {},
              "status": {"state": "revoked", "message": "revoked by the issuer: withdrawn after audit"}}
    write("E704-endorsement-revoked", "council.check.json", record)
    broken = '{"type": ["VerifiableCredential",\n  "EndorsementCredential"\n'
    write("E701-endorsement-unreadable", "council.json", broken)
    write("E706-endorsement-not-fetched", "council.yaml", "url: https://accreditation.example/e/safety.json\n")
    example = endorsement(
        "https://badges.northwind-academy.example/badges/first-aid-at-work.json",
        ident="urn:uuid:2f4b8c1d-5e6a-4f7b-8c9d-0a1b2c3d4e5f",
        name="Test Accreditation Council endorses First Aid at Work",
        comment="This course meets the council's **first-aid training standard**: qualified trainers, "
                "18 contact hours and a practical assessment. (A fictional endorser, for the example site.)")
    target = REPO / "content" / "endorsements" / "test-accreditation-council.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(example, indent=2, ensure_ascii=False) + "\n")
    print(f"endorser {ENDORSER}")


if __name__ == "__main__":
    main()
