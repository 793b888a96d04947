"""EndorsementCredentials: the ones this site gives, and received ones embedded in its credentials.

Given: one unsigned OB 3.0 `EndorsementCredential` per entry of content/given-endorsements.yaml,
issued by the issuer's embedded Profile (id = the site's did:web), with a revocation entry in
the issuer's status list; signing.py signs it once and freezes the signature in the ledger.

Received: an award's credential embeds the OB 3.0 endorsements of its badge (in the
Achievement), of its issuer (in the issuer Profile) and of the award itself, where the spec
puts them. An issued credential never changes, so a credential embeds the set current when it
was first signed; its ledger record names them by digest (`record_digests`) and the ledger
keeps each embedded document (`ledger.Endorsements.embedded`), so the credential is
republished byte for byte even after the endorsement left content. OB 2.0 Endorsements have
no place in an OB 3.0 credential: OB 2.0 documents list their URLs (credentials/ob2.py).
"""
from __future__ import annotations

from collections.abc import Mapping

from ..model.domain import Award, Badge, GivenEndorsement, Issuer, SiteModel
from ..model.routes import Routes
from ..validate.values import format_datetime
from . import ob3, status_lists

SCHEMA_ID = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
TYPES = ["VerifiableCredential", "EndorsementCredential"]
PLACES = ("achievement", "issuer", "credential")


def given_credential(given: GivenEndorsement, issuer: Issuer, routes: Routes, did: str) -> dict:
    """The unsigned EndorsementCredential of an endorsement this site gives."""
    doc = ob3.with_endorsements({
        "id": routes.url(routes.given_endorsement(given)),
        "type": list(TYPES),
        "name": f"{issuer.name} endorses {given.about_name}",
        "issuer": ob3.issuer_profile(issuer, did, routes),
        "validFrom": format_datetime(given.issued_on),
        "validUntil": format_datetime(given.expires) if given.expires else None,
        "credentialSubject": {"id": given.about, "type": ["EndorsementSubject"],
                              "endorsementComment": given.comment.strip()},
        "credentialSchema": [{"id": SCHEMA_ID, "type": ob3.SCHEMA_TYPE}],
        "credentialStatus": status_lists.status_entry(given.status_index, issuer, routes),
    }, ())
    return {"@context": ob3.contexts_for(doc), **doc}


def current(award: Award, badge: Badge, issuer: Issuer, model: SiteModel) -> dict[str, list[str]]:
    """Digests of the OB 3.0 endorsements a credential signed now embeds, by place."""
    chosen = {"achievement": model.endorsements_of("badge", badge.slug),
              "issuer": model.endorsements_of("issuer", issuer.slug),
              "credential": model.endorsements_of("award", award.key)}
    return {place: [e.digest for e in found if e.version == "ob3"] for place, found in chosen.items()
            if any(e.version == "ob3" for e in found)}


def record_digests(record: Mapping | None) -> dict[str, list[str]]:
    """What a frozen credential embedded (records from before endorsements: nothing)."""
    found = (record or {}).get("endorsements")
    if not isinstance(found, dict):
        return {}
    return {place: [d for d in found.get(place, []) if isinstance(d, str)] for place in PLACES if found.get(place)}


def documents(digests: Mapping[str, list[str]], archive: Mapping[str, dict | str]) -> dict[str, list[dict | str]]:
    """The embedded documents themselves, from the ledger's archive (KeyError: the ledger lost one)."""
    return {place: [archive[d] for d in found] for place, found in digests.items()}
