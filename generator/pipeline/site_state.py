"""What the last build put in an output folder, so the next one changes only what differs.

Kept beside the project (.badgekiln-cache/, git-ignored), one SQLite database per output
folder: a row per published file (its path, the award it belongs to by input digest, or none
for the site's shared files, and its size, mtime and SHA-256), a row per folder (its mtime,
which changes when anything is added to it by hand), and the stamp of the inputs the last
build read. SQLite keeps this on disk, so a build holds one award's rows at a time, never the
whole manifest.

Everything here can only cost time, never change output: a missing, stale or damaged state is
a first build, a file whose size or mtime differs is rendered again, and a folder whose mtime
differs is scanned for files that do not belong to the site.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import sys
from array import array
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from importlib import metadata
from itertools import chain, islice
from pathlib import Path

from .. import resources
from ..artifacts import SHARED
from ..model.routes import safe_output_path
from .parallel import Background

CACHE_DIR = ".badgekiln-cache"
FORMAT = 2
_LOOKUP_BATCH = 500  # owners per query (well under SQLite's limit of bound parameters)
SURVEY_FROM = 2000  # recorded files; below this, stat them in the build's own process (a fork costs more)
_LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3", "pillow", "cryptography", "pyld", "segno", "resvg-py")


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def fingerprint(project: Path, templates: bool = True) -> str:
    """Everything every award's bytes depend on besides content: code, data, templates, libraries.

    Without `templates`: what the build memo's findings depend on (credentials, parsed awards
    files and ledger checks are made without a template), so a provider restyling the pages, or
    rewording them in serve, does not make every credential be checked or signed again."""
    h = hashlib.sha256(_code_digest().encode())
    if templates:
        for folder in sorted({resources.TEMPLATES, (project / "templates").resolve()}):
            _digest_files(h, folder)
    return h.hexdigest()


@functools.cache
def _code_digest() -> str:
    """Of the Badgekiln code and data this process runs, and the libraries it renders with: read
    once per process (2.7 MB; a `serve` session builds many times, with the code it started with)."""
    h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    for name in _LIBRARIES:
        h.update(f"{name}={_library_version(name)};".encode())
    _digest_files(h, resources.PACKAGE)
    return h.hexdigest()


def _digest_files(h, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
        h.update(path.read_bytes())


def state_path(project: Path, out: Path) -> Path:
    """One state per output folder (tests and previews write elsewhere than _site/)."""
    name = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:16]
    return project / CACHE_DIR / f"{name}.sqlite"


def shown_path(project: Path, out: Path) -> Path:
    """What the site in `out` shows of each award (model/published.py), written with it."""
    return state_path(project, out).with_suffix(".shown.json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _intact(root: str, path: str, size: int, mtime_ns: int) -> bool:
    """The recorded file `path` is inside the site and as the last build left it (a stat)."""
    if not inside_site(path):
        return False
    try:
        stat = os.stat(os.path.join(root, path))
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (size, mtime_ns)


def _damaged_owners(db: sqlite3.Connection, root: str, among: Container[str] | None = None) -> set[str]:
    """The owners (of those `among`, if given) with a recorded file that is missing, changed or
    outside the site (a stat each)."""
    damaged: set[str] = set()
    for owner, path, size, mtime_ns in db.execute("SELECT owner, path, size, mtime_ns FROM files"):
        if (owner not in damaged and (among is None or owner in among)
                and not _intact(root, path, size, mtime_ns)):
            damaged.add(owner)
    return damaged


def _moved_dirs(db: sqlite3.Connection, root: str) -> list[str]:
    """Folders whose mtime moved since the last build: something was added or removed by hand."""
    moved = []
    for path, mtime_ns in db.execute("SELECT path, mtime_ns FROM dirs"):
        if path != "." and not inside_site(path):
            continue
        try:
            if os.stat(os.path.join(root, path)).st_mtime_ns != mtime_ns:
                moved.append(path)
        except OSError:
            pass
    return moved


Surveyed = tuple[set[str], list[str]]  # the damaged owners and the moved folders


def _survey(db_path: str, root: str) -> Surveyed:
    """Both stat passes, for a forked process (its own connection: one must not cross a fork)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return _damaged_owners(db, root), _moved_dirs(db, root)
    finally:
        db.close()


def inside_site(path: str) -> bool:
    """A recorded path that stays inside the output folder (a damaged or hostile row does not)."""
    try:
        safe_output_path(path)
        return True
    except ValueError:
        return False


