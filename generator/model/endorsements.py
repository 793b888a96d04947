"""Received endorsements: check each one in content/endorsements/, offline, at every build.

A provider drops what its endorsers gave it into content/endorsements/:

- `NAME.json`: a signed OB 3.0 EndorsementCredential (Data Integrity proof, eddsa-rdfc-2022);
- `NAME.jwt`: the same as a VC-JWT (RS256);
- `NAME.yaml` with `url: https://...`: an endorsement published at a URL (an OB 3.0
  EndorsementCredential, or an OB 2.0 hosted Endorsement).

Whatever needs the network is done once by `badgekiln endorsements fetch` and recorded beside
the endorsement in `NAME.check.json` (commit it), like a frozen credential: the fetched bytes
of a URL, the endorser's public key when it is not inside the key id (did:web, https key
documents), and the revocation status as it was then. A build reads those records and never
the network, so it stays offline and deterministic.

The build then refuses, at the file and line: a bad proof (E702), an expired or not yet valid
one (E703, judged against the build clock), one its endorser revoked (E704, per the record),
one naming no badge, issuer or award of this site (E705), and a URL never fetched or a key
never recorded (E706). An endorsement with a status list whose answer is not recorded is
accepted with W701: its revocation could not be checked.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from .. import canonical
from ..crypto import didweb, jws, keys, multikey
from ..diagnostics import Location, Report, did_you_mean
from ..load.files import CONTENT, Sources
from ..load.json_lines import line_of
from ..load.positioned_yaml import YMap, load_yaml
from ..validate.values import parse_datetime, parse_url
from .domain import Award, Badge, Endorsement, Issuer, Site
from .routes import Routes

FOLDER = "endorsements"
CHECK_SUFFIX = ".check.json"
SOURCE_SUFFIXES = (".json", ".jwt", ".yaml", ".yml")
OB2_CONTEXT = "https://w3id.org/openbadges/v2"
JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
_FETCH = "run `badgekiln endorsements fetch` (it fetches what the check needs once, and records it)"


def check_path(source: str) -> str:
    """Where the record of `source`'s one-time network checks lives (beside it)."""
    path = PurePosixPath(source)
    return str(path.with_name(path.stem + CHECK_SUFFIX))


def is_check_record(path: str) -> bool:
    return path.endswith(CHECK_SUFFIX)


def sources_of(sources: Sources) -> list[tuple[str, bytes]]:
    """The endorsement files under content/endorsements/ (check records excluded), sorted."""
    return [(p, d) for p, d in sources.under(FOLDER, SOURCE_SUFFIXES) if not is_check_record(p)]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def short_digest(document: dict | str) -> str:
    return canonical.digest(document)[:16]


def types_of(doc: Any) -> list:
    kind = doc.get("type") if isinstance(doc, dict) else None
    return kind if isinstance(kind, list) else [kind]


def issuer_id_of(doc: Mapping) -> str | None:
    issuer = doc.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else None


def credential_of_jwt(claims: Mapping) -> dict:
    """The credential inside a VC-JWT payload: the `vc` claim, or the payload less the JWT claims."""
    if isinstance(claims.get("vc"), dict):
        return claims["vc"]
    return {k: v for k, v in claims.items() if k not in JWT_CLAIMS}


def entity_ids(site: Site, issuers: list[Issuer], badges: list[Badge], awards: list[Award]) -> dict[str, list]:
    """Every id under which an endorser may name one of our entities -> [(kind, slug)].

    Issuers: their OB 2.0 Profile URL, page and homepage, and the site's DID (the OB 3.0
    Profile id, shared by every issuer of the site). Badges: the OB 2.0 BadgeClass URL and the
    OB 3.0 Achievement id (the badge page). Awards: assertion, credential and page URLs.
    Trailing slashes do not matter.
    """
    routes = Routes(site.base_url)
    table: dict[str, list] = {}

    def add(ident: str | None, target: tuple[str, str]) -> None:
        if ident:
            entries = table.setdefault(_norm(ident), [])
            if target not in entries:
                entries.append(target)

    did = didweb.did_from_base_url(site.base_url)
    for issuer in issuers:
        for ident in (routes.url(routes.issuer_json(issuer)), routes.url(routes.issuer_page(issuer)), issuer.url, did):
            add(ident, ("issuer", issuer.slug))
    for badge in badges:
        for ident in (routes.url(routes.badge_json(badge)), routes.url(routes.badge_page(badge))):
            add(ident, ("badge", badge.slug))
    for award in awards:
        for path in (routes.award_json(award), routes.award_credential_json(award), routes.award_page(award)):
            add(routes.url(path), ("award", award.key))
    return table


