"""Open Badges 3.0 status on a static host: W3C Bitstring Status Lists and the 1EdTech list.

Every OB 3.0 credential carries, from the day it is issued, a `credentialStatus` that points
at static files under /status/<issuer>/ (routes.py), all published on every build:

- `revocation.json` and `suspension.json`: signed `BitstringStatusListCredential`s (W3C
  Bitstring Status List v1.0). Each credential owns one random position in them, minted once
  in the ledger (`status_index`); a list holds `ledger.STATUS_LIST_SIZE` = 131,072 positions
  (the spec's minimum, for herd privacy). Bit 1 = revoked / suspended.
- `1edtech-revocations.json`: the `1EdTechRevocationList` document (the status method the
  OB 3.0 spec names and the 1EdTech validator checks), listing revoked credential ids.
- `renewals.json`: for badges with a CPD renewal rule, which credentials were renewed (and
  by which) and when the others lapse; `verify` reads it to tell "lapsed" from "expired".

Revoking, suspending or reinstating changes these files (and the award page), never the
credential: its bytes and signature stay as issued. The signed lists are frozen in the ledger
like the credentials (published.py): a list is signed again only when its bits change (or
its key was revoked), with a `validFrom` taken from content dates (the latest issue or
status-change date of the issuer's awards), never the clock; otherwise the recorded one is
republished byte for byte, with or without the key. gzip uses mtime 0.

Which entries a credential carries (site.yaml `signing: credential_status`, frozen per
credential in its ledger record, so changing the setting only affects new credentials):

- `single` (default): one `BitstringStatusListEntry` for revocation. The OB 3.0 data model
  gives `credentialStatus` a cardinality of [0..1] and both 1EdTech JSON schemas want one
  object; this entry is the one the 1EdTech validator, Digital Bazaar and the DCC verifiers all
  read. A suspension then shows on the award page, in OB 2.0 and to our own verifiers
  (`companion_entries`), not to other OB 3.0 verifiers.
- `list`: revocation and suspension entries plus a `1EdTechRevocationList` (VC 2.0 allows a
  list; the current 1EdTech validator walks it), for ecosystems that need suspension in the
  credential. Such credentials fail the OB 3.0 JSON schemas on `credentialStatus` alone.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from .. import canonical
from ..artifacts import Artifact
from ..model.cpd import every_text
from ..model.domain import Award, GivenEndorsement, Issuer, SiteModel
from ..model.ledger import STATUS_LIST_SIZE
from ..model.routes import Routes
from ..validate.values import format_datetime
from .ob2_revocation import reason_text

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PURPOSES = ("revocation", "suspension")
ENTRY_TYPE = "BitstringStatusListEntry"
ONEEDTECH_TYPE = "1EdTechRevocationList"


class StatusListError(ValueError):
    """An encoded list that cannot be decoded, or an index outside the list."""


# --- the bitstring -------------------------------------------------------------------------

def encode(indexes: Iterable[int], size: int = STATUS_LIST_SIZE) -> str:
    """`encodedList`: "u" + base64url (no padding) of the GZIP of the bitstring (bit i = index i).

    Index 0 is the left-most bit of the first byte (mask 0x80), per the W3C spec. GZIP uses a
    fixed mtime of 0 so the same bits always give the same bytes.
    """
    if size % 8:
        raise StatusListError("list size must be a multiple of 8")
    bits = bytearray(size // 8)
    for index in indexes:
        if not 0 <= index < size:
            raise StatusListError(f"status index {index} is outside the list (size {size})")
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(encoded: str) -> bytes:
    """The uncompressed bitstring of an `encodedList` (multibase "u" prefix optional, as verifiers accept)."""
    text = encoded[1:] if encoded.startswith("u") else encoded
    try:
        return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList cannot be decoded: {exc}") from None


def bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"status index {index} is outside the list ({len(bits) * 8} entries)")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- documents -----------------------------------------------------------------------------

FORMS = ("single", "list")
LEGACY_FORM = "list"  # credentials frozen before the setting existed carry the list


def credential_status(award: Award, issuer: Issuer, routes: Routes, form: str) -> dict | list[dict]:
    """The `credentialStatus` frozen into an award's OB 3.0 credential (see the module docstring)."""
    assert award.status_index is not None, award.key
    if form not in FORMS:
        raise ValueError(f"unknown credential_status form {form!r}")
    entries = [status_entry(award.status_index, issuer, routes, purpose)
               for purpose in (PURPOSES if form == "list" else ("revocation",))]
    if form == "single":
        return entries[0]
    entries.append({"id": routes.url(routes.revocation_list_1edtech(issuer)), "type": ONEEDTECH_TYPE})
    return entries


