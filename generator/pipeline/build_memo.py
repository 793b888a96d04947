"""What earlier builds found, remembered beside the project: frozen credentials found unchanged,
ledger files that passed their checks, and awards files as the model took them.

Checking that an issued credential is still what content describes means building it again;
at 10^4 awards that is most of a rebuild. signing.CredentialMemo lets the check skip it when
a digest of every input of the credential (and of Badgekiln's code) is the one recorded when
the same record last passed. resolve.RosterMemo does the same for reading an awards file.
Kept in SQLite in .badgekiln-cache/ (git-ignored, safe to delete), and emptied whenever
Badgekiln's code differs from the code that wrote it.

The awards of a file are kept pickled, as Pelican and Sphinx keep their caches: the cache is
the project's own, written by this code, and a row that does not load is a miss.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
import sys
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from ..load.appended import Shape
from ..model import ledger
from .site_state import CACHE_DIR

_BATCH = 5000
_FOUND = {"credentials": "key TEXT PRIMARY KEY, inputs TEXT, digest TEXT, origin TEXT",
          "ledger_files": "digest TEXT PRIMARY KEY",
          # an awards file's shape (size, head, indent: load/appended.py) is NULL when none may be appended
          "rosters": "path TEXT PRIMARY KEY, inputs TEXT, now TEXT, awards BLOB, size INTEGER, head INTEGER, "
                     "indent INTEGER",
          "previews": "key TEXT PRIMARY KEY, preview_key TEXT, inputs TEXT, record TEXT"}  # what earlier builds found


class BuildMemo:
    """signing.CredentialMemo and resolve.RosterMemo, in one SQLite file per project."""

    def __init__(self, project: Path, code_fingerprint: str):
        path = self.path = project / CACHE_DIR / "memo.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.code = code_fingerprint
        self.notes: list[tuple[str, str, str, str | None]] = []
        self.expected: dict[str, tuple[str, str, str | None] | None] = {}
        self.expected_previews: dict[str, tuple[str, str, str]] = {}
        self.files_checked: frozenset[str] = frozenset()
        self.rosters_read: set[str] = set()
        self.offered: dict[str, tuple[str, list[tuple], Shape | None]] = {}  # awards files read elsewhere
        self.ledger_files: dict[str, str] = {}  # path -> SHA-256 of each ledger file as read
        self.read_from: dict[str, str] = {}  # award key -> inputs of the remembered awards file it is in
        self.context: str | None = None  # what the signing plan gives each credential besides its award
        self.origins: dict[tuple[str, str], str] = {}
        self.confirmed: list[str] = []  # award keys whose row holds after this build (for `settle`)
        self.previewed = False  # whether this build is a preview that planned its awards (`expect_previews`)
        self.shared = ledger.SharedValues()  # of the records `preview` finds
        try:
            self.db = self._open(path)
        except sqlite3.DatabaseError:  # damaged: start again (it is only a memo)
            path.unlink(missing_ok=True)
            self.db = self._open(path)

    def _open(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
        if row is None or row[0] != self.code:  # another Badgekiln: nothing it found counts, nor its tables
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name != 'meta'"
                                       ).fetchall():
                db.execute(f'DROP TABLE "{table}"')
            db.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (self.code,))
        for table, columns in _FOUND.items():
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        return db

    def _begin(self) -> None:
        """Into the build's one transaction (the connection autocommits, and a statement each
        would sync each row); `save` commits it."""
        if not self.db.in_transaction:
            self.db.execute("BEGIN")

    def expect(self, keys: list[str]) -> None:
        """The keys `verified` is asked about next: looked up in one query, not one each."""
        query = f"SELECT key, inputs, digest, origin FROM credentials WHERE key IN ({','.join('?' * len(keys))})"
        self.expected = {key: row for key, *row in self.db.execute(query, keys)}
        self.expected.update((key, None) for key in keys if key not in self.expected)

    def _row(self, key: str) -> tuple[str, str, str | None] | None:
        if key in self.expected:
            return self.expected[key]
        return self.db.execute("SELECT inputs, digest, origin FROM credentials WHERE key=?", (key,)).fetchone()

    def verified(self, key: str, inputs: str, record_digest: str, origin: str | None = None) -> bool:
        row = self._row(key)
        found = row is not None and (row[0], row[1]) == (inputs, record_digest)
        if found and origin is not None and row[2] != origin:  # found again from another origin: note it
            self.note(key, inputs, record_digest, origin)
        elif found:
            self.confirmed.append(key)
        return found

    def note_ledger(self, read: dict[str, str]) -> None:
        """The SHA-256 of each ledger file as this build read it (for `origin`)."""
        self.ledger_files = read

    def read_awards(self, inputs: str, keys: list[str]) -> None:
        """resolve.RosterMemo: the model took these awards unchanged from the remembered file read from `inputs`."""
        for key in keys:
            self.read_from[key] = inputs

    def set_context(self, context: str) -> None:
        if context != self.context:  # (a preview plans twice: for itself, then as the published site)
            self.context, self.origins = context, {}

    def expect_previews(self, keys: list[str]) -> None:
        """The keys `preview` is asked about next; with the other batches, every award of the preview
        (`save` forgets the previews of awards no longer in it)."""
        if not self.previewed:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS previewed (key TEXT PRIMARY KEY)")
            self.previewed = True
        self.db.executemany("INSERT OR IGNORE INTO previewed VALUES (?)", ((k,) for k in keys))
        query = f"SELECT key, preview_key, inputs, record FROM previews WHERE key IN ({','.join('?' * len(keys))})"
        self.expected_previews = {key: row for key, *row in self.db.execute(query, keys)}

    def preview(self, key: str, preview_key: str) -> tuple[str, dict] | None:
        """The inputs and record a preview signed for `key` from the same `preview_key`, if any.

        A preview holds the record of every award. Each decoded alone would have its own field
        names and its own copy of what records repeat (signer, time, status, badge parts): 1.7 KB
        a record, where sharing them leaves 0.7 KB."""
        row = self.expected_previews.get(key)
        if row is None or row[0] != preview_key:
            return None
        try:
            record = json.loads(row[2], object_pairs_hook=_names_once)
        except ValueError:  # damaged: sign it again
            return None
        return (row[1], self.shared.record(record)) if isinstance(record, dict) else None

    def note_preview(self, key: str, preview_key: str, inputs: str, record: dict) -> None:
        self._begin()
        self.db.execute("INSERT OR REPLACE INTO previews VALUES (?, ?, ?, ?)",
                        (key, preview_key, inputs, json.dumps(record, sort_keys=True)))

    def origin(self, key: str) -> str | None:
        """Where everything the credential of award `key` is rebuilt from comes from, when it is all
        remembered: the digest of its awards file's inputs (every content file but the other awards
        files), of the ledger file holding its record, and of the plan's `context` (what else it
        gives the credential). None when its awards file is not remembered (then only
        `_memo_inputs` tells)."""
        return self._origin(key, self.read_from.get(key))

    def _origin(self, key: str, read: str | None) -> str | None:
        record_file = self.ledger_files.get(ledger.record_path(key)) if read is not None else None
        if record_file is None or self.context is None:
            return None
        pair = (read, record_file)
        found = self.origins.get(pair)
        if found is None:
            found = self.origins[pair] = hashlib.sha256(f"{self.context}:{read}:{record_file}".encode()).hexdigest()
        return found

    def inputs_from(self, key: str, origin: str | None) -> str | None:
        """The inputs noted for `key` when they came from the same `origin` (then the same, uncomputed)."""
        row = self._row(key) if origin is not None else None
        return row[0] if row is not None and row[2] == origin else None

    def checked_files(self) -> frozenset[str]:
        """"bucket:SHA-256" of each ledger award file whose every record passed its checks here (a few
        hundred rows): the same bytes under the same name pass again, so ledger.read skips them."""
        self.files_checked = frozenset(row[0] for row in self.db.execute("SELECT digest FROM ledger_files"))
        return self.files_checked

    def note_checked_files(self, digests: frozenset[str]) -> None:
        if digests == self.files_checked:
            return
        self._begin()
        self.db.execute("DELETE FROM ledger_files")  # only the files of the ledger as it is now
        self.db.executemany("INSERT OR IGNORE INTO ledger_files VALUES (?)", ((d,) for d in digests))
        self.files_checked = digests

    def knows(self, path: str, inputs: str, now: datetime) -> bool:
        """Whether `recall` would find the awards file at `path` (without loading its awards)."""
        row = self.db.execute("SELECT inputs, now FROM rosters WHERE path=?", (path,)).fetchone()
        return row is not None and row[0] == inputs and datetime.fromisoformat(row[1]) <= now

    def offer(self, read: dict[str, tuple[str, list[tuple], Shape | None]]) -> None:
        """Awards files read in another process (resolve.read_awards_files: path -> (inputs, awards, shape)):
        `recall` takes each as remembered, when its inputs are the ones asked for, and remembers it."""
        self.offered.update(read)

    def recall(self, path: str, inputs: str, now: datetime) -> list[tuple] | None:
        """resolve.RosterMemo: what the model took of the awards file at `path`, if read from the same
        inputs at a time no later than `now` (a date in the future then may be in the past now)."""
        offered = self.offered.pop(path, None)
        if offered is not None and offered[0] == inputs:
            self.remember(path, inputs, now, offered[1], offered[2])
            return offered[1]
        self.rosters_read.add(path)
        row = self.db.execute("SELECT inputs, now, awards FROM rosters WHERE path=?", (path,)).fetchone()
        if row is None or row[0] != inputs or datetime.fromisoformat(row[1]) > now:
            return None
        try:
            awards = pickle.loads(row[2])
        except Exception:  # noqa: BLE001 - damaged or from another Python: read the file
            return None
        return awards if isinstance(awards, list) else None

    def remember(self, path: str, inputs: str, now: datetime, awards: list[tuple], shape: Shape | None = None) -> None:
        self.rosters_read.add(path)
        self._begin()
        self.db.execute("INSERT OR REPLACE INTO rosters VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (path, inputs, now.isoformat(), pickle.dumps(awards, protocol=pickle.HIGHEST_PROTOCOL),
                         *((shape.size, shape.head, shape.indent) if shape is not None else (None,) * 3)))

    def earlier(self, path: str, now: datetime) -> tuple[str, Shape] | None:
        """resolve.RosterMemo: the inputs and shape of the awards file at `path` as last read, when
        awards appended to it can be read alone and it was read no later than `now`."""
        row = self.db.execute("SELECT inputs, now, size, head, indent FROM rosters WHERE path=?", (path,)).fetchone()
        if row is None or row[2] is None or datetime.fromisoformat(row[1]) > now:
            return None
        return row[0], Shape(*row[2:])

    def earlier_awards(self, path: str) -> list[tuple] | None:
        """resolve.RosterMemo: what the model took of the awards file at `path` as last read."""
        row = self.db.execute("SELECT awards FROM rosters WHERE path=?", (path,)).fetchone()
        try:
            awards = pickle.loads(row[0]) if row is not None else None
        except Exception:  # noqa: BLE001 - damaged or from another Python: read the file
            return None
        return awards if isinstance(awards, list) else None

    def note(self, key: str, inputs: str, record_digest: str, origin: str | None = None) -> None:
        self.notes.append((key, inputs, record_digest, origin))
        self.confirmed.append(key)
        if len(self.notes) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        """Notes so far into the build's transaction, so a first build never holds 10^5 of them."""
        if self.notes:
            self._begin()
            self.db.executemany("INSERT OR REPLACE INTO credentials VALUES (?, ?, ?, ?)", self.notes)
            self.notes.clear()

    def save(self) -> None:
        """Commit what this build found (what `settle` needs stays in memory)."""
        self._flush()
        if self.rosters_read:  # the files of content as it is now (a check that read no awards keeps them)
            known = [row[0] for row in self.db.execute("SELECT path FROM rosters")]
            self._begin()
            self.db.executemany("DELETE FROM rosters WHERE path=?", ((p,) for p in known if p not in self.rosters_read))
        if self.previewed:  # the previews of awards still in content
            self._begin()
            self.db.execute("DELETE FROM previews WHERE key NOT IN (SELECT key FROM previewed)")
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()

    def settle(self, ledger_after: dict[str, str], rewritten: Collection[str]) -> None:
        """After the build wrote the ledger (`ledger_after`: path -> SHA-256 of each of its files; the
        files it rewrote hold the awards `rewritten`): the origin of each credential found or signed
        in those files, as the next build will find it (then taken by its origin, not computed again),
        and every award file as passing its checks (this build read and checked those it kept, and
        wrote the others from records it checked or minted), so the next build does not check again
        what this one wrote (at 10^4 awards, every file after a first build)."""
        checked = ledger.seals(ledger_after)
        self.ledger_files, self.origins = ledger_after, {}
        settled = [(origin, key) for key in self.confirmed
                   if key in rewritten and (origin := self._origin(key, self.read_from.get(key))) is not None]
        self.read_from, self.confirmed = {}, []
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("BEGIN")
            db.executemany("UPDATE credentials SET origin=? WHERE key=?", settled)
            if checked != self.files_checked:
                db.execute("DELETE FROM ledger_files")
                db.executemany("INSERT OR IGNORE INTO ledger_files VALUES (?)", ((seal,) for seal in checked))
                self.files_checked = checked
            db.execute("COMMIT")
        finally:
            db.close()


def _names_once(pairs: list[tuple[str, object]]) -> dict:
    return {sys.intern(name): value for name, value in pairs}
