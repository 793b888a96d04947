"""Open Badges 2.0 hosted-verification documents (Issuer Profile, BadgeClass, Assertion).

Pure functions from the model to JSON-ready dicts. Every `id` is the URL the document is
served at, which is what hosted verification checks (DIGEST section 2).
"""
from __future__ import annotations

from dataclasses import replace

from ..model.domain import Award, Badge, Issuer, SiteModel
from ..model.routes import Routes
from ..validate.values import format_datetime
from .identity import identity_hash

CONTEXT = "https://w3id.org/openbadges/v2"


def _drop_empty(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if v not in (None, "", [], ())}


def endorsement_urls(model: SiteModel, kind: str, slug: str) -> list[str]:
    """OB 2.0 `endorsement`: the URLs of the hosted OB 2.0 Endorsements received for an entity.

    Received OB 3.0 EndorsementCredentials are not listed: OB 2.0 verifiers (the IMS validator)
    fetch each URL and require an OB 2.0 Endorsement there. Pages show both kinds.
    """
    return [e.url for e in model.endorsements_of(kind, slug) if e.version == "ob2" and e.url]


def issuer_profile(issuer: Issuer, routes: Routes, endorsements: list[str] | tuple = ()) -> dict:
    return _drop_empty({
        "@context": CONTEXT,
        "type": "Issuer",
        "id": routes.url(routes.issuer_json(issuer)),
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
        "description": issuer.description.strip(),
        "telephone": issuer.telephone,
        "image": routes.url(routes.issuer_image(issuer)) if issuer.image else None,
        "revocationList": routes.url(routes.ob2_revocation_list(issuer)),  # see revocation.py
        "endorsement": list(endorsements),
    })


def badge_class(badge: Badge, model: SiteModel, routes: Routes) -> dict:
    alignment = [_drop_empty({
        "targetName": a.name, "targetUrl": a.url, "targetDescription": a.description,
        "targetFramework": a.framework, "targetCode": a.code,
    }) for a in badge.alignments]
    return _drop_empty({
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": routes.url(routes.badge_json(badge)),
        "name": badge.name,
        "description": badge.description.strip(),
        "image": routes.url(routes.badge_image(badge)),
        "criteria": _drop_empty({
            "id": badge.criteria_url or routes.url(routes.badge_page(badge)),
            "narrative": badge.criteria.strip(),
        }),
        "issuer": routes.url(routes.issuer_json(model.issuer(badge.issuer))),
        "tags": list(badge.tags),
        "alignment": alignment,
        "endorsement": endorsement_urls(model, "badge", badge.slug),
    })


def assertion(award: Award, badge: Badge, routes: Routes, endorsements: list[str] | tuple = (), *,
              baked_image: bool = False) -> dict:
    """The hosted Assertion. Its `image` is the award's baked PNG when one is published per award
    (`outputs: full`), else the badge class image (the PNG a recipient downloads is baked from it)."""
    evidence = [{"type": "Evidence", "id": routes.url(routes.award_page(replace(award, slug=part.slug))),
                 "name": part.badge_name} for part in award.earned_by]  # a pathway award: what earned it
    evidence += [_drop_empty({
        "type": "Evidence", "id": e.url, "name": e.name, "description": e.description,
    }) for e in award.evidence]
    if award.cpd is not None and award.cpd.previous:  # a CPD renewal links the credential it renews
        previous = routes.url(routes.award_json(replace(award, slug=award.cpd.previous)))
        evidence.insert(0, {"type": "Evidence", "id": previous, "name": "Previous credential",
                            "description": "The credential this one renews through continuing professional "
                                           "development."})
    return _drop_empty({
        "@context": CONTEXT,
        "type": "Assertion",
        "id": routes.url(routes.award_json(award)),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": award.salt,
            "identity": identity_hash(award.email, award.salt),
        },
        "badge": routes.url(routes.badge_json(badge)),
        "verification": {"type": "HostedBadge"},
        "issuedOn": format_datetime(award.issued_on),
        "expires": format_datetime(award.expires) if award.expires else None,
        "image": routes.url(routes.award_png(award) if baked_image else routes.badge_image(badge)),
        "evidence": evidence,
        "narrative": (award.narrative or "").strip(),
        "endorsement": list(endorsements),  # URLs of OB 2.0 Endorsements of this award
    })