def status_entry(index: int, issuer: Issuer, routes: Routes, purpose: str = "revocation") -> dict:
    """One `BitstringStatusListEntry` at `index` of the issuer's list of `purpose`."""
    url = routes.url(routes.status_list(issuer, purpose))
    return {"id": f"{url}#{index}", "type": ENTRY_TYPE, "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": url}


def form_of(credential: dict) -> str:
    """Which form a credential's `credentialStatus` has (a list, or one object)."""
    return "list" if isinstance(credential.get("credentialStatus"), list) else "single"


def companion_entries(entries: list[dict]) -> list[dict]:
    """The lists a Badgekiln site publishes next to a lone revocation entry, for our verifiers.

    A `single` credential names only the revocation list, but the suspension list (same
    index) and the 1EdTech list (with the reason) sit beside it. `verify` and the browser
    verifier read them when present, so a suspension and a reason still show; other issuers'
    sites simply don't have them, and the credential's own entry stays the authority.
    """
    if len(entries) != 1 or entries[0].get("type") != ENTRY_TYPE or entries[0].get("statusPurpose") != "revocation":
        return []
    url = entries[0].get("statusListCredential")
    if not isinstance(url, str) or not url.endswith("/revocation.json"):
        return []
    folder = url.removesuffix("revocation.json")
    return [{"type": ENTRY_TYPE, "statusPurpose": "suspension", "statusListIndex": entries[0].get("statusListIndex"),
             "statusListCredential": folder + "suspension.json"},
            {"type": ONEEDTECH_TYPE, "id": folder + "1edtech-revocations.json"}]


def previous_credential_evidence(award: Award, routes: Routes) -> dict:
    """OB 3.0 evidence of a CPD renewal: the credential it renews (frozen: a slug from the ledger)."""
    assert award.cpd is not None and award.cpd.previous
    previous = routes.url(routes.award_credential_json(replace(award, slug=award.cpd.previous)))
    return {"id": previous, "type": ["Evidence"], "name": "Previous credential",
            "description": "The credential this one renews through continuing professional development."}


def flagged(award: Award, purpose: str) -> bool:
    """Whether the award's bit is set in the list of `purpose`."""
    if purpose == "revocation":
        return award.revocation is not None
    return award.revocation is None and award.suspension is not None


def list_date(awards: Iterable[Award], given: Iterable[GivenEndorsement] = ()) -> str | None:
    """`validFrom` of an issuer's lists: the latest issue or status-change date in content."""
    dates = []
    for award in awards:
        dates.append(award.issued_on)
        for change in (award.revocation, award.suspension, award.lifted_suspension, award.reinstatement):
            if change is not None:
                dates.append(change.on)
    for endorsement in given:
        dates += [endorsement.issued_on] + ([endorsement.revocation.on] if endorsement.revocation else [])
    return format_datetime(max(dates)) if dates else None


