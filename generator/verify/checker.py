"""`badgekiln verify THING`: check a badge the way an employer would, without trusting us.

THING is a credential JSON, a VC-JWT or OB 2.0 JWS, a baked PNG or SVG, or a URL. Every badge
found in it is checked for structure (the 1EdTech JSON schema), its proof or signature, that
the signing key is really published by the issuer (did:web document, OB 2.0 key and Profile),
its dates, and, given an email address, that it was issued to that person. Documents are
read from `--site DIR` (a built site) when they live under its base URL, else over HTTPS.

Pure functions return a `VerificationResult`; the CLI alone prints it and picks the exit code.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .. import bake, canonical, resources
from ..credentials import identity
from ..crypto import dataintegrity, didweb, jws, keys, multikey
from ..validate.values import parse_datetime
from . import status
from .fetch import Fetcher, FetchError, read_input
from .issuer_keys import (
    RevokedKey,
    issuer_id_of,
    key_failure,
    resolve_ed25519,
    resolve_rsa,
    types_of,
    where_found,
)
from .report import Finding, VerificationResult

SCHEMAS = resources.DATA / "schemas"
CLOCK_SKEW = timedelta(minutes=5)
JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
OB3 = "Open Badges 3.0"
OB2 = "Open Badges 2.0"


# --- entry point --------------------------------------------------------------------------------

def verify(thing: str, *, site: Path | None = None, email: str | None = None, now: datetime,
           network: bool = True) -> VerificationResult:
    """Check every badge in `thing` (a path, a URL, or a compact JWS)."""
    fetcher = Fetcher(site, network)
    result = VerificationResult(thing)
    try:
        data = read_input(thing, fetcher)
    except FetchError as exc:
        result.error, result.unreachable = str(exc), exc.unreachable
        return result
    try:
        payloads = _payloads(data)
    except (bake.BakeError, ValueError) as exc:
        result.error = f"cannot read a badge from the input: {getattr(exc, 'message', exc)}"
        return result
    if not payloads:
        result.error = "the input holds no badge (no Open Badges data found)"
        return result
    for version, payload in payloads:
        result.findings.append(_verify_payload(version, payload, fetcher, email, now))
    return result


def _payloads(data: bytes) -> list[tuple[str | None, str]]:
    """(version or None, text) for each badge in the input bytes."""
    if bake.image_format(data) in ("png", "svg"):
        return [(b.version, b.payload) for b in bake.unbake(data)]
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise ValueError("not a PNG, SVG, JSON or JWT") from None
    return [(None, text)]


def _verify_payload(version: str | None, payload: str, fetcher: Fetcher, email: str | None,
                    now: datetime) -> Finding:
    if payload.lstrip().startswith("{"):
        try:
            doc = json.loads(payload)
        except ValueError as exc:
            finding = Finding("unreadable JSON")
            finding.add("structure", False, f"not valid JSON ({exc.msg} at position {exc.pos})")
            return finding
        if not isinstance(doc, dict):
            finding = Finding("unreadable JSON")
            finding.add("structure", False, "the JSON is not an object")
            return finding
        if version == "ob2" or _is_ob2(doc):
            return _verify_ob2_hosted(doc, fetcher, email, now)
        return _verify_ob3(doc, fetcher, email, now, Finding(f"{OB3} credential (Data Integrity proof)"))
    if payload.startswith(("http://", "https://")) and version == "ob2":  # legacy baked URL
        try:
            return _verify_ob2_hosted({"id": payload, "verification": {"type": "HostedBadge"}}, fetcher, email, now)
        except FetchError as exc:
            finding = Finding(f"{OB2} assertion (hosted)")
            finding.add("hosted assertion", False, str(exc), unreachable=exc.unreachable)
            return finding
    try:
        header, claims, _, _ = jws.decode(payload)
    except jws.JwsError as exc:
        finding = Finding("unreadable token")
        finding.add("structure", False, f"neither JSON nor a compact JWS ({exc})")
        return finding
    if version == "ob2" or (isinstance(claims, dict) and _is_ob2(claims)):
        return _verify_ob2_signed(payload, claims, fetcher, email, now)
    return _verify_vc_jwt(payload, header, claims, fetcher, email, now)


def _is_ob2(doc: dict) -> bool:
    context = doc.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and "openbadges" in c and "v2" in c for c in contexts) or "Assertion" in types_of(doc)


# --- Open Badges 3.0 ----------------------------------------------------------------------------

ACHIEVEMENT_SCHEMAS = ("ob_v3p0_achievementcredential_schema.json",
                       "formal/ob_v3p0_achievementcredential_schema.formal.json")
# The live (lenient) endorsement schema is the EndorsementCredential definition inside the live
# achievement credential schema (both are generated from one model); the formal one is its own file.
ENDORSEMENT_SCHEMAS = ("ob_v3p0_achievementcredential_schema.json#EndorsementCredential",
                       "formal/ob_v3p0_endorsementcredential_schema.formal.json")


@functools.cache
def schema_validator(name: str):
    """A validator for a bundled schema file, or for one of its $defs (`file.json#Definition`)."""
    from jsonschema import Draft201909Validator

    file, _, definition = name.partition("#")
    schema = json.loads((SCHEMAS / file).read_text(encoding="utf-8"))
    if definition:
        schema = {"$schema": schema["$schema"], "$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def _schema_errors(doc: dict, name: str) -> list[str]:
    errors = schema_validator(name).iter_errors(doc)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}" for e in errors)


def _is_endorsement(doc: dict) -> bool:
    return "EndorsementCredential" in types_of(doc)


def _check_structure(doc: dict, finding: Finding) -> None:
    problems = []
    types = types_of(doc)
    endorsement = _is_endorsement(doc)
    lenient, formal_schema = ENDORSEMENT_SCHEMAS if endorsement else ACHIEVEMENT_SCHEMAS
    wanted = {"EndorsementCredential"} if endorsement else {"OpenBadgeCredential", "AchievementCredential"}
    if "VerifiableCredential" not in types or not wanted & set(types):
        problems.append("type must include VerifiableCredential and OpenBadgeCredential (or EndorsementCredential)")
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict) or not (subject.get("id") or subject.get("identifier")):
        problems.append("credentialSubject must have an id or an identifier")
    # VC 2.0 (and the 1EdTech validator) allow several status entries; the OB 3.0 schemas
    # describe one. Check each entry in turn rather than reject the credential for it.
    status = doc.get("credentialStatus")
    variants = [{**doc, "credentialStatus": s} for s in status] if isinstance(status, list) and status else [doc]
    note = " (credentialStatus is a list: each entry checked on its own)" if len(variants) > 1 or \
        isinstance(status, list) else ""
    for variant in variants:
        problems += _schema_errors(variant, lenient)
    if problems:
        problems = sorted(set(problems))
        finding.add("structure", False, "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
        return
    formal = sorted({e for v in variants for e in _schema_errors(v, formal_schema)})
    note += "" if not formal else f" (the strict formal schema also reports: {formal[0]})"
    kind = "EndorsementCredential" if endorsement else "AchievementCredential"
    finding.add("structure", True, f"matches the 1EdTech OB 3.0 {kind} schema" + note)


def _summary(doc: dict) -> dict:
    issuer = doc.get("issuer")
    subject = doc.get("credentialSubject") if isinstance(doc.get("credentialSubject"), dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    return {"id": doc.get("id"), "name": achievement.get("name") or doc.get("name"),
            "issuer": issuer.get("name") if isinstance(issuer, dict) else None, "issuerId": issuer_id_of(doc),
            "validFrom": doc.get("validFrom") or doc.get("issuanceDate"),
            "validUntil": doc.get("validUntil") or doc.get("expirationDate")}


def _verify_ob3(doc: dict, fetcher: Fetcher, email: str | None, now: datetime, finding: Finding,
                proof_checked: bool = False) -> Finding:
    finding.summary = _summary(doc)
    _check_structure(doc, finding)
    if not proof_checked:
        _check_di_proof(doc, fetcher, finding)
    _check_dates(doc.get("validFrom") or doc.get("issuanceDate"), doc.get("validUntil") or doc.get("expirationDate"),
                 now, finding)
    if not _is_endorsement(doc):
        _check_ob3_recipient(doc, email, finding)
    # revocation / suspension status lists, and lapsed-versus-expired for CPD badges
    status.check_ob3(doc, fetcher, finding)
    if not _is_endorsement(doc):
        status.check_renewal(doc.get("id"), status.status_url_of(doc), now, fetcher, finding)
    _check_endorsements(doc, fetcher, now, finding)
    return finding


def _check_endorsements(doc: dict, fetcher: Fetcher, now: datetime, finding: Finding) -> None:
    """An "endorsement" check per embedded endorsement (OB 3.0 §9.1 step 6), verified like a credential.

    A forged or altered endorsement fails the credential; one that expired or that its endorser
    revoked is reported but does not: the credential embedding it was frozen when it was issued.
    """
    subject = doc.get("credentialSubject") if isinstance(doc.get("credentialSubject"), dict) else {}
    for node in (doc, doc.get("issuer"), subject.get("achievement")):
        if not isinstance(node, dict):
            continue
        for embedded in [*_as_list(node.get("endorsement")), *_as_list(node.get("endorsementJwt"))]:
            if isinstance(embedded, dict):
                result = _verify_ob3(embedded, fetcher, None, now, Finding("endorsement"))
            elif isinstance(embedded, str):
                try:
                    header, claims, _, _ = jws.decode(embedded)
                    result = _verify_vc_jwt(embedded, header, claims, fetcher, None, now)
                except jws.JwsError as exc:
                    finding.add("endorsement", False, f"an embedded endorsementJwt cannot be read ({exc})")
                    continue
            else:
                continue
            who = result.summary.get("issuer") or result.summary.get("issuerId") or "an unnamed endorser"
            failed = [c for c in result.checks if c.ok is False]
            if not failed:
                finding.add("endorsement", True, f"by {who}: valid")
            elif all(c.name in ("dates", "status") for c in failed):
                finding.add("endorsement", None, f"by {who}: {failed[0].message}")
            else:
                finding.add("endorsement", False, f"by {who}: {failed[0].name}: {failed[0].message}")


def _check_di_proof(doc: dict, fetcher: Fetcher, finding: Finding) -> None:
    proofs = dataintegrity.proofs_of(doc)
    if not proofs:
        finding.add("proof", False, "the credential has no proof (it is not signed)")
        return
    issuer_id = issuer_id_of(doc)
    resolved: dict[str, str] = {}
    key_errors: list[Exception] = []

    def resolve(method: str):
        try:
            key, where = resolve_ed25519(method, issuer_id, fetcher)
        except (ValueError, FetchError, didweb.DidWebError, multikey.MultikeyError) as exc:
            key_errors.append(exc)
            raise
        resolved[method] = where
        return key

    result = dataintegrity.verify(doc, resolve)
    methods = [p.get("verificationMethod") for p in proofs if isinstance(p, dict)]
    if resolved:
        method = next(iter(resolved))
        finding.add("issuer key", True, f"{method} is {resolved[method]}")
    elif key_errors:
        finding.add("issuer key", False, key_failure(key_errors[0]), unreachable=unreachable(key_errors[0]))
    if result.ok:
        suites = {p.get("cryptosuite") for p in proofs if isinstance(p, dict)}
        finding.add("proof", True, f"{'/'.join(sorted(map(str, suites)))} signature verifies")
    elif resolved and any("does not verify" in e for e in result.errors):
        finding.add("proof", False, "the signature does not match: the credential was changed after it was signed")
    elif not key_errors:
        finding.add("proof", False, "; ".join(result.errors) or f"no proof by {methods} verifies")
    else:
        finding.add("proof", False, _unchecked_proof(key_errors[0]), unreachable=unreachable(key_errors[0]))


def unreachable(exc: Exception) -> bool:
    """The check failed only because a document could not be fetched (no verdict either way)."""
    return isinstance(exc, FetchError) and exc.unreachable


def _unchecked_proof(exc: Exception) -> str:
    """The `proof` message when the key cannot be used."""
    if isinstance(exc, RevokedKey):
        return "not checked: a signature by a revoked key proves nothing"
    return "cannot be checked without the issuer's key"


def _check_dates(valid_from: Any, valid_until: Any, now: datetime, finding: Finding) -> None:
    try:
        start = parse_datetime(valid_from) if valid_from else None
        end = parse_datetime(valid_until) if valid_until else None
    except ValueError as exc:
        finding.add("dates", False, f"unreadable date ({exc})")
        return
    if start is None:
        finding.add("dates", False, "no issue date (validFrom)")
    elif start > now + CLOCK_SKEW:
        finding.add("dates", False, f"not valid yet: valid from {start.date()}")
    elif end is not None and end <= now:
        finding.add("dates", False, f"expired on {end.date()}")
    else:
        finding.add("dates", True, f"valid from {start.date()}" + (f" until {end.date()}" if end else ", no expiry"))


def _check_ob3_recipient(doc: dict, email: str | None, finding: Finding) -> None:
    if email is None:
        return
    subject = doc.get("credentialSubject")
    identifiers = subject.get("identifier", []) if isinstance(subject, dict) else []
    identifiers = identifiers if isinstance(identifiers, list) else [identifiers]
    for ident in identifiers:
        if not isinstance(ident, dict) or ident.get("identityType") != "emailAddress":
            continue
        value, salt = ident.get("identityHash", ""), ident.get("salt") or ""
        if ident.get("hashed") and isinstance(value, str) and identity.matches(value, salt, email):
            finding.add("recipient", True, f"issued to {email}")
            return
        if not ident.get("hashed") and isinstance(value, str) and value.strip().lower() == email.strip().lower():
            finding.add("recipient", True, f"issued to {email}")
            return
    finding.add("recipient", False, f"not issued to {email}")


def _verify_vc_jwt(token: str, header: dict, claims: Any, fetcher: Fetcher, email: str | None,
                   now: datetime) -> Finding:
    finding = Finding(f"{OB3} credential (VC-JWT)")
    if not isinstance(claims, dict):
        finding.add("structure", False, "the token payload is not a JSON object")
        return finding
    credential = claims["vc"] if isinstance(claims.get("vc"), dict) else {
        k: v for k, v in claims.items() if k not in JWT_CLAIMS}
    issuer_id = issuer_id_of(credential)
    kid = header.get("kid")
    if header.get("alg") != "RS256":
        finding.add("proof", False, f"unsupported algorithm {header.get('alg')!r} (RS256 expected)")
        return _verify_ob3(credential, fetcher, email, now, finding, proof_checked=True)
    try:
        if not isinstance(kid, str):
            raise ValueError("the token names no key (kid)")
        key, where = resolve_rsa(kid, issuer_id, fetcher)
        finding.add("issuer key", True, f"{kid} is listed in the issuer's DID document {where}")
    except (ValueError, FetchError, didweb.DidWebError, keys.KeyProblem) as exc:
        finding.add("issuer key", False, key_failure(exc), unreachable=unreachable(exc))
        finding.add("proof", False, _unchecked_proof(exc), unreachable=unreachable(exc))
        return _verify_ob3(credential, fetcher, email, now, finding, proof_checked=True)
    try:
        jws.verify_rs256(token, key)
    except jws.JwsError:
        finding.add("proof", False, "the signature does not match: the token was changed after it was signed")
        return _verify_ob3(credential, fetcher, email, now, finding, proof_checked=True)
    mismatched = [name for name, claim, value in (
        ("iss", "iss", issuer_id), ("jti", "jti", credential.get("id")),
        ("nbf", "nbf", _epoch(credential.get("validFrom"))), ("exp", "exp", _epoch(credential.get("validUntil"))))
        if claim in claims and claims[claim] != value]
    if "vc" not in claims and mismatched:
        finding.add("proof", False, f"RS256 signature verifies, but the claims {', '.join(mismatched)} do not match "
                    "the credential")
    else:
        finding.add("proof", True, "RS256 signature verifies")
    return _verify_ob3(credential, fetcher, email, now, finding, proof_checked=True)


def _epoch(value: Any) -> int | None:
    try:
        return int(parse_datetime(value).timestamp()) if value else None
    except ValueError:
        return None


# --- Open Badges 2.0 ----------------------------------------------------------------------------

def _ob2_recipient(assertion: dict, email: str | None, finding: Finding) -> None:
    if email is None:
        return
    recipient = assertion.get("recipient") if isinstance(assertion.get("recipient"), dict) else {}
    value, salt = str(recipient.get("identity", "")), str(recipient.get("salt") or "")
    ok = (identity.matches(value, salt, email) if recipient.get("hashed")
          else value.strip().lower() == email.strip().lower())
    finding.add("recipient", ok, f"issued to {email}" if ok else f"not issued to {email}")


def _ob2_related(assertion: dict, fetcher: Fetcher, finding: Finding) -> tuple[dict, dict] | None:
    """The BadgeClass and issuer Profile, fetched (hosted documents are the truth)."""
    try:
        badge = assertion.get("badge")
        badge = fetcher.json(badge) if isinstance(badge, str) else badge
        issuer = badge.get("issuer") if isinstance(badge, dict) else None
        issuer = fetcher.json(issuer) if isinstance(issuer, str) else issuer
    except FetchError as exc:
        finding.add("structure", False, f"badge class or issuer cannot be read: {exc}", unreachable=exc.unreachable)
        return None
    if not isinstance(badge, dict) or "BadgeClass" not in types_of(badge) or not isinstance(issuer, dict):
        finding.add("structure", False, "the assertion's badge is not a BadgeClass with an issuer Profile")
        return None
    return badge, issuer


def _ob2_summary(assertion: dict, badge: dict | None, issuer: dict | None) -> dict:
    return {"id": assertion.get("id"), "name": (badge or {}).get("name"), "issuer": (issuer or {}).get("name"),
            "issuerId": (issuer or {}).get("id"), "validFrom": assertion.get("issuedOn"),
            "validUntil": assertion.get("expires")}


def _verify_ob2_hosted(given: dict, fetcher: Fetcher, email: str | None, now: datetime) -> Finding:
    finding = Finding(f"{OB2} assertion (hosted)")
    url = given.get("id")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        finding.add("structure", False, "a hosted assertion needs an http(s) id to check it at")
        return finding
    try:
        hosted = fetcher.json(url)
    except FetchError as exc:
        finding.add("hosted assertion", False, str(exc), unreachable=exc.unreachable)
        return finding
    if not isinstance(hosted, dict):
        finding.add("hosted assertion", False, f"{url} does not hold an assertion")
        return finding
    if hosted.get("revoked") is True:
        reason = hosted.get("revocationReason")
        finding.summary = _ob2_summary(hosted, None, None)
        finding.add("status", False, "revoked by the issuer" + (f": {reason}" if reason else ""))
        return finding
    if hosted.get("id") != url or "Assertion" not in types_of(hosted):
        finding.add("hosted assertion", False, f"{url} does not hold this assertion (id or type differ)")
        return finding
    verification = hosted.get("verification") if isinstance(hosted.get("verification"), dict) else {}
    if verification.get("type") not in ("HostedBadge", "hosted"):
        finding.add("hosted assertion", False, "the hosted copy is not a HostedBadge")
        return finding
    finding.add("hosted assertion", True, f"the issuer publishes it at {where_found(url, fetcher)}")
    _compare_with_hosted(given, hosted, finding)
    related = _ob2_related(hosted, fetcher, finding)
    if related is None:
        return finding
    badge, issuer = related
    finding.summary = _ob2_summary(hosted, badge, issuer)
    issuer_host = urlsplit(str(issuer.get("id", ""))).netloc
    same = urlsplit(url).netloc == issuer_host
    finding.add("structure", same, "assertion, badge class and issuer are published together" if same else
                f"the assertion is not on the issuer's host {issuer_host}")
    _check_dates(hosted.get("issuedOn"), hosted.get("expires"), now, finding)
    status.check_renewal(url, issuer.get("revocationList"), now, fetcher, finding)  # lapsed CPD
    _ob2_recipient(hosted, email, finding)
    return finding


def _compare_with_hosted(given: dict, hosted: dict, finding: Finding) -> None:
    """A full copy (a JSON file, a baked image) must be the issuer's record: its hosted copy is the truth."""
    if set(given) <= {"id", "verification"}:  # only a pointer to the hosted copy (a legacy baked URL)
        return
    differ = sorted(k for k in set(given) | set(hosted)
                    if canonical.dumps(given.get(k)) != canonical.dumps(hosted.get(k)))
    if differ:
        finding.add("copy", False, f"this copy differs from the issuer's record in: {', '.join(differ)}")
    else:
        finding.add("copy", True, "this copy is identical to the issuer's record")