def open_cache_db(path: Path, format_: str, schema: str) -> sqlite3.Connection:
    """A connection to one of .badgekiln-cache/'s SQLite files, its tables made (`schema`) and its
    format checked; one damaged, or of another format, is deleted and started again (it is only a
    cache). Autocommit, WAL: readers in other processes never wait for a build's writes."""
    for attempt in (1, 2):
        try:
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" + schema)
            if db.execute("SELECT value FROM meta WHERE key='format'").fetchone() not in (None, (format_,)):
                raise sqlite3.DatabaseError("another format")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (format_,))
            return db
        except sqlite3.DatabaseError:
            if attempt == 2:
                raise
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    raise AssertionError("unreachable")


class SiteState:
    """The files and folders of the site in `out` as the last build left them."""

    def __init__(self, project: Path, out: Path, fingerprint_: str | None = None):
        self.project, self.out = project, out.resolve()
        self.root = str(self.out)
        self.path = state_path(project, out)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()
        self.fingerprint = fingerprint_ or fingerprint(project)
        # award files are reused only when the code that made them is the same
        self.awards_valid = self.meta("fingerprint") == self.fingerprint
        self.hits = 0
        self._survey: Background | None = None
        self._surveyed: Surveyed | None = None

    def _open(self) -> sqlite3.Connection:
        return open_cache_db(self.path, str(FORMAT), """
            CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, owner TEXT NOT NULL, size INTEGER,
                                              mtime_ns INTEGER, sha256 TEXT);
            CREATE INDEX IF NOT EXISTS files_owner ON files (owner);
            CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, mtime_ns INTEGER);
            CREATE TEMP TABLE IF NOT EXISTS produced (path TEXT PRIMARY KEY, owner TEXT, sha256 TEXT);
        """)

    def close(self) -> None:
        if self._survey is not None:
            self._survey.cancel()
            self._survey = None
        self.db.close()

    # --- meta -------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- the published files ------------------------------------------------------------------------

    @property
    def has_site(self) -> bool:
        """A previous build's files are recorded and the folder is still ours."""
        return self.db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None and \
            os.path.isfile(os.path.join(self.root, ".badgekiln-site"))

    def reusable(self, owner: str) -> bool:
        """All of a shared owner's files are there as the last build wrote them (`kept_counts` for one)."""
        rows = self.db.execute("SELECT path, size, mtime_ns FROM files WHERE owner=?", (owner,)).fetchall()
        return self.awards_valid and bool(rows) and all(_intact(self.root, *row) for row in rows)

    def start_survey(self, jobs: int) -> None:
        """Start stating the published files and folders in another process, for `kept_counts` and
        `changed_dirs` (when this is a site of many files the build may keep, with a core to spare)."""
        if (self._survey is None and self._surveyed is None and Background.possible(jobs) and self.awards_valid
                and self.has_site and self.file_count() >= SURVEY_FROM):
            # on the other core while the build reads and checks its inputs: at 10^4 awards, 4 x 10^4
            # stats (about 0.25 s) taken off publishing one award. The site is not touched until the
            # update commits, so the answer is the one the build would get itself; it can only make an
            # award render again, never publish anything. Niced: it has until the build publishes, and
            # the build's own work on that core (parallel reading of awards files) goes first.
            self._survey = Background(_survey, str(self.path), self.root, nice=10)

    def _survey_answer(self) -> Surveyed | None:
        if self._survey is not None:
            survey, self._survey = self._survey, None
            self._surveyed = survey.result()
        return self._surveyed

    def kept_counts(self, owners: list[str]) -> array:
        """For each owner in turn: how many files it has in the site, every one as the last build
        left it (a stat each, maybe already made by `start_survey`); 0 when it has none, or one is
        missing, changed or outside the site.

        One pass over the owners' file counts: a lookup per owner would cost more at 10^5 awards."""
        counts = array("l", [0]) * len(owners)
        if not self.awards_valid or not owners:
            return counts
        position = {owner: index for index, owner in enumerate(owners)}
        answer = self._survey_answer()
        damaged = answer[0] if answer is not None else _damaged_owners(self.db, self.root, among=position)
        for owner, count in self.db.execute("SELECT owner, COUNT(*) FROM files GROUP BY owner"):
            index = position.get(owner)
            if index is not None and owner not in damaged:
                counts[index] = count
                if not owner.startswith(SHARED):
                    self.hits += 1  # awards reused (the report's count)
        return counts

    def files_each(self, owners: list[str]) -> Iterator[list[tuple[str, int]]]:
        """The (path, size) of each file of each owner in turn, as the last build recorded them."""
        for start in range(0, len(owners), _LOOKUP_BATCH):
            batch = owners[start:start + _LOOKUP_BATCH]
            rows: dict[str, list[tuple[str, int]]] = {}
            if self.awards_valid:
                query = f"SELECT owner, path, size FROM files WHERE owner IN ({','.join('?' * len(batch))})"
                for owner, path, size in self.db.execute(query, batch):
                    rows.setdefault(owner, []).append((path, size))
            for owner in batch:
                yield sorted(rows.get(owner, ()))

    def unchanged(self, path: str, data: bytes) -> bool:
        """The shared file at `path` already holds exactly `data` (and nobody touched it since)."""
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM files WHERE path=?", (path,)).fetchone()
        if row is None or row[0] != len(data) or row[2] != sha256(data):
            return False
        try:
            stat = os.stat(os.path.join(self.root, path))
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (row[0], row[1])

    def intact(self) -> bool:
        """Every recorded file and folder is as the last build left it (a stat each, nothing read)."""
        if not self.has_site:
            return False
        for table in ("files", "dirs"):
            for path, mtime_ns in self.db.execute(f"SELECT path, mtime_ns FROM {table}"):
                if path != "." and not inside_site(path):
                    return False
                try:
                    if os.stat(os.path.join(self.root, path)).st_mtime_ns != mtime_ns:
                        return False
                except OSError:
                    return False
        return True

    def changed_dirs(self) -> list[str]:
        """Folders whose mtime moved since the last build: something was added or removed by hand."""
        answer = self._survey_answer()
        return answer[1] if answer is not None else _moved_dirs(self.db, self.root)

    def file_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    # --- one build ------------------------------------------------------------------------------------

    def begin(self) -> None:
        self.db.execute("DELETE FROM produced")
        self._producing: dict[str, tuple[str, str | None]] = {}
        # the owners whose files stay: the awards' digests, strings the build holds anyway (so a set of
        # them costs its table only, where rows in SQLite cost 2 to 3 us each, 10^4 times an add-one)
        self._kept: set[str] = set()

    def produce(self, path: str, owner: str = "", sha256: str | None = None) -> str | None:
        """Note that this build publishes `path` (for `record_all`: its owner, and the SHA-256 of a
        shared file). Returns a path it publishes twice, once that is seen: noted a few hundred at
        a time, in SQLite (never a set of every path), so `produced()` must follow the last one."""
        if path in self._producing:
            return path
        self._producing[path] = (owner, sha256)
        return self.produced() if len(self._producing) >= _LOOKUP_BATCH else None

    def keep(self, owner: str, path: str) -> str | None:
        """Note that every file `owner` had stays as it is (an unchanged award: once for all of its
        files, where `produce` takes one per file). Returns `path`, one of its files, when that owner
        was kept already (two awards wanting one set of files)."""
        if owner in self._kept:
            return path
        self._kept.add(owner)
        return None

    def produced(self) -> str | None:
        """Record the paths noted so far; the first one an earlier batch already had, if any."""
        paths, self._producing = sorted(self._producing.items()), {}
        if not paths:
            return None
        rows = [(path, *row) for path, row in paths]
        self.db.execute("SAVEPOINT produced")
        try:
            self.db.executemany("INSERT INTO produced VALUES (?, ?, ?)", rows)
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK TO produced")
            return next(path for path, *_ in rows
                        if self.db.execute("SELECT 1 FROM produced WHERE path=?", (path,)).fetchone())
        finally:
            self.db.execute("RELEASE produced")
        return None

    def clash(self) -> str | None:
        """A path this build writes afresh that a kept owner's file already holds (after `produced()`)."""
        if not self._kept:
            return None
        for path, owner in self.db.execute("SELECT p.path, f.owner FROM produced p JOIN files f ON f.path = p.path "
                                           "ORDER BY p.path"):
            if owner in self._kept:
                return path
        return None

    def sort_out(self, kept: Callable[[str, int, str], object], removed: Callable[[str], object]) -> None:
        """After `produced()`, in one pass over the last build's files, in path order: tell `kept`
        the (path, size, owner) of each file this update keeps, and `removed` the path of each
        it neither keeps nor writes again (to delete)."""
        kept_owners = self._kept
        for path, size, owner, again in self.db.execute("SELECT f.path, f.size, f.owner, p.path IS NOT NULL FROM "
                                                        "files f LEFT JOIN produced p ON p.path = f.path "
                                                        "ORDER BY f.path"):
            if owner in kept_owners:
                kept(path, size, owner)
            elif not again and inside_site(path):
                removed(path)

    def record(self, entries: Iterable[list], *, stamp: str | None = None) -> None:
        """After an update is applied: the rows of the files it wrote (`[path, owner, sha256]`) and
        deleted (`[path]`), and of the folders it touched, a few hundred at a time."""
        self.db.execute("BEGIN")
        entries = iter(entries)
        while batch := list(islice(entries, _LOOKUP_BATCH)):
            self.db.executemany("DELETE FROM files WHERE path=?", ((e[0],) for e in batch if len(e) == 1))
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                                self._rows(e for e in batch if len(e) == 3))
            self._record_dirs({os.path.dirname(e[0]) for e in batch})
        self._recorded(stamp)

    def record_all(self, stamp: str | None = None) -> None:
        """After a build that replaced the whole site: every file it `produce`d, and every folder.

        Read from SQLite a few thousand rows at a time: 3 x 10^5 of them after a first build."""
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM files")
        self.db.execute("DELETE FROM dirs")
        produced = self.db.execute("SELECT path, owner, sha256 FROM produced")
        while batch := produced.fetchmany(5000):
            self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", self._rows(batch))
        self._record_all_dirs()
        self._recorded(stamp)

    def _recorded(self, stamp: str | None) -> None:
        self.set_meta("fingerprint", self.fingerprint)
        self.set_meta("stamp", stamp or "")
        self.db.execute("COMMIT")
        self.awards_valid = True

    def _rows(self, changes: Iterable[Sequence]) -> Iterator[tuple]:
        for path, owner, digest in changes:
            stat = os.stat(os.path.join(self.root, path))
            yield path, owner, stat.st_size, stat.st_mtime_ns, digest

    def forget_stamp(self) -> None:
        self.set_meta("stamp", "")

    def _record_all_dirs(self) -> None:
        self._record_dirs(chain(["."], (os.path.relpath(os.path.join(folder, d), self.root)
                                        for folder, dirnames, _ in os.walk(self.root) for d in dirnames)))

    def _record_dirs(self, folders: Iterable[str]) -> None:
        """Note the mtime of each folder (and its parents) as this build leaves it; drop vanished
        ones. A few hundred at a time: a site of 10^5 awards has 10^5 folders."""
        folders = iter(folders)
        while batch := list(islice(folders, _LOOKUP_BATCH)):
            self._record_dir_batch(batch)

    def _record_dir_batch(self, folders: list[str]) -> None:
        seen = set()
        for folder in folders:
            while folder not in seen:
                seen.add(folder)
                if folder in ("", "."):
                    break
                folder = os.path.dirname(folder)
        seen = {f or "." for f in seen}
        for folder in sorted(seen):
            try:
                mtime = os.stat(os.path.join(self.root, folder)).st_mtime_ns
            except OSError:
                self.db.execute("DELETE FROM dirs WHERE path=?", (folder,))
                continue
            self.db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?)", (folder, mtime))


def input_stamp(project: Path, settings: dict) -> dict:
    """What a build reads, by name, size and mtime: equal stamps mean equal inputs.

    The project's content/, templates/ and keys/, the signing keys in the environment, the
    build's settings and Badgekiln's own fingerprint (checked by the caller) make up a build's
    inputs; the clock matters only through validity dates, which the caller records apart.
    """
    files = {}
    for folder in ("content", "templates", "keys"):
        root = project / folder
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                files[os.path.relpath(path, project)] = [stat.st_size, stat.st_mtime_ns]
    secrets = os.environ.get("BADGEKILN_SIGNING_KEYS", "")
    return {"files": files, "settings": settings, "ci": os.environ.get("CI", ""),
            "keys_env": hashlib.sha256(secrets.encode("utf-8")).hexdigest() if secrets else ""}


def stamp_digest(stamp: dict) -> str:
    return hashlib.sha256(json.dumps(stamp, sort_keys=True).encode("utf-8")).hexdigest()