def status_list_credential(issuer: Issuer, issuer_id: str, purpose: str, awards: list[Award],
                           routes: Routes, valid_from: str, given: Iterable[GivenEndorsement] = ()) -> dict:
    """The unsigned `BitstringStatusListCredential` of one purpose (VC 2.0 context only).

    `issuer` is the bare id: it must equal the credentials' issuer id (verifiers compare them),
    and a `Profile` object would need the OB context.
    """
    url = routes.url(routes.status_list(issuer, purpose))
    indexes = [a.status_index for a in awards if a.status_index is not None and flagged(a, purpose)]
    indexes += [g.status_index for g in given if g.revocation is not None and purpose == "revocation"]
    return {
        "@context": [VC2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": valid_from,
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": encode(indexes)},
    }


def revocation_list_1edtech(issuer: Issuer, issuer_id: str, awards: list[Award], routes: Routes,
                            credential_id: Callable[[Award], str], given: Iterable[GivenEndorsement] = ()) -> dict:
    """The 1EdTech Revocation List: withdrawn credentials by id (suspended ones until reinstated).

    Entries are `{id, revoked, revocationReason}`. The list goes under both names the 1EdTech
    validator has read: `revokedCredential` (current releases, DIGEST §4.7) and
    `revokedCredentials` (releases before the W3C status support), so either finds it.
    """
    revoked = [{"id": credential_id(a), "revoked": True, "revocationReason": reason_text(a)}
               for a in awards if reason_text(a) is not None]
    revoked += [{"id": routes.url(routes.given_endorsement(g)), "revoked": True,
                 "revocationReason": g.revocation.reason} for g in given if g.revocation is not None]
    revoked.sort(key=lambda item: item["id"])
    return {"id": routes.url(routes.revocation_list_1edtech(issuer)), "issuer": issuer_id,
            "revokedCredential": revoked, "revokedCredentials": revoked}


def slug_key(slug: str) -> str:
    """How renewals.json names an award: a hash of its slug, so the file lists no page URL."""
    return hashlib.sha256(slug.encode("ascii")).hexdigest()


def renewals_document(issuer: Issuer, issuer_id: str, awards: list[Award], routes: Routes) -> dict:
    """CPD chains of an issuer, for `verify`: is an expired credential lapsed or renewed?

    Keyed by `slug_key(slug)`: whoever holds a credential can look it up, nobody can list the
    awards from it. `renewedBy` is the page of the next credential (the award page links it too).
    """
    chains = {}
    for award in awards:
        if award.cpd is None:
            continue
        renewed_by = None
        if award.cpd.renewed_by:
            renewed_by = routes.url(routes.award_page(replace(award, slug=award.cpd.renewed_by)))
        chains[slug_key(award.slug)] = {
            "renewedBy": renewed_by,
            "lapsesOn": format_datetime(award.cpd.lapses_on) if award.cpd.lapses_on and not renewed_by else None,
            "rule": {"every": every_text(award.cpd.rule.every), "amount": award.cpd.rule.amount,
                     "unit": award.cpd.rule.unit}}
    return {"id": routes.url(routes.cpd_renewals(issuer)), "issuer": issuer_id, "credentials": chains}


def status_files(state, model: SiteModel, routes: Routes) -> Iterator[Artifact]:
    """Every issuer's status files: the 1EdTech list and renewals always, the signed bitstring lists when signed.

    `state` is signing.SigningState (None when signing did not run); its `status_lists` are the
    signed lists, republished from the ledger or signed in this build (published.py).
    """
    did = getattr(state, "did", None)
    signed = state.status_lists if state is not None else {}
    for issuer in model.issuers:
        awards = [a for a in model.awards if model.badge(a.badge).issuer == issuer.slug]
        given = [g for g in model.given if g.issuer == issuer.slug]  # revoked through the same lists
        issuer_id = did or routes.url(routes.issuer_json(issuer))
        yield Artifact(routes.revocation_list_1edtech(issuer), canonical.json_bytes(revocation_list_1edtech(
            issuer, issuer_id, awards, routes, lambda a: routes.url(routes.award_credential_json(a)), given)))
        yield Artifact(routes.cpd_renewals(issuer),
                       canonical.json_bytes(renewals_document(issuer, issuer_id, awards, routes)))
        for purpose in PURPOSES:
            path = routes.status_list(issuer, purpose)
            if path in signed:
                yield Artifact(path, signed[path])
