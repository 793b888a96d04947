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
from . import ledger_integrity
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


@dataclass(frozen=True, slots=True)
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
    """The awards of the ledger; every record of it is checked against its integrity check first."""
    return read(data, report)[0]


def read(data: bytes | None, report: Report) -> tuple[dict[str, Entry], dict]:
    """The awards (as `parse`) and every other section, as the document holds them, from one parse.

    A build reads all sections; parsing a ledger of 10^5 awards (100 MB) once for each would hold
    several copies of its JSON tree at once. The sections (`keys`, `issuers`, `endorsements`) are
    small, and `parse_keys`, `parse_issuers` and `parse_endorsements` take them in place of bytes.
    """
    if data is None:
        return {}, {}
    where = Location(LEDGER_PATH, 1)
    hint = "restore it from git (`git checkout content/ledger.json`); never edit it by hand"
    try:
        text = data.decode("utf-8")
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"unknown ledger format {doc.get('format')!r}")
        if doc.get("layout", LAYOUT) != LAYOUT:  # absent: written before layouts were recorded (none published)
            raise ValueError(f"its awards were published with URL layout {doc.get('layout')!r}, and this "
                             f"Badgekiln publishes layout {LAYOUT}; use the Badgekiln version that wrote it")
        ledger_integrity.verify(doc, text, LEDGER_PATH, report)
        entries = {}
        one = _Shared()
        for key, raw in doc["awards"].items():
            entries[key] = Entry(
                badge=one.text(raw["badge"]), slug=raw["slug"], salt=raw["salt"],
                issued_on=one.date(raw["issued_on"]),
                expires=one.date(raw["expires"]) if raw.get("expires") else None,
                status_index=int(raw["status_index"]),
                credential=one.record(raw.get("credential")),
                earned_by=_keys(raw.get("earned_by", [])))
        return entries, {name: section for name, section in doc.items() if name != "awards"}
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        report.error("E305", f"the issuance ledger cannot be read ({exc})", where, hint)
        return {}, {}


class _Shared:
    """One object for each value many records repeat (badges, dates, a signer, a badge's parts):
    a ledger of 10^5 awards held in memory is then about a third smaller. Records are never
    modified after reading, so sharing is safe."""

    def __init__(self):
        self.values: dict = {}
        self.dates: dict[str, datetime] = {}

    def text(self, value):
        return self.values.setdefault(value, value) if isinstance(value, str) else value

    def date(self, value: str) -> datetime:
        if value not in self.dates:
            self.dates[value] = parse_datetime(value)
        return self.dates[value]

    def record(self, record):
        if not isinstance(record, dict):
            return record
        for name in ("created", "verificationMethod", "status"):
            if name in record:
                record[name] = self.text(record[name])
        parts = record.get("parts")
        if isinstance(parts, dict) and all(isinstance(v, str) for v in parts.values()):
            record["parts"] = self.values.setdefault(("parts", *sorted(parts.items())), parts)
        return record


