"""The issuance ledger: what was minted once per award and must never be minted again.

Like a lock file, the ledger records each award's slug (its public URL), salt, status-list
index and frozen dates. Builds read it and only add to it; an award that left content while
still published is an error (its link would break), and `--frozen` refuses any change at all.
Randomness enters the product here and only here, through a `Minter`.

Format 2 keeps it in files git and a build can each take in one go: `content/ledger.json`, the
head (signing keys, issuers' signed lists, endorsements, which award files exist), and the
awards in `content/ledger/<hh>.json`, by the first two hex digits of the SHA-256 of their key
(256 files at most: about 4 MB each at 10^6 awards, under every git host's file limit, where
one file would pass GitHub's 100 MB limit near 10^5). A build reads every file, one at a time,
and rewrites only those whose records changed: adding an award rewrites one small file (and the
head, when the file is new), not 100 MB. A format 1 ledger (one file) is read as it is and
written as format 2 by the next build. An incremental build leaves the credential records it
reads in a `RecordIndex` (pipeline/ledger_records.py) and holds a `Stored` key per award.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from .. import canonical
from ..diagnostics import Location, Report
from ..validate.values import format_datetime, parse_datetime
from . import ledger_integrity
from .routes import LAYOUT

LEDGER_PATH = "content/ledger.json"  # the head
AWARDS_DIR = "content/ledger"  # the awards, one file per bucket
FORMAT = 2
_BUCKET_FILE = re.compile(r"[0-9a-f]{2}\.json")
RESTORE = "restore it from git (`git checkout content/ledger.json content/ledger/`); never edit it by hand"
STATUS_LIST_SIZE = 131072  # 16 KiB bitstring: the W3C minimum for herd privacy
_SLUG_ALPHABET = string.ascii_lowercase + string.digits


class Minter(Protocol):
    def for_award(self, key: str) -> "Minter": ...  # what mints the award `key` (its slug, salt and index)
    def slug(self) -> str: ...
    def salt(self) -> str: ...
    def index(self, size: int) -> int: ...


class SecretsMinter:
    """Production minting: unguessable slugs (about 124 bits) and salts from the OS CSPRNG."""

    def for_award(self, key: str) -> Minter:
        return self

    def slug(self) -> str:
        return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(24))

    def salt(self) -> str:
        return secrets.token_hex(16)

    def index(self, size: int) -> int:
        return secrets.randbelow(size)


class PreviewMinter(SecretsMinter):
    """A preview's minting (`serve`, which never writes the ledger): an award the ledger lacks gets
    the same slug, salt and status index at every save, drawn from a secret and its key, so its
    preview page keeps its address and its credential is signed once. As unguessable as the
    secret (kept in .badgekiln-cache/); what a build records is minted by `SecretsMinter`."""

    def __init__(self, secret: bytes, key: str = ""):
        self.secret, self.key, self.drawn = secret, key, 0

    def for_award(self, key: str) -> Minter:
        return PreviewMinter(self.secret, key)

    def _draw(self, what: str) -> int:
        self.drawn += 1  # a slug or index already taken is drawn again: the next draw differs
        return int.from_bytes(hmac.digest(self.secret, f"{what}:{self.drawn}:{self.key}".encode(), "sha256"), "big")

    def slug(self) -> str:
        value, letters = self._draw("slug"), []
        for _ in range(24):  # 36^24 < 2^256: every letter from the one draw
            value, letter = divmod(value, len(_SLUG_ALPHABET))
            letters.append(_SLUG_ALPHABET[letter])
        return "".join(letters)

    def salt(self) -> str:
        return f"{self._draw('salt') >> 128:032x}"

    def index(self, size: int) -> int:
        return self._draw("index") % size


class RecordIndex(Protocol):
    """Where a build keeps the credential records of the ledger files it read, instead of in memory
    (pipeline/ledger_records.py): by award file, under the file's seal ("bucket:SHA-256")."""

    def indexed(self, bucket: str, seal: str) -> bool: ...  # holds the records of exactly those bytes
    def index(self, bucket: str, seal: str, records: Iterable[tuple[str, object]]) -> None: ...
    def prefetch(self, keys: list[str]) -> None: ...  # the keys `load` is asked for next
    def set_aside(self, records: Iterable[tuple[str, object]]) -> None: ...  # signed by this build
    def load(self, key: str, signed: bool = False) -> object: ...


@dataclass(frozen=True, slots=True)
class Stored:
    """A credential record left in a `RecordIndex`: the key it was read under (an award whose
    email was corrected keeps its record under its old key until the build signs it again), or
    `signed` by this build (then never equal to the record it replaces: `update` writes it)."""

    index: RecordIndex = field(compare=False, repr=False)
    key: str
    signed: bool = False

    def load(self) -> object:
        return self.index.load(self.key, self.signed)