def _verify_ob2_signed(token: str, assertion: Any, fetcher: Fetcher, email: str | None, now: datetime) -> Finding:
    finding = Finding(f"{OB2} assertion (signed)")
    if not isinstance(assertion, dict):
        finding.add("structure", False, "the signed payload is not a JSON object")
        return finding
    verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
    creator = verification.get("creator")
    related = _ob2_related(assertion, fetcher, finding)
    badge, issuer = related if related is not None else (None, None)
    finding.summary = _ob2_summary(assertion, badge, issuer)
    try:
        if not isinstance(creator, str):
            raise ValueError("the assertion names no signing key (verification.creator)")
        key_doc = fetcher.json(creator)
        pem = key_doc.get("publicKeyPem") if isinstance(key_doc, dict) else None
        key = serialization.load_pem_public_key(str(pem).encode("ascii"))
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the key is not an RSA key")
        listed = issuer is not None and creator in _as_list(issuer.get("publicKey"))
        if not listed:
            raise ValueError(f"{creator} is not listed in the issuer Profile's publicKey")
        finding.add("issuer key", True, f"{creator} is listed in the issuer Profile")
    except (ValueError, FetchError, TypeError, UnicodeEncodeError) as exc:
        finding.add("issuer key", False, f"the signing key is not published by the issuer: {exc}",
                    unreachable=unreachable(exc))
        finding.add("proof", False, "cannot be checked without the issuer's key", unreachable=unreachable(exc))
        return finding
    try:
        jws.verify_rs256(token, key)
        finding.add("proof", True, "RS256 signature verifies")
    except jws.JwsError:
        finding.add("proof", False, "the signature does not match: the assertion was changed after it was signed")
    revocation_list = issuer.get("revocationList") if issuer else None
    if isinstance(revocation_list, str):
        try:
            revoked = fetcher.json(revocation_list).get("revokedAssertions", [])
            match = [r for r in _as_list(revoked)
                     if r == assertion.get("id") or (isinstance(r, dict) and r.get("id") == assertion.get("id"))]
            finding.add("status", not match, "revoked by the issuer" if match else "not revoked")
        except (FetchError, AttributeError) as exc:
            finding.add("status", False if unreachable(exc) else None, f"revocation list not checked: {exc}",
                        unreachable=unreachable(exc))
    _check_dates(assertion.get("issuedOn"), assertion.get("expires"), now, finding)
    _ob2_recipient(assertion, email, finding)
    return finding


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


