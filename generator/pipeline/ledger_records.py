"""The ledger's credential records, indexed beside the project so a build need not hold them.

A record (the frozen signature of one award's credential: digest, proof, status form, parts)
is about 950 bytes of Python objects once decoded: at 10^5 awards, 95 MB, the largest thing
an incremental build held. The build reads every ledger file anyway (for slugs, salts and
dates), so each file's records go into SQLite once, under the file's seal ("bucket:SHA-256"),
and the build keeps a key per award (`ledger.Stored`) and reads a record back when it needs it:
the signing plan once per award, a batch at a time, and rendering for the awards it makes again.
The records a build signs go there too as they come (its own rows, dropped when it is done), so
a first build of 10^5 awards never holds them all either.

A bucket whose bytes changed since it was indexed is indexed again, in one transaction, so
the rows of a bucket are always those of the file this build read. It is only a cache: a row
missing or damaged is read again from its ledger file. Kept in .badgekiln-cache/ (git-ignored,
safe to delete: the next build indexes every file again).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..model import ledger
from .site_state import CACHE_DIR, open_cache_db

FORMAT = "1"
_BATCH = 500  # keys looked up in one query
STALE_AFTER = 7 * 24 * 3600  # seconds: signed rows older than this were left by a build that was killed


class LedgerRecords:
    """ledger.RecordIndex in SQLite: one connection per process (forked workers open their own)."""

    def __init__(self, project: Path):
        self.project = Path(project)
        self.path = self.project / CACHE_DIR / "ledger-records.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections: dict[int, sqlite3.Connection] = {}
        self.prefetched: dict[str, str] = {}
        self.build = secrets.token_hex(8)  # names this build's rows of `signed`
        self._db().execute("DELETE FROM signed WHERE at < ?", (time.time() - STALE_AFTER,))
        weakref.finalize(self, _forget_signed, self.path, self.build, os.getpid())

    def _db(self) -> sqlite3.Connection:
        """This process's connection (an SQLite connection must never be used across a fork)."""
        db = self._connections.get(os.getpid())
        if db is None:
            db = self._connections[os.getpid()] = open_cache_db(self.path, FORMAT, """
                CREATE TABLE IF NOT EXISTS buckets (bucket TEXT PRIMARY KEY, seal TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, bucket TEXT NOT NULL, record TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS records_bucket ON records (bucket);
                CREATE TABLE IF NOT EXISTS signed (build TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL,
                                                   at REAL NOT NULL, PRIMARY KEY (build, key));
            """)
        return db

    def indexed(self, bucket: str, seal: str) -> bool:
        return self._db().execute("SELECT seal FROM buckets WHERE bucket=?", (bucket,)).fetchone() == (seal,)

    def index(self, bucket: str, seal: str, records: Iterable[tuple[str, object]]) -> None:
        """The records of one award file (key, decoded record), replacing what its bucket held."""
        with _transaction(self._db()) as db:
            db.execute("DELETE FROM records WHERE bucket=?", (bucket,))
            db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                           ((key, bucket, _compact(record)) for key, record in records))
            db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?)", (bucket, seal))

    def prefetch(self, keys: list[str]) -> None:
        """The records of `keys`, asked for next, looked up in one query (the batch before is let go)."""
        self.prefetched = {}
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            query = f"SELECT key, record FROM records WHERE key IN ({','.join('?' * len(batch))})"
            self.prefetched.update(self._db().execute(query, batch))

    def set_aside(self, records: Iterable[tuple[str, object]]) -> None:
        """Records this build just signed (key, record): kept here until the build is done."""
        at = time.time()
        with _transaction(self._db()) as db:
            db.executemany("INSERT OR REPLACE INTO signed VALUES (?, ?, ?, ?)",
                           ((self.build, key, _compact(record), at) for key, record in records))

    def load(self, key: str, signed: bool = False) -> object:
        if signed:
            row = self._db().execute("SELECT record FROM signed WHERE build=? AND key=?", (self.build, key)).fetchone()
            if row is None:
                raise KeyError(f"the credential this build signed for award '{key}' is missing from {self.path}")
            return json.loads(row[0])
        text = self.prefetched.get(key)
        if text is None:
            row = self._db().execute("SELECT record FROM records WHERE key=?", (key,)).fetchone()
            text = row[0] if row is not None else None
        try:
            return json.loads(text) if text is not None else self._read_again(key)
        except ValueError:
            return self._read_again(key)

    def _read_again(self, key: str) -> object:
        """The record as its ledger file holds it, that file indexed again (a row was missing or
        damaged). The file is the one the build read, or the one it wrote, which holds the same
        record for `key`: a record this build signed is read from its own rows (`signed`)."""
        bucket = ledger.bucket_of(key)
        data = (self.project / ledger.bucket_path(bucket)).read_bytes()
        awards = json.loads(data)["awards"]
        self.index(bucket, ledger.file_seal(bucket, hashlib.sha256(data).hexdigest()),
                   ((k, raw["credential"]) for k, raw in awards.items() if "credential" in raw))
        return awards[key]["credential"]


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One transaction (the connection autocommits: a statement each would sync each row)."""
    db.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _compact(record: object) -> str:
    return json.dumps(record, separators=(",", ":"))


def _forget_signed(path: Path, build: str, pid: int) -> None:
    """Drop a build's signed rows once it is done (in the process that made them, never a fork)."""
    if os.getpid() != pid:
        return
    try:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("DELETE FROM signed WHERE build=?", (build,))
        finally:
            db.close()
    except sqlite3.Error:
        pass  # gone or damaged: the next build starts it again