def loaded(record: dict | Stored | None) -> object:
    """A credential record, read back from its RecordIndex if it stayed there."""
    return record.load() if isinstance(record, Stored) else record


@dataclass(frozen=True, slots=True)
class Entry:
    badge: str
    slug: str
    salt: str
    issued_on: datetime
    expires: datetime | None
    status_index: int
    # the signed OB 3.0 credential, frozen at first signing (generator/signing.py owns
    # the shape: digest of the unsigned credential, proof created/verificationMethod/value);
    # `Stored` when it was read from a ledger file into a RecordIndex (`record()` reads it)
    credential: dict | Stored | None = None
    # ledger keys of the awards an automatic pathway award was earned by (model/pathways.py)
    earned_by: tuple[str, ...] = ()

    def record(self) -> object:
        """The credential record (as the ledger holds it: checked by signing), None when unsigned."""
        return loaded(self.credential)

    def as_json(self) -> dict:
        doc = {"badge": self.badge, "slug": self.slug, "salt": self.salt,
               "issued_on": format_datetime(self.issued_on),
               "expires": format_datetime(self.expires) if self.expires else None,
               "status_index": self.status_index}
        if self.credential is not None:
            doc["credential"] = self.record()
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


def prefetch(entries: Mapping[str, Entry], keys: list[str]) -> None:
    """Tell the RecordIndex which records are read next (`Entry.record`), so it looks them up at once."""
    stored = [credential for key in keys if (entry := entries.get(key)) is not None
              and isinstance(credential := entry.credential, Stored) and not credential.signed]
    if stored:
        stored[0].index.prefetch([s.key for s in stored])


def bucket_of(key: str) -> str:
    """The award file an award's record is kept in (its key's hash spreads awards evenly)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:2]


def bucket_path(bucket: str) -> str:
    return f"{AWARDS_DIR}/{bucket}.json"


def record_path(key: str) -> str:
    """The file an award's record is kept in (for diagnostics)."""
    return bucket_path(bucket_of(key))


def is_ledger_file(path: str) -> bool:
    return path == LEDGER_PATH or path.startswith(AWARDS_DIR + "/")


@dataclass
class Ledger:
    """The ledger as a build read it."""

    entries: dict[str, Entry] = field(default_factory=dict)
    sections: dict = field(default_factory=dict)  # the head's sections: keys, issuers, endorsements
    digests: dict[str, str] = field(default_factory=dict)  # path -> SHA-256 of each file as read
    outdated: bool = False  # format 1, or records without integrity checks: the next build rewrites every file
    checked: frozenset[str] = frozenset()  # "bucket:SHA-256" of each award file whose records all passed their checks


def parse(files: Mapping[str, bytes], report: Report) -> dict[str, Entry]:
    """The awards of the ledger; every record of it is checked against its integrity check first."""
    return read(files, report).entries


def read(files: Mapping[str, bytes], report: Report, checked: Collection[str] = (),
         records: RecordIndex | None = None) -> Ledger:
    """The ledger from its files (project-relative path -> bytes; other paths are ignored).

    The head's sections (`keys`, `issuers`, `endorsements`) are small: `parse_keys`,
    `parse_issuers` and `parse_endorsements` take them in place of bytes. Award files whose
    "bucket:SHA-256" is in `checked` passed their checks before (the same bytes under the same
    name pass again: a record's check, and that its key belongs in that file). With `records`,
    the credential records of award files are left there (`Stored`), not held in the entries.
    """
    head = files.get(LEDGER_PATH)
    if head is None:
        if any(is_ledger_file(p) for p in files):
            report.error("E305", f"{LEDGER_PATH} is missing, and {AWARDS_DIR}/ holds awards", Location(LEDGER_PATH),
                         RESTORE)
        return Ledger()
    ledger = Ledger(digests={LEDGER_PATH: _sha256(head)})
    try:
        doc, text = _document_of(head, (1, FORMAT))
        if doc.get("layout", LAYOUT) != LAYOUT:  # absent: written before layouts were recorded (none published)
            raise ValueError(f"its awards were published with URL layout {doc.get('layout')!r}, and this "
                             f"Badgekiln publishes layout {LAYOUT}; use the Badgekiln version that wrote it")
        ledger_integrity.verify(doc, text, LEDGER_PATH, report)
        ledger.outdated = doc["format"] != FORMAT or ledger_integrity.lacks_checks(doc)
        shared = SharedValues()
        if doc["format"] == 1:
            _add_awards(ledger.entries, doc["awards"], shared)
        else:
            _read_buckets(ledger, files, _bucket_list(doc.get("buckets", [])), shared, report, checked, records)
        ledger.sections = {name: section for name, section in doc.items() if name not in ("awards", "buckets")}
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        report.error("E305", f"the issuance ledger cannot be read ({exc})", Location(LEDGER_PATH, 1), RESTORE)
        return Ledger()
    return ledger


