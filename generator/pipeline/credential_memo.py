"""The frozen credentials (and ledger files) earlier builds found unchanged, remembered beside the project.

Checking that an issued credential is still what content describes means building it again;
at 10^4 awards that is most of a rebuild. signing.CredentialMemo lets the check skip it when
a digest of every input of the credential (and of Badgekiln's code) is the one recorded when
the same record last passed. Kept in SQLite in .badgekiln-cache/ (git-ignored, safe to delete).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .site_state import CACHE_DIR

_BATCH = 5000


class SqliteCredentialMemo:
    def __init__(self, project: Path, code_fingerprint: str):
        path = project / CACHE_DIR / "credentials.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.code = code_fingerprint
        self.notes: list[tuple[str, str, str]] = []
        self.expected: dict[str, tuple[str, str] | None] = {}
        self.files_checked: frozenset[str] = frozenset()
        try:
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("CREATE TABLE IF NOT EXISTS verified (key TEXT PRIMARY KEY, inputs TEXT, digest TEXT)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("CREATE TABLE IF NOT EXISTS ledger_files (digest TEXT PRIMARY KEY)")
            row = self.db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
            if row is None or row[0] != code_fingerprint:  # another Badgekiln: nothing it verified counts
                self.db.execute("DELETE FROM verified")
                self.db.execute("DELETE FROM ledger_files")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (code_fingerprint,))
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("CREATE TABLE verified (key TEXT PRIMARY KEY, inputs TEXT, digest TEXT)")
            self.db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("CREATE TABLE ledger_files (digest TEXT PRIMARY KEY)")
            self.db.execute("INSERT INTO meta VALUES ('code', ?)", (code_fingerprint,))

    def expect(self, keys: list[str]) -> None:
        """The keys `verified` is asked about next: looked up in one query, not one each."""
        query = f"SELECT key, inputs, digest FROM verified WHERE key IN ({','.join('?' * len(keys))})"
        self.expected = {key: (inputs, digest) for key, inputs, digest in self.db.execute(query, keys)}
        self.expected.update((key, None) for key in keys if key not in self.expected)

    def verified(self, key: str, inputs: str, record_digest: str) -> bool:
        if key in self.expected:
            row = self.expected[key]
        else:
            row = self.db.execute("SELECT inputs, digest FROM verified WHERE key=?", (key,)).fetchone()
        return row == (inputs, record_digest)

    def checked_files(self) -> frozenset[str]:
        """SHA-256 of each ledger award file whose every record passed its integrity check here (a
        few hundred rows): the same bytes pass again, so ledger.read need not check them again."""
        self.files_checked = frozenset(row[0] for row in self.db.execute("SELECT digest FROM ledger_files"))
        return self.files_checked

    def note_checked_files(self, digests: frozenset[str]) -> None:
        if digests == self.files_checked:
            return
        self.db.execute("BEGIN")  # one transaction (a statement each would sync each row)
        self.db.execute("DELETE FROM ledger_files")  # only the files of the ledger as it is now
        self.db.executemany("INSERT OR IGNORE INTO ledger_files VALUES (?)", ((d,) for d in digests))
        self.db.execute("COMMIT")
        self.files_checked = digests

    def note(self, key: str, inputs: str, record_digest: str) -> None:
        self.notes.append((key, inputs, record_digest))
        if len(self.notes) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        """Notes so far into the open transaction (one for the build: the connection autocommits,
        and a statement each would sync each row), so a first build never holds 10^5 of them."""
        if self.notes:
            if not self.db.in_transaction:
                self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO verified VALUES (?, ?, ?)", self.notes)
            self.notes.clear()

    def save(self) -> None:
        self._flush()
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()
