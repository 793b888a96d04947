"""The issuance ledger: what was minted once per award and must never be minted again.

Like a lock file, `content/ledger.json` records each award's slug (its public URL), salt,
status-list index and frozen dates. Builds read it and only add to it; an award that left
content while still published is an error (its link would break), and `--frozen` refuses any
change at all. Randomness enters the product here and only here, through a `Minter`.
"""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from .. import canonical
from ..diagnostics import Location, Report
from ..validate.values import format_datetime, parse_datetime
from .routes import LAYOUT

LEDGER_PATH = "content/ledger.json"
FORMAT = 1
STATUS_LIST_SIZE = 131072  # 16 KiB bitstring: the W3C minimum for herd privacy
_SLUG_ALPHABET = string.ascii_lowercase + string.digits


class Minter(Protocol):
    def slug(self) -> str: ...
    def salt(self) -> str: ...
    def index(self, size: int) -> int: ...


class SecretsMinter:
    """Production minting: unguessable slugs (about 124 bits) and salts from the OS CSPRNG."""

    def slug(self) -> str:
        return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(24))

    def salt(self) -> str:
        return secrets.token_hex(16)

    def index(self, size: int) -> int:
        return secrets.randbelow(size)


@dataclass(frozen=True)
class Entry:
    badge: str
    slug: str
    salt: str
    issued_on: datetime
    expires: datetime | None
    status_index: int
    # the signed OB 3.0 credential, frozen at first signing (generator/signing.py owns
    # the shape: digest of the unsigned credential, proof created/verificationMethod/value)
    credential: dict | None = None
    # ledger keys of the awards an automatic pathway award was earned by (model/pathways.py)
    earned_by: tuple[str, ...] = ()

    def as_json(self) -> dict:
        doc = {"badge": self.badge, "slug": self.slug, "salt": self.salt,
               "issued_on": format_datetime(self.issued_on),
               "expires": format_datetime(self.expires) if self.expires else None,
               "status_index": self.status_index}
        if self.credential is not None:
            doc["credential"] = self.credential
        if self.earned_by:
            doc["earned_by"] = list(self.earned_by)
        return doc


@dataclass(frozen=True)
class Wanted:
    """What content asks of one award, before the ledger is consulted."""

    key: str
    badge: str
    issued_on: datetime
    expires: datetime | None  # from the badge policy at this issue date
    expires_explicit: bool  # set on the award itself: an explicit correction wins over the ledger
    location: Location
    earned_by: tuple[str, ...] = ()  # an automatic pathway award: the awards it was earned by


