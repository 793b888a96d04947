"""Open Badges 2.0 revocation on a static host (DIGEST section 2.8).

A static host cannot answer `410 Gone`, so a revoked award's hosted assertion file is
replaced by the revoked stub `{"@context", "id", "revoked": true, "revocationReason"}`, and
the issuer's `RevocationList` (named by the Profile's `revocationList`) lists it. The baked
images keep the assertion as it was issued: a verifier of a hosted badge always fetches the
hosted `id`, which now says revoked.

OB 2.0 has no suspension. A suspended award is published as revoked ("Suspended: ...")
until it is reinstated, when the full assertion comes back: hosted verification is live, so
OB 2.0 verifiers see the suspension, and nothing about the assertion itself has changed.
"""
from __future__ import annotations

from ..model.domain import Award, Issuer, StatusChange
from ..model.routes import Routes

CONTEXT = "https://w3id.org/openbadges/v2"


def withdrawal(award: Award) -> tuple[str, StatusChange] | None:
    """("revoked" | "suspended", the change) when the issuer no longer vouches for the award."""
    if award.revocation is not None:
        return "revoked", award.revocation
    if award.suspension is not None:
        return "suspended", award.suspension
    return None


def reason_text(award: Award) -> str | None:
    """The public reason, as OB 2.0 and the 1EdTech list carry it (suspensions say so)."""
    withdrawn = withdrawal(award)
    if withdrawn is None:
        return None
    kind, change = withdrawn
    reason = change.reason or ("Revoked by the issuer" if kind == "revoked" else "Suspended by the issuer")
    return reason if kind == "revoked" else f"Suspended: {reason}"


def hosted_assertion(award: Award, assertion: dict) -> dict:
    """What is served at the assertion's `id`: the assertion, or the revoked stub."""
    reason = reason_text(award)
    if reason is None:
        return assertion
    return {"@context": CONTEXT, "id": assertion["id"], "revoked": True, "revocationReason": reason}


def revocation_list(issuer: Issuer, awards: list[Award], routes: Routes) -> dict:
    """The issuer's OB 2.0 `RevocationList` (an empty list is published too: the URL is stable)."""
    revoked = [{"id": routes.url(routes.award_json(a)), "revocationReason": reason_text(a)}
               for a in awards if withdrawal(a) is not None]
    revoked.sort(key=lambda item: item["id"])
    return {
        "@context": CONTEXT,
        "type": "RevocationList",
        "id": routes.url(routes.ob2_revocation_list(issuer)),
        "issuer": routes.url(routes.issuer_json(issuer)),
        "revokedAssertions": revoked,
    }
