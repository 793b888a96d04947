"""What each issuer has published that needs its key: frozen signed status lists and signed forms.

Every OB 3.0 credential points at its issuer's signed W3C status lists (status_lists.py). Like
the credentials themselves, the lists are frozen in the ledger when they are signed (its
`issuers` section: per issuer and purpose, the digest of the unsigned list, its `validFrom` and
its proof), so a build without the private key republishes them byte for byte as long as no
status changed. The section also records which signed forms were published (`signed_forms`:
the VC-JWT copies and the OB 2.0 signed assertions), which cannot be made without the key.

A build never publishes fewer verification files than the ledger records: when a recorded
list changed (a revocation, a suspension) or a recorded form is still switched on, and there
is no key, the build stops (E507) rather than publish a site whose credentials point at a
missing or stale list. Something new that needs a signature (a list never signed before, a
form just switched on, a new award's credential) stops a CI or `--frozen` build (E507) and
is a warning on a person's machine (W501, signing.py), where they can add the key.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import canonical
from ..model.domain import Award, GivenEndorsement, Issuer, SiteModel
from ..model.routes import Routes
from . import status_lists

FORMS = {"vc_jwt": "VC-JWT copies", "ob2_signed": "Open Badges 2.0 signed assertions"}
_LIST_FIELDS = ("digest", "validFrom", "proof")


class ExpectedFiles:
    """The verification files the ledger records, each struck off as the build publishes or keeps it.

    One 8-byte hash a path (this process's `hash()`) and a flag, where a set of the paths took 200
    bytes each (10^5 awards each have one to three). The paths are made again from `paths` only
    to name the missing ones (an E507, which stops the build). At 10^6 awards a build has about
    one chance in 10^6 that a published path shares a hash with an expected one; only if that
    expected file is then missing does it go unnoticed."""

    def __init__(self, paths: Callable[[], Iterable[str]] = tuple):
        self._paths = paths
        self._hashes = array("q", sorted({hash(path) for path in paths()}))
        self._seen = bytearray(len(self._hashes))

    def __len__(self) -> int:
        return len(self._hashes)

    def strike(self, path: str) -> None:
        """`path` is published (or kept as published)."""
        key = hash(path)
        index = bisect_left(self._hashes, key)
        if index < len(self._hashes) and self._hashes[index] == key:
            self._seen[index] = 1

    def missing(self, counts: Callable[[str], bool] = lambda path: True) -> list[str]:
        """The expected paths never struck off, in order, among those that `counts`."""
        if all(self._seen):
            return []
        return sorted({path for path in self._paths() if counts(path)
                       and not self._seen[bisect_left(self._hashes, hash(path))]})


@dataclass
class IssuerFiles:
    """The signed status lists to publish, the ledger's `issuers` section after this build, and what it needs."""

    lists: dict[str, bytes] = field(default_factory=dict)  # output path -> signed list
    records: dict[str, dict] = field(default_factory=dict)  # issuer slug -> record
    expected: ExpectedFiles = field(default_factory=ExpectedFiles)  # verification files the ledger records
    dropped: list[str] = field(default_factory=list)  # recorded, cannot be published without the key
    unsigned: list[str] = field(default_factory=list)  # new, cannot be signed without the key


def _valid_list_record(record: Any) -> bool:
    return (isinstance(record, Mapping) and all(k in record for k in _LIST_FIELDS)
            and isinstance(record["proof"], Mapping) and isinstance(record["proof"].get("verificationMethod"), str))


def _republished(record: Any, unsigned_at, revoked_keys: set[str]) -> dict | None:
    """The recorded signed list, if its unsigned content (at the recorded validFrom) is unchanged."""
    if not _valid_list_record(record):
        return None
    if record["proof"]["verificationMethod"].rpartition("#key-")[2] in revoked_keys:
        return None  # signed by a key that leaked: signed again like the credentials
    unsigned = unsigned_at(record["validFrom"])
    if canonical.digest(unsigned) != record["digest"]:
        return None
    return {**unsigned, "proof": [dict(record["proof"])]}


def freeze(model: SiteModel, routes: Routes, did: str, signers: Mapping, credentials: Mapping[str, dict],
           recorded: Mapping[str, dict], revoked_keys: set[str], preview: bool) -> IssuerFiles:
    """Each issuer's signed lists (republished, or signed with `signers[issuer]`), forms and expectations.

    `credentials` are the awards' credential records after this build (award key -> record);
    in a `preview` the ledger is neither read nor written (another base URL, another DID).
    """
    files = IssuerFiles(records={k: dict(v) for k, v in recorded.items()})
    expected = []  # (issuer, its record, the signed forms it publishes)
    for issuer in model.issuers:
        awards = [a for a in model.awards if model.badge(a.badge).issuer == issuer.slug]
        given = [g for g in model.given if g.issuer == issuer.slug]  # endorsements given: revoked in the same lists
        if not awards and not given:
            continue
        record = {} if preview else files.records.get(issuer.slug, {})
        signer = signers.get(issuer.slug)
        credentialed = [a for a in awards if a.key in credentials]
        _lists(issuer, awards, given, credentialed, record, signer, routes, did, revoked_keys, files)
        enabled = _forms(issuer, awards, credentialed, record, signer, model, files)
        if preview:
            continue
        if record:
            files.records[issuer.slug] = record
        expected.append((issuer, record, set(record.get("signed_forms") or ()) & enabled))
    files.expected = ExpectedFiles(lambda: _expected_paths(model, routes, credentials, expected))
    return files


def _expected_paths(model: SiteModel, routes: Routes, credentials: Mapping[str, dict],
                    issuers: list[tuple[Issuer, dict, set[str]]]) -> Iterator[str]:
    """The verification files the ledger records for each issuer (`record`), with the signed
    `forms` it publishes: the status lists, and each award's credential and signed forms."""
    forms_of = {issuer.slug: forms for issuer, _, forms in issuers}
    for issuer, record, _ in issuers:
        yield from (routes.status_list(issuer, p) for p in status_lists.PURPOSES if p in record)
    for award in model.awards:  # one pass, whatever the number of issuers
        forms = forms_of.get(model.badge(award.badge).issuer)
        if forms is None:
            continue
        if award.key in credentials:
            yield routes.award_credential_json(award)
            if "vc_jwt" in forms:
                yield routes.award_credential_jwt(award)
        if "ob2_signed" in forms:
            yield routes.award_ob2_jws(award)


def _lists(issuer: Issuer, awards: list[Award], given: list[GivenEndorsement], credentialed: list[Award],
           record: dict, signer, routes: Routes, did: str, revoked_keys: set[str], files: IssuerFiles) -> None:
    valid_from = status_lists.list_date(awards, given)
    for purpose in status_lists.PURPOSES:
        path = routes.status_list(issuer, purpose)

        def unsigned_at(moment: str) -> dict:
            return status_lists.status_list_credential(issuer, did, purpose, awards, routes, moment, given)

        old = record.get(purpose)
        signed = _republished(old, unsigned_at, revoked_keys)
        if signed is None and signer is not None:
            unsigned = unsigned_at(valid_from)
            signed = signer.sign_document(unsigned)
            record[purpose] = {"digest": canonical.digest(unsigned), "validFrom": valid_from,
                               "proof": signed["proof"][-1]}
        if signed is not None:
            files.lists[path] = canonical.json_bytes(signed)
        elif _valid_list_record(old):
            files.dropped.append(f"the {purpose} status list of issuer '{issuer.slug}' changed and must be signed "
                                 "again (republishing the old one would show a wrong status)")
        elif credentialed:
            files.unsigned.append(f"the {purpose} status list of issuer '{issuer.slug}', which its "
                                  f"{len(credentialed)} credential(s) point at, cannot be signed")


def _forms(issuer: Issuer, awards: list[Award], credentialed: list[Award], record: dict, signer, model: SiteModel,
           files: IssuerFiles) -> set[str]:
    """Record which signed forms this issuer publishes (recorded ones still switched on must stay); the enabled ones."""
    site = model.site
    enabled = {name for name, on in (("vc_jwt", site.vc_jwt), ("ob2_signed", site.ob2_signed)) if on}
    can_sign = signer is not None and signer.key.rsa is not None
    made = {name for name in enabled if can_sign and (credentialed if name == "vc_jwt" else awards)}
    recorded = {f for f in record.get("signed_forms") or () if f in FORMS}
    for name in sorted((recorded & enabled) - made):
        count = len(credentialed if name == "vc_jwt" else awards)
        files.dropped.append(f"the {FORMS[name]} of issuer '{issuer.slug}' ({count} file(s), site.yaml signing: "
                             f"{name}) were published and cannot be made again")
    for name in sorted(enabled - made - recorded):
        files.unsigned.append(f"no {FORMS[name]} can be made for issuer '{issuer.slug}' (site.yaml signing: {name})")
    if recorded | made:
        record["signed_forms"] = sorted(recorded | made)
    return enabled