def _web(value: Any) -> str | None:
    """`value` if it is an http(s) URL (a page may link it), else None: never a javascript: link."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _norm(ident: str) -> str:
    return ident.strip().rstrip("/")


@dataclass(frozen=True)
class _Source:
    """One endorsement as read: its document and where its parts are in the file."""

    path: str
    document: dict | str  # JSON object, or the compact JWT
    credential: dict  # the JSON object (the JWT's credential for a VC-JWT)
    data: bytes  # what was checked (the file, or the fetched bytes of a URL)
    text: str | None  # JSON text to find lines in (None: a JWT or a fetched document)
    url: str | None  # the URL it was fetched from
    url_loc: Location | None  # the `url:` line of a YAML source
    record: dict | None

    def at(self, *path: str | int) -> Location:
        if self.url_loc is not None:
            return self.url_loc
        return Location(self.path, line_of(self.text, path) if self.text is not None else 1)


def check_received(sources: Sources, site: Site, issuers: list[Issuer], badges: list[Badge], awards: list[Award],
                   now: datetime, report: Report) -> tuple[Endorsement, ...]:
    """Every endorsement in content/endorsements/ that passes its checks (the rest are reported)."""
    files = sources_of(sources)
    if not files:
        return ()
    table = entity_ids(site, issuers, badges, awards)
    found: dict[str, Endorsement] = {}
    for path, data in files:
        source = _read(path, data, sources, report)
        if source is None:
            continue
        endorsement = _check(source, table, now, report)
        if endorsement is None:
            continue
        if endorsement.digest in found:
            report.error("E302", f"this endorsement is also in {found[endorsement.digest].key}", Location(path, 1),
                         "delete one of the two files")
            continue
        found[endorsement.digest] = endorsement
    _orphan_records(sources, {p for p, _ in files}, report)
    return tuple(sorted(found.values(), key=lambda e: e.key))


def _orphan_records(sources: Sources, endorsements: set[str], report: Report) -> None:
    for path in sorted(p for p in sources.files if p.startswith(f"{CONTENT}/{FOLDER}/") and is_check_record(p)):
        stem = path[: -len(CHECK_SUFFIX)]
        if not any(p.rsplit(".", 1)[0] == stem for p in endorsements):
            report.error("E701", "check record of an endorsement that is not here", Location(path, 1),
                         "delete it, or put its endorsement back beside it")


def _record(sources: Sources, path: str, report: Report) -> dict | None:
    where = check_path(path)
    data = sources.files.get(where)
    if data is None:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record
    except (ValueError, UnicodeDecodeError) as exc:
        report.error("E701", f"the check record cannot be read ({exc})", Location(where, 1),
                     f"delete it and {_FETCH}")
        return None


def _read(path: str, data: bytes, sources: Sources, report: Report) -> _Source | None:
    record = _record(sources, path, report)
    suffix = PurePosixPath(path).suffix.lower()
    url, url_loc = None, None
    if suffix in (".yaml", ".yml"):
        doc = load_yaml(data, path, report)
        if not isinstance(doc, YMap) or set(doc) != {"url"}:
            report.error("E701", "an endorsement YAML file holds one line, `url: https://...`", Location(path, 1),
                         "write the URL the endorser gave you, e.g. url: https://accreditor.example/e/1.json")
            return None
        url_loc = doc.value_loc("url")
        try:
            url = parse_url(doc["url"])
        except ValueError as exc:
            report.error("E206", str(exc), url_loc)
            return None
        fetched = (record or {}).get("fetched") if isinstance(record, dict) else None
        if not isinstance(fetched, dict) or fetched.get("url") != url or not isinstance(fetched.get("text"), str):
            report.error("E706", f"the endorsement at {url} has not been fetched yet", url_loc, _FETCH)
            return None
        data = fetched["text"].encode("utf-8")
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        report.error("E101", "endorsement file is not UTF-8", Location(path, 1), "save it as UTF-8")
        return None
    if suffix == ".jwt" or (url is not None and not text.startswith("{")):
        try:
            _header, claims, _, _ = jws.decode(text)
        except jws.JwsError as exc:
            report.error("E701", f"not a VC-JWT: {exc}", url_loc or Location(path, 1),
                         "an endorsement file is the JSON credential (.json) or its compact JWT (.jwt)")
            return None
        if not isinstance(claims, dict):
            report.error("E701", "the VC-JWT payload is not a JSON object", url_loc or Location(path, 1))
            return None
        return _Source(path, text, credential_of_jwt(claims), data, None, url, url_loc, record)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        report.error("E701", f"not valid JSON ({getattr(exc, 'msg', exc)})", url_loc or Location(path, line),
                     "the file must be the endorsement exactly as you received it")
        return None
    if not isinstance(doc, dict):
        report.error("E701", "the JSON is not an object", url_loc or Location(path, 1))
        return None
    return _Source(path, doc, doc, data, None if url else text, url, url_loc, record)


def _check(source: _Source, table: dict[str, list], now: datetime, report: Report) -> Endorsement | None:
    doc = source.credential
    types = types_of(doc)
    if "EndorsementCredential" in types:
        return _check_ob3(source, table, now, report)
    if "Endorsement" in types and source.url is not None:
        return _check_ob2(source, table, now, report)
    hint = ("an OB 2.0 Endorsement is checked at its URL: put `url: <its id>` in a .yaml file instead"
            if "Endorsement" in types else "it must be an OB 3.0 EndorsementCredential or an OB 2.0 Endorsement")
    report.error("E701", f"not an endorsement (type {types if types != [None] else 'missing'})", source.at("type"),
                 hint)
    return None


def _targets(source: _Source, subject: Any, where: tuple, table: dict[str, list],
             report: Report) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(subject, str) or not subject.strip():
        report.error("E701", "the endorsement names no entity (its subject has no id)", source.at(*where[:-1]))
        return None
    targets = table.get(_norm(subject))
    if not targets:
        report.error("E705", f"it endorses {subject}, which is no badge, issuer or award of this site",
                     source.at(*where), did_you_mean(subject, list(table)) or
                     "ask the endorser to name one of your badge (badges/ID.json or badges/ID/), issuer or award URLs")
        return None
    return tuple(targets)


def _dates(source: _Source, doc: Mapping, start_key: str, end_key: str, now: datetime,
           report: Report) -> tuple[datetime, datetime | None] | None:
    try:
        start = parse_datetime(doc.get(start_key))
    except ValueError as exc:
        report.error("E701", f"{start_key}: {exc}", source.at(start_key))
        return None
    end = None
    if doc.get(end_key) is not None:
        try:
            end = parse_datetime(doc[end_key])
        except ValueError as exc:
            report.error("E701", f"{end_key}: {exc}", source.at(end_key))
            return None
    if start > now:
        report.error("E703", f"the endorsement is not valid before {start.date()}", source.at(start_key),
                     "add it to content once it is valid")
        return None
    if end is not None and end <= now:
        report.error("E703", f"the endorsement expired on {end.date()}", source.at(end_key),
                     "remove the file, or ask the endorser for a renewed endorsement")
        return None
    return start, end


def _check_ob3(source: _Source, table: dict[str, list], now: datetime, report: Report) -> Endorsement | None:
    doc = source.credential
    subject = doc.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    if "EndorsementSubject" not in types_of(subject):
        report.error("E701", "credentialSubject is not an EndorsementSubject", source.at("credentialSubject"))
        return None
    targets = _targets(source, subject.get("id"), ("credentialSubject", "id"), table, report)
    issuer_id = issuer_id_of(doc)
    if not isinstance(issuer_id, str):
        report.error("E701", "the endorsement names no issuer (endorser)", source.at("issuer"))
        return None
    proven = _proof_ok(source, issuer_id, report)
    dates = _dates(source, doc, "validFrom" if "validFrom" in doc else "issuanceDate",
                   "validUntil" if "validUntil" in doc else "expirationDate", now, report)
    if targets is None or not proven or dates is None or not _status_ok(source, report):
        return None
    comment = subject.get("endorsementComment")
    issuer = doc.get("issuer") if isinstance(doc.get("issuer"), dict) else {}
    name = issuer.get("name") if isinstance(issuer.get("name"), str) else issuer_id
    link = _web(issuer.get("url")) or _web(issuer_id)
    url = source.url or _web(doc.get("id"))
    return Endorsement(source.path, "ob3", targets, subject["id"], name, link,
                       comment if isinstance(comment, str) else "", dates[0], dates[1], source.document, url,
                       short_digest(source.document), source.at())


def _recorded_keys(source: _Source) -> Mapping:
    keys_ = (source.record or {}).get("keys")
    return keys_ if isinstance(keys_, dict) else {}


class _KeyMissing(Exception):
    pass


def _proof_ok(source: _Source, issuer_id: str, report: Report) -> bool:
    if isinstance(source.document, str):
        return _jwt_ok(source, issuer_id, report)
    recorded = _recorded_keys(source)

    def resolve(method: str):
        if method.split("#")[0] != issuer_id:
            raise ValueError(f"key {method} is not controlled by the endorser {issuer_id}")
        if method.partition("#")[2].startswith("z6Mk"):
            return multikey.key_from_fragment(method)
        entry = recorded.get(method)
        if not isinstance(entry, dict) or not isinstance(entry.get("publicKeyMultibase"), str):
            raise _KeyMissing(method)
        return multikey.decode_public_key(entry["publicKeyMultibase"])

    missing: list[str] = []

    def resolving(method: str):
        try:
            return resolve(method)
        except _KeyMissing:
            missing.append(method)
            raise

    from ..crypto import dataintegrity  # (PyLD: imported when there is an endorsement to verify)

    if not dataintegrity.proofs_of(source.credential):
        report.error("E702", "the endorsement has no proof (it is not signed)", source.at())
        return False
    result = dataintegrity.verify(source.credential, resolving)
    if result.ok:
        return True
    if missing:
        report.error("E706", f"the endorser's key {missing[0]} is not recorded", source.at("proof"), _FETCH)
    else:
        reason = "; ".join(result.errors)
        tampered = "does not verify" in reason
        report.error("E702", "the signature does not match: the endorsement was changed after it was signed"
                     if tampered else f"the proof cannot be checked: {reason[:300]}", source.at("proof"),
                     "use the file exactly as the endorser sent it" if tampered else
                     "ask the endorser for an eddsa-rdfc-2022 Data Integrity proof or an RS256 VC-JWT")
    return False


def _jwt_ok(source: _Source, issuer_id: str, report: Report) -> bool:
    header, _claims, _, _ = jws.decode(source.document)
    kid = header.get("kid")
    where = source.at()
    if header.get("alg") != "RS256":
        report.error("E702", f"unsupported algorithm {header.get('alg')!r} (RS256 expected)", where)
        return False
    if not isinstance(kid, str) or kid.split("#")[0] != issuer_id:
        report.error("E702", f"the token's key {kid!r} is not the endorser's ({issuer_id})", where)
        return False
    entry = _recorded_keys(source).get(kid)
    if not isinstance(entry, dict) or not isinstance(entry.get("publicKeyJwk"), dict):
        report.error("E706", f"the endorser's key {kid} is not recorded", where, _FETCH)
        return False
    try:
        jws.verify_rs256(source.document, keys.rsa_key_from_jwk(entry["publicKeyJwk"]))
    except (jws.JwsError, keys.KeyProblem, ValueError):
        report.error("E702", "the signature does not match: the endorsement was changed after it was signed", where,
                     "use the file exactly as the endorser sent it")
        return False
    return True


def _status_ok(source: _Source, report: Report) -> bool:
    """E704 when the record says revoked; W701 when a status list exists but no answer is recorded."""
    status = (source.record or {}).get("status")
    current = isinstance(source.record, dict) and source.record.get("sha256") == sha256(source.data)
    state = status.get("state") if isinstance(status, dict) and current else None
    message = str(status.get("message", "")) if isinstance(status, dict) else ""
    when = str((source.record or {}).get("checked_on", ""))[:10]
    if state == "revoked":
        report.error("E704", f"the endorser revoked this endorsement ({message}; checked {when})",
                     source.at("credentialStatus"), "remove the file")
        return False
    has_status = bool(source.credential.get("credentialStatus")) or source.credential.get("revoked") is not None
    if has_status and state != "clear":
        detail = f" (checked {when}: {message})" if state == "unchecked" else ""
        report.warning("W701", f"its revocation status could not be checked{detail}", source.at("credentialStatus"),
                       _FETCH if state is None else "run `badgekiln endorsements fetch` again when the endorser's "
                       "status list can be reached")
    return True


def _check_ob2(source: _Source, table: dict[str, list], now: datetime, report: Report) -> Endorsement | None:
    doc = source.credential
    if doc.get("id") != source.url:
        report.error("E701", f"the document at {source.url} has id {doc.get('id')!r}: a hosted endorsement's id is "
                     "its URL", source.at(), "use the endorsement's own URL")
        return None
    if doc.get("revoked") is True:
        report.error("E704", f"the endorser revoked this endorsement ({doc.get('revocationReason') or 'no reason'})",
                     source.at(), "remove the file")
        return None
    claim = doc.get("claim") if isinstance(doc.get("claim"), dict) else {}
    targets = _targets(source, claim.get("id"), ("claim", "id"), table, report)
    dates = _dates(source, doc, "issuedOn", "expires", now, report)
    if targets is None or dates is None or not _status_ok(source, report):
        return None
    endorser = (source.record or {}).get("endorser")
    endorser = endorser if isinstance(endorser, dict) else {}
    issuer = issuer_id_of(doc) or ""
    name = endorser.get("name") if isinstance(endorser.get("name"), str) else issuer
    link = _web(endorser.get("url")) or _web(issuer)
    comment = claim.get("endorsementComment")
    return Endorsement(source.path, "ob2", targets, claim["id"], name, link,
                       comment if isinstance(comment, str) else "", dates[0], dates[1], doc, source.url,
                       short_digest(doc), source.at())
