"""Open Badges 3.0 `OpenBadgeCredential` assembly: a pure function from the model to a dict.

Every shape choice follows DIGEST.md §0/§4 so the credential passes tools we did not write:
`type`, `proof`, `credentialSchema` and `evidence` are arrays; the issuer is an embedded
Profile (the 1EdTech validator rejects a bare URI); images are `{"id", "type": "Image"}`
objects; the recipient is identified only by a salted hash of the email (DESIGN.md invariant
2); the @context list is exact, with the extensions context added whenever a `1EdTech…` type
appears. Values that must not change after issue (dates, salt) come from the ledger.

Extra top-level members (e.g. `credentialStatus` from the lifecycle code) are passed in
`extra`, so this stays the single place that decides the credential's shape.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..model.domain import Award, Badge, Issuer, Site
from ..model.routes import Routes
from ..validate.values import format_datetime
from .identity import identity_hash

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
SCHEMA_ID = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def _drop_empty(doc: dict) -> dict:
    """Null values and empty arrays MUST be omitted (OB 3.0 App. A.1)."""
    return {k: v for k, v in doc.items() if v not in (None, "", [], ())}


def _image(url: str) -> dict:
    return {"id": url, "type": "Image"}


def issuer_profile(issuer: Issuer, did: str, routes: Routes) -> dict:
    """The embedded issuer Profile; its id is the DID whose document lists the signing keys."""
    return _drop_empty({
        "id": did,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
        "phone": issuer.telephone,
        "description": issuer.description.strip(),
        "image": _image(routes.url(routes.issuer_image(issuer))) if issuer.image else None,
    })


def achievement(badge: Badge, site: Site, routes: Routes) -> dict:
    """The Achievement: what was earned, as the badge class states it at issue time."""
    page = routes.url(routes.badge_page(badge))
    return _drop_empty({
        "id": page,
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description.strip(),
        "criteria": {"id": badge.criteria_url or page, "narrative": badge.criteria.strip()},
        "image": _image(routes.url(routes.badge_image(badge))),
        "achievementType": badge.achievement_type,
        "alignment": [_drop_empty({
            "type": ["Alignment"], "targetName": a.name, "targetUrl": a.url, "targetDescription": a.description,
            "targetFramework": a.framework, "targetCode": a.code,
        }) for a in badge.alignments],
        "creditsAvailable": badge.credits,
        "tag": list(badge.tags),
        "inLanguage": site.language,
    })


def with_endorsements(node: dict, documents: Sequence[dict | str]) -> dict:
    """`node` (an Achievement, Profile or the credential) carrying received endorsements.

    EndorsementCredentials go in `endorsement`, VC-JWTs in `endorsementJwt`, each exactly as
    the endorser signed it; empty lists are omitted (OB 3.0 App. A.1).
    """
    credentials = [d for d in documents if isinstance(d, dict)]
    tokens = [d for d in documents if isinstance(d, str)]
    return _drop_empty({**node, "endorsement": credentials, "endorsementJwt": tokens})


def credential(award: Award, badge: Badge, issuer: Issuer, site: Site, routes: Routes, did: str,
               extra: Mapping[str, Any] | None = None,
               endorsements: Mapping[str, Sequence[dict | str]] | None = None) -> dict:
    """The unsigned OpenBadgeCredential of one award.

    `extra` adds or replaces top-level members (for instance `credentialStatus`); the
    @context list is computed after merging, so a `1EdTech…` type in `extra` also pulls in
    the extensions context. `endorsements` maps "achievement", "issuer" and "credential" to
    the received endorsements embedded there (credentials/endorsement.py chooses them).
    """
    embed = endorsements or {}
    issued = format_datetime(award.issued_on)
    subject = _drop_empty({
        "type": ["AchievementSubject"],
        "identifier": [{
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": identity_hash(award.email, award.salt),
            "salt": award.salt,
        }],
        "achievement": with_endorsements(achievement(badge, site, routes), embed.get("achievement", ())),
        "narrative": (award.narrative or "").strip(),
    })
    doc = _drop_empty({
        "id": routes.url(routes.award_credential_json(award)),
        "type": list(TYPES),
        "name": badge.name,
        "description": badge.description.strip(),
        "image": _image(routes.url(routes.badge_image(badge))),
        "issuer": with_endorsements(issuer_profile(issuer, did, routes), embed.get("issuer", ())),
        "validFrom": issued,
        "validUntil": format_datetime(award.expires) if award.expires else None,
        "awardedDate": issued,
        "credentialSubject": subject,
        "evidence": earned_by_evidence(award, routes) + [
            _drop_empty({"type": ["Evidence"], "id": e.url, "name": e.name,
                         "description": (e.description or "").strip()}) for e in award.evidence],
        "credentialSchema": [{"id": SCHEMA_ID, "type": SCHEMA_TYPE}],
    })
    doc.update(extra or {})
    doc = with_endorsements(doc, embed.get("credential", ()))
    doc.pop("@context", None)
    return {"@context": contexts_for(doc), **doc}


def earned_by_evidence(award: Award, routes: Routes) -> list[dict]:
    """A pathway award's evidence: the page of each award it was earned by (frozen in the ledger)."""
    return [{"type": ["Evidence"], "id": routes.url(routes.award_page(replace(award, slug=part.slug))),
             "name": part.badge_name} for part in award.earned_by]


def contexts_for(doc: Any) -> list[str]:
    """VC 2.0 + OB 3.0.3, plus extensions.json when any `1EdTech…` type is used (DIGEST §0.2)."""
    contexts = [VC_CONTEXT, OB_CONTEXT]
    if _uses_1edtech_type(doc):
        contexts.append(EXTENSIONS_CONTEXT)
    return contexts


def _uses_1edtech_type(value: Any) -> bool:
    if isinstance(value, dict):
        kind = value.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and k.startswith("1EdTech") for k in kinds):
            return True
        return any(_uses_1edtech_type(v) for k, v in value.items() if k != "@context")
    if isinstance(value, list):
        return any(_uses_1edtech_type(v) for v in value)
    return False