def parse(data: bytes | None, report: Report) -> dict[str, Entry]:
    if data is None:
        return {}
    where = Location(LEDGER_PATH, 1)
    hint = "restore it from git (`git checkout content/ledger.json`); never edit it by hand"
    try:
        doc = json.loads(data.decode("utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"unknown ledger format {doc.get('format')!r}")
        if doc.get("layout", LAYOUT) != LAYOUT:  # absent: written before layouts were recorded (none published)
            raise ValueError(f"its awards were published with URL layout {doc.get('layout')!r}, and this "
                             f"Badgekiln publishes layout {LAYOUT}; use the Badgekiln version that wrote it")
        entries = {}
        for key, raw in doc["awards"].items():
            entries[key] = Entry(
                badge=raw["badge"], slug=raw["slug"], salt=raw["salt"],
                issued_on=parse_datetime(raw["issued_on"]),
                expires=parse_datetime(raw["expires"]) if raw.get("expires") else None,
                status_index=int(raw["status_index"]),
                credential=raw.get("credential"),
                earned_by=_keys(raw.get("earned_by", [])))
        return entries
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        report.error("E305", f"the issuance ledger cannot be read ({exc})", where, hint)
        return {}


def _keys(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError("earned_by must be a list of award keys")
    return tuple(value)


def serialise(entries: dict[str, Entry], keys: list[dict] | None = None,
              endorsements: "Endorsements | None" = None) -> bytes:
    """Ledger bytes; `keys` is the public signing-key registry (generator/keys.py), if any."""
    doc = {"format": FORMAT, "layout": LAYOUT, "awards": {k: entries[k].as_json() for k in sorted(entries)}}
    if keys:
        doc["keys"] = keys
    if endorsements is not None and (endorsements.given or endorsements.embedded):
        doc["endorsements"] = endorsements.as_json()
    return canonical.json_bytes(doc)


@dataclass(frozen=True)
class Given:
    """What was minted for an endorsement this site gives: its status-list position, its signature."""

    issuer: str
    status_index: int
    credential: dict | None = None  # the frozen signature record (credentials/signing.py), once signed

    def as_json(self) -> dict:
        doc = {"issuer": self.issuer, "status_index": self.status_index}
        if self.credential is not None:
            doc["credential"] = self.credential
        return doc


@dataclass(frozen=True)
class Endorsements:
    """The ledger's `endorsements` section.

    `given`: slug -> Given. `embedded`: short digest -> every received endorsement some issued
    credential embeds, kept so that credential can be republished byte for byte after the
    endorsement left content (it expired, or its endorser revoked it). Never shrinks.
    """

    given: dict[str, Given]
    embedded: dict[str, dict | str]

    def as_json(self) -> dict:
        return {"given": {k: self.given[k].as_json() for k in sorted(self.given)},
                "embedded": {k: self.embedded[k] for k in sorted(self.embedded)}}


def parse_endorsements(data: bytes | None, report: Report) -> Endorsements:
    """The `endorsements` section (empty when absent); E305 when it cannot be read."""
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else {}
    except (ValueError, UnicodeDecodeError):
        return Endorsements({}, {})  # parse() reports a ledger that is not JSON at all
    try:
        section = doc.get("endorsements", {}) if isinstance(doc, dict) else {}
        given = {slug: Given(str(raw["issuer"]), int(raw["status_index"]), raw.get("credential"))
                 for slug, raw in section.get("given", {}).items()}
        embedded = dict(section.get("embedded", {}))
        if not all(isinstance(v, (dict, str)) for v in embedded.values()):
            raise ValueError("an embedded endorsement is neither a credential nor a JWT")
        return Endorsements(given, embedded)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        report.error("E305", f"the issuance ledger's endorsements cannot be read ({exc})", Location(LEDGER_PATH, 1),
                     "restore it from git (`git checkout content/ledger.json`); never edit it by hand")
        return Endorsements({}, {})


def parse_keys(data: bytes | None) -> list | None:
    """The raw public-key registry (validated by generator/keys.py); None when absent or unreadable."""
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else {}
        return doc.get("keys") if isinstance(doc, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None  # parse() reports the damaged ledger


def reconcile(old: dict[str, Entry], wanted: list[Wanted], minter: Minter, report: Report,
              check_removed: bool = True, reserved_indexes: frozenset[int] = frozenset()) -> dict[str, Entry]:
    """The ledger after this build: old entries kept, new awards minted, removals refused.

    `check_removed` is off while content has other errors: an award hidden by a broken badge
    file is not a removal, and reporting it would bury the real error.
    """
    new: dict[str, Entry] = {}
    used_slugs = {e.slug for e in old.values()}
    used_indexes = {e.status_index for e in old.values()} | reserved_indexes  # given endorsements' too
    for want in sorted(wanted, key=lambda w: w.key):
        entry = old.get(want.key)
        if entry is None:
            entry = Entry(want.badge, _unique(minter.slug, used_slugs), minter.salt(), want.issued_on,
                          want.expires, _unique(lambda: minter.index(STATUS_LIST_SIZE), used_indexes),
                          earned_by=want.earned_by)
        else:
            if want.expires_explicit and want.expires != entry.expires:
                entry = replace(entry, expires=want.expires)
            if want.issued_on != entry.issued_on:
                report.warning("W203", f"issued_on differs from the published date "
                               f"{format_datetime(entry.issued_on)}; the published date is kept", want.location,
                               "to correct a published date, revoke the award and issue a new one")
        new[want.key] = entry
    if not check_removed:  # keep what we could not check, so nothing is lost
        new.update({k: v for k, v in old.items() if k not in new})
    for key in sorted(set(old) - set(new)) if check_removed else ():
        report.error("E303", f"published award '{key}' (page {old[key].slug}) is no longer in content",
                     Location(LEDGER_PATH, 1),
                     f"it was awarded automatically: put back badge '{old[key].badge}' and the awards it was "
                     "earned by; to withdraw it, revoke one of those (badgekiln revoke)" if old[key].earned_by else
                     "put the award back; to withdraw it, keep it and mark it revoked (badgekiln revoke)")
    return new


def mint_index(minter: Minter, used: set[int]) -> int:
    """A status-list position not in `used` (which it joins)."""
    return _unique(lambda: minter.index(STATUS_LIST_SIZE), used)


def _unique(draw, used: set) -> object:
    while True:
        value = draw()
        if value not in used:
            used.add(value)
            return value