def _document_of(data: bytes, formats: tuple[int, ...]) -> tuple[dict, str]:
    text = data.decode("utf-8")
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") not in formats:
        raise ValueError(f"unknown ledger format {doc.get('format') if isinstance(doc, dict) else doc!r}")
    return doc, text


def _bucket_list(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(b, str) and _BUCKET_FILE.fullmatch(b + ".json")
                                              for b in value):
        raise ValueError("its list of award files is damaged")
    return value


def _read_buckets(ledger: Ledger, files: Mapping[str, bytes], listed: list[str], shared: "SharedValues",
                  report: Report, checked: Collection[str], records: RecordIndex | None) -> None:
    """Every award file: those the head lists (one missing is an error: its awards would be minted
    again under new links) and any other present (two branches merged, each adding a file)."""
    present = {p[len(AWARDS_DIR) + 1:-5] for p in files
               if p.startswith(AWARDS_DIR + "/") and _BUCKET_FILE.fullmatch(p[len(AWARDS_DIR) + 1:])}
    for bucket in sorted(set(listed) - present):
        report.error("E305", f"{bucket_path(bucket)} is missing: it holds published awards, which would get new "
                     "links", Location(LEDGER_PATH, 1), RESTORE)
    clean = set()
    for bucket in sorted(present):
        path = bucket_path(bucket)
        data = files[path]
        digest = ledger.digests[path] = _sha256(data)
        seal = file_seal(bucket, digest)  # the same bytes under the same name pass both checks again
        errors = report.error_count()
        try:
            doc, text = _document_of(data, (FORMAT,))
            if seal not in checked:
                ledger_integrity.verify(doc, text, path, report, required=True)
                stray = next((k for k in doc["awards"] if bucket_of(k) != bucket), None)
                if stray is not None:
                    raise ValueError(f"award record '{stray}' belongs in {record_path(stray)}")
            if records is not None and not records.indexed(bucket, seal):
                records.index(bucket, seal, ((k, raw["credential"]) for k, raw in doc["awards"].items()
                                             if "credential" in raw))
            _add_awards(ledger.entries, doc["awards"], shared, records)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            report.error("E305", f"{path} cannot be read ({exc})", Location(path, 1), RESTORE)
        if report.error_count() == errors:
            clean.add(seal)
    ledger.checked = frozenset(clean)


def _add_awards(entries: dict[str, Entry], records: dict, one: "SharedValues",
                stored: RecordIndex | None = None) -> None:
    for key, raw in records.items():
        credential = raw.get("credential")
        entries[key] = Entry(
            badge=one.text(raw["badge"]), slug=raw["slug"], salt=raw["salt"],
            issued_on=one.date(raw["issued_on"]),
            expires=one.date(raw["expires"]) if raw.get("expires") else None,
            status_index=int(raw["status_index"]),
            credential=(one.record(credential) if stored is None or credential is None else Stored(stored, key)),
            earned_by=_keys(raw.get("earned_by", [])))


def file_seal(bucket: str, digest: str) -> str:
    """What names one version of an award file: its bucket and the SHA-256 of its bytes."""
    return f"{bucket}:{digest}"


