"""Endorsements this site gives: content/given-endorsements.yaml, resolved against the ledger.

`badgekiln endorse URL --comment TEXT` appends an entry; the build mints its status-list
position once in the ledger (in the same lists as the issuer's awards, so `badgekiln revoke`
revokes it the same way), signs its EndorsementCredential once and freezes the signature
(credentials/signing.py), and publishes it at routes.given_endorsement(): a stable URL built
from its id. Removing a published one from content is an error, as for an award.
"""
from __future__ import annotations

from collections.abc import Callable

from ..diagnostics import Location, Report
from ..load.files import CONTENT, Sources
from ..load.positioned_yaml import load_yaml
from ..validate import schema
from ..validate.values import parse_url
from . import ledger
from .domain import GivenEndorsement, StatusChange

PATH = f"{CONTENT}/given-endorsements.yaml"


def resolve(sources: Sources, issuer_of: Callable[[schema.Validated], str | None], old: dict[str, ledger.Given],
            used_indexes: set[int], minter: ledger.Minter, report: Report,
            check_removed: bool) -> tuple[tuple[GivenEndorsement, ...], dict[str, ledger.Given]]:
    """The given endorsements in content and the ledger's entries for them after this build.

    `issuer_of` finds an entry's issuer (resolve.issuer_of: as given, or the only one).
    """
    entries = dict(old)
    found: list[GivenEndorsement] = []
    data = sources.files.get(PATH)
    doc = load_yaml(data, PATH, report) if data is not None else None
    top = schema.validate(doc, schema.GIVEN_ENDORSEMENTS_FILE, report, Location(PATH, 1),
                          "given-endorsements file") if doc is not None else None
    seen: set[str] = set()
    for fields in (top["endorsements"] if top is not None else ()):
        slug = fields["id"]
        if slug in seen:
            report.error("E302", f"endorsement id '{slug}' is used twice", fields.at("id"), "give each one its own id")
            continue
        seen.add(slug)
        issuer = issuer_of(fields)
        about = fields["about"]
        if not about.startswith(("did:", "urn:")):
            try:
                parse_url(about)
            except ValueError as exc:
                report.error("E206", f"{exc} (or a did: or urn: id)", fields.at("about"))
                continue
        issued, valid_for = fields["issued_on"], fields.get("valid_for")
        expires = valid_for.after(issued) if valid_for else None
        revoked = fields.get("revoked")
        revocation = StatusChange(revoked["on"], revoked["reason"]) if revoked else None
        if revocation is not None and revocation.on < issued:
            report.error("E307", "revoked before it was issued", revoked.at("on"), "check both dates")
            continue
        if issuer is None:
            continue
        entry = entries.get(slug)
        if entry is None:
            entry = ledger.Given(issuer, ledger.mint_index(minter, used_indexes))
        elif entry.issuer != issuer:
            report.error("E502", f"endorsement '{slug}' was published by issuer '{entry.issuer}'", fields.at("issuer"),
                         "an endorsement given cannot change hands: revoke it and give a new one")
            continue
        entries[slug] = entry
        found.append(GivenEndorsement(slug, issuer, about, fields["name"], fields["comment"], issued, expires,
                                      entry.status_index, revocation, fields.loc))
    checkable = check_removed and (data is None or top is not None)  # a broken file hides nothing it lists
    for slug in sorted(set(old) - seen) if checkable else ():
        report.error("E707", f"published endorsement '{slug}' is no longer in {PATH}", Location(ledger.LEDGER_PATH, 1),
                     "put it back; to withdraw it, keep it and revoke it (badgekiln revoke " + slug + ")")
    return tuple(sorted(found, key=lambda g: g.slug)), entries