def _keys(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError("earned_by must be a list of award keys")
    return tuple(value)


def serialise(entries: dict[str, Entry], keys: list[dict] | None = None,
              endorsements: "Endorsements | None" = None, issuers: dict[str, dict] | None = None) -> bytes:
    """Ledger bytes, every record sealed (ledger_integrity.py).

    `keys` is the public signing-key registry (crypto/keys.py), `endorsements` what was given
    and embedded, `issuers` each issuer's signed status lists and signed forms
    (credentials/signing.py owns their shape), if any.
    """
    doc: dict = {"format": FORMAT, "layout": LAYOUT}
    if keys:
        doc["keys"] = keys
    if endorsements is not None and (endorsements.given or endorsements.embedded):
        doc["endorsements"] = endorsements.as_json()
    if issuers:
        doc["issuers"] = {k: issuers[k] for k in sorted(issuers)}
    awards = ((k, ledger_integrity.sealed("awards", k, entries[k].as_json())) for k in sorted(entries))
    return canonical.json_bytes_streamed(ledger_integrity.seal(doc), "awards", awards)


def seal(doc: dict) -> bytes:
    """Bytes of a ledger document edited by a command (`keys`), every record sealed."""
    return canonical.json_bytes(ledger_integrity.seal(doc))


def _document(data: bytes | dict | None) -> object:
    """The ledger document from its bytes, or the sections `read` already parsed."""
    if isinstance(data, dict):
        return data
    return json.loads(data.decode("utf-8")) if data is not None else {}


def _section(data: bytes | dict | None, name: str):
    try:
        doc = _document(data)
        return doc.get(name) if isinstance(doc, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None  # parse() reports the damaged ledger


def _unsealed(record):
    return {k: v for k, v in record.items() if k != ledger_integrity.CHECK} if isinstance(record, dict) else record


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


def parse_endorsements(data: bytes | dict | None, report: Report) -> Endorsements:
    """The `endorsements` section (empty when absent); E305 when it cannot be read."""
    try:
        doc = _document(data)
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


def parse_keys(data: bytes | dict | None) -> list | None:
    """The raw public-key registry (validated by crypto/keys.py); None when absent or unreadable."""
    raw = _section(data, "keys")
    return [_unsealed(k) for k in raw] if isinstance(raw, list) else raw


def parse_issuers(data: bytes | dict | None) -> dict[str, dict]:
    """Each issuer's raw record of signed files (checked by credentials/signing.py); {} when absent."""
    raw = _section(data, "issuers")
    return {k: _unsealed(v) for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def minted(before: bytes | None, after: bytes) -> bool:
    """Whether `after` adds awards, credential signatures or keys to `before` (what --frozen refuses).

    Equal bytes first: that is every CI build of a committed ledger, and parsing two copies of a
    ledger of 10^5 awards would cost a gigabyte of memory for nothing."""
    return before != after and frozen_view(before) != frozen_view(after)


def frozen_view(data: bytes | None) -> bytes | None:
    """What `--frozen` forbids a build to change: the awards and the keys, as values.

    Not the integrity checks (an older ledger gains them) and not the issuers' signed status
    lists: a CI build with the key re-signs a list after a revocation committed without a local
    build; a build without the key republishes the recorded list or, if it changed, fails.
    """
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, UnicodeDecodeError):
        return data
    if not isinstance(doc, dict):
        return data
    awards = doc.get("awards")
    view = {"awards": {k: _unsealed(v) for k, v in awards.items()} if isinstance(awards, dict) else awards,
            "keys": [_unsealed(k) for k in doc.get("keys") or []]}
    return canonical.json_bytes(view)


def lacks_checks(data: bytes | None) -> bool:
    """Whether some record has no integrity check yet (an older Badgekiln wrote the ledger)."""
    # a sealed ledger needs no parse: read() refuses one with any record left unsealed (and in
    # JSON text `"check":` is a key: a string holding it would show as `\"check\":`)
    if data is None or b'"check":' in data:
        return False
    try:
        return ledger_integrity.lacks_checks(json.loads(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        return False


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
    if check_removed:
        _report_removed(old, new, wanted, report)
    return new


def _root(key: str) -> str:
    """The award key of a CPD renewal's key (`key#renewal-N`, model/lifecycle.py); `#` is in no other key."""
    return key.split("#", 1)[0]


def _same_award_slot(key: str, other: str) -> bool:
    """Same badge and same award `id:` (keys are badge/sha256(email)[:16][/id]): only the email differs."""
    badge, _, rest = key.partition("/")
    other_badge, _, other_rest = other.partition("/")
    return badge == other_badge and rest.partition("/")[2] == other_rest.partition("/")[2]


def _report_removed(old: dict[str, Entry], new: dict[str, Entry], wanted: list[Wanted], report: Report) -> None:
    """E303 for each published award no longer in content; at the award itself when only its email changed."""
    removed = sorted(set(old) - set(new))
    added = [w for w in wanted if w.key not in old and w.key == _root(w.key)]
    explained: set[str] = set()
    for key in (k for k in removed if k == _root(k)):
        entry = old[key]
        matches = [w for w in added if _same_award_slot(w.key, key) and w.issued_on == entry.issued_on]
        if len(matches) != 1:
            continue
        explained.add(key)
        report.error("E303", f"this award's recipient email changed after it was published (it is the award of page "
                     f"{entry.slug}, issued on {entry.issued_on.date()} to another address): a published "
                     "recipient identity cannot change silently", matches[0].location,
                     "to correct the address and keep the award's page and link, add `previous_email: OLD-ADDRESS` "
                     "next to the new email, or put the old address back and run `badgekiln correct-email "
                     f"{entry.slug} --to NEW-ADDRESS`; the build signs its credential again")
    for key in removed:
        if _root(key) in explained:
            continue
        report.error("E303", f"published award '{key}' (page {old[key].slug}) is no longer in content",
                     Location(LEDGER_PATH, 1),
                     f"it was awarded automatically: put back badge '{old[key].badge}' and the awards it was "
                     "earned by; to withdraw it, revoke one of those (badgekiln revoke)" if old[key].earned_by else
                     "put the award back; to withdraw it, keep it and mark it revoked (badgekiln revoke); if only its "
                     "email changed, add `previous_email:` with the old address (badgekiln correct-email)")


def mint_index(minter: Minter, used: set[int]) -> int:
    """A status-list position not in `used` (which it joins)."""
    return _unique(lambda: minter.index(STATUS_LIST_SIZE), used)


def _unique(draw, used: set) -> object:
    while True:
        value = draw()
        if value not in used:
            used.add(value)
            return value