def seals(file_digests: Mapping[str, str]) -> frozenset[str]:
    """"bucket:SHA-256" of each award file among `file_digests` (path -> SHA-256), as `read` notes
    those that pass their checks (`Ledger.checked`)."""
    return frozenset(file_seal(path[len(AWARDS_DIR) + 1:-5], digest) for path, digest in file_digests.items()
                     if path.startswith(AWARDS_DIR + "/"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SharedValues:
    """One object for each value many records repeat (badges, dates, a signer, a badge's parts):
    a ledger of 10^5 awards held in memory is then about a third smaller, and so are the records
    a first build signs (each arrives from a worker with its own copy of every value). Records
    are never modified once made, so sharing is safe."""

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


@dataclass
class Update:
    """The ledger after a build, as the files it changes: the head, and the award files whose
    records changed (every file when the ledger read was `outdated`). Award files are encoded
    when written, one at a time, so a first build of 10^5 awards never holds 100 MB of JSON."""

    before: Ledger
    head: bytes
    entries: dict[str, Entry]
    buckets: list[str]  # every award file after
    dirty: dict[str, list[str]]  # bucket -> its keys, in order, for each award file to write
    minted: bool  # awards, credential signatures or keys added or changed (what --frozen refuses)
    emptied: list[str]  # award files left with no award (a corrected email moved its only one): deleted
    digests: dict[str, str] = field(default_factory=dict)  # path -> SHA-256, of the files encoded so far

    @property
    def changed(self) -> bool:
        return bool(self.dirty or self.emptied) or _sha256(self.head) != self.before.digests.get(LEDGER_PATH)

    def files(self) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of each file that differs from the ledger read; the head last, so an
        interrupted write leaves a head that still describes what is there."""
        for bucket in self.dirty:
            data, path = self.bucket_bytes(bucket), bucket_path(bucket)
            if self.digests[path] != self.before.digests.get(path):
                yield path, data
        if _sha256(self.head) != self.before.digests.get(LEDGER_PATH):
            yield LEDGER_PATH, self.head  # then the caller deletes `emptied`, which the head no longer lists

    def bucket_bytes(self, bucket: str) -> bytes:
        keys = self.dirty[bucket]
        records = ((k, ledger_integrity.sealed("awards", k, self.entries[k].as_json())) for k in keys)
        data = canonical.json_bytes_streamed({"format": FORMAT}, "awards", records)
        self.digests[bucket_path(bucket)] = _sha256(data)
        return data

    def rewritten_keys(self) -> set[str]:
        """The awards whose ledger file this build writes anew."""
        return {key for keys in self.dirty.values() for key in keys}

    def file_digests(self) -> dict[str, str]:
        """path -> SHA-256 of each ledger file after (the award files it rewrites encoded once, here)."""
        for bucket in self.dirty:
            if bucket_path(bucket) not in self.digests:
                self.bucket_bytes(bucket)
        digests = {bucket_path(b): self.digests.get(bucket_path(b)) or self.before.digests[bucket_path(b)]
                   for b in self.buckets}
        digests[LEDGER_PATH] = _sha256(self.head)
        return digests

    @property
    def digest(self) -> str:
        """SHA-256 of the whole ledger after (each file's path and digest): which ledger a site was built from."""
        digests = self.file_digests()
        return _sha256("".join(f"{path} {digests[path]}\n" for path in sorted(digests)).encode("utf-8"))


def update(before: Ledger, entries: dict[str, Entry], keys: list[dict] | None = None,
           endorsements: "Endorsements | None" = None, issuers: dict[str, dict] | None = None) -> Update:
    """The ledger after this build, from the one read (`before`) and the records after.

    `keys` is the public signing-key registry (crypto/keys.py), `endorsements` what was given
    and embedded, `issuers` each issuer's signed status lists and signed forms
    (credentials/signing.py owns their shape), if any.
    """
    by_bucket: dict[str, list[str]] = {}
    changed_buckets: set[str] = set()
    minted = False
    old = before.entries
    for key in sorted(entries):
        bucket = bucket_of(key)
        by_bucket.setdefault(bucket, []).append(key)
        was = old.get(key)
        if was is not entries[key] and was != entries[key]:
            changed_buckets.add(bucket)
            minted = True
    for key in old.keys() - entries.keys():  # an email corrected (the record moves to its new key)
        changed_buckets.add(bucket_of(key))
    if before.outdated:
        changed_buckets = set(by_bucket)
    emptied = sorted(p for p in before.digests if p != LEDGER_PATH and p[len(AWARDS_DIR) + 1:-5] not in by_bucket)
    doc: dict = {"format": FORMAT, "layout": LAYOUT, "buckets": sorted(by_bucket)}
    if keys:
        doc["keys"] = keys
    if endorsements is not None and (endorsements.given or endorsements.embedded):
        doc["endorsements"] = endorsements.as_json()
    if issuers:
        doc["issuers"] = {k: issuers[k] for k in sorted(issuers)}
    minted = minted or (keys or []) != (parse_keys(before.sections) or [])
    return Update(before, canonical.json_bytes(ledger_integrity.seal(doc)), entries, doc["buckets"],
                  {b: by_bucket[b] for b in sorted(changed_buckets & by_bucket.keys())}, minted, emptied)


def empty_head() -> dict:
    """The head of a project's first ledger (a command records a key before any build)."""
    return {"format": FORMAT, "layout": LAYOUT}


def seal(doc: dict) -> bytes:
    """Bytes of a ledger head edited by a command (`keys`), every record sealed."""
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
                     RESTORE)
        return Endorsements({}, {})


def parse_keys(data: bytes | dict | None) -> list | None:
    """The raw public-key registry (validated by crypto/keys.py); None when absent or unreadable."""
    raw = _section(data, "keys")
    return [_unsealed(k) for k in raw] if isinstance(raw, list) else raw


def parse_issuers(data: bytes | dict | None) -> dict[str, dict]:
    """Each issuer's raw record of signed files (checked by credentials/signing.py); {} when absent."""
    raw = _section(data, "issuers")
    return {k: _unsealed(v) for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


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
            mint = minter.for_award(want.key)
            entry = Entry(want.badge, _unique(mint.slug, used_slugs), mint.salt(), want.issued_on,
                          want.expires, _unique(lambda: mint.index(STATUS_LIST_SIZE), used_indexes),
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
                     Location(record_path(key), 1),
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
