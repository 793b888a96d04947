"""Write side of the pipeline: publish a site without ever leaving it half-written.

Two ways, one promise (a build that fails changes nothing; a build that succeeds publishes
all of its files):

* A whole site (the first build, or without a previous build's state): files stream into a
  staging folder beside the output (same filesystem, so renames are atomic), which replaces
  the old folder in one rename. The old site is deleted only after the new one is in place.
* A change (the usual rebuild): only the files that differ are written, into a staging
  folder, and each one to replace or delete is written to a journal as it is found (a line
  each, never a list in memory). The journal is flushed to disk and renamed into place: that
  is the commit point. The journal is applied file by file with renames; a build
  that is killed while applying it leaves the journal, and the next build (or any command
  that takes the project's lock first) finishes it before doing anything else. Up to the
  commit point nothing published has changed; after it, the change always completes.

A marker file marks folders we own, and we refuse to replace anything else (never `rm -rf`
a stranger).
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..artifacts import SHARED, Artifact, Kept, Reused
from ..atomic_write import replace_durably
from ..model.routes import safe_output_path
from .hosts import HostLimitError, HostProfile, SiteSize
from .site_state import SiteState, inside_site, sha256

MARKER = ".badgekiln-site"
_MARKER_TEXT = b"Built by Badgekiln. This folder is replaced on every build.\n"


class WriteError(Exception):
    """The output folder cannot be used; message says why and what to do."""


def check_output_dir(out: Path, project: Path) -> None:
    out, project = out.resolve(), project.resolve()
    if out == project or project.is_relative_to(out):
        raise WriteError(f"refusing to write the site into {out}: it contains the project")
    for protected in ("content", "templates", "generator", "keys", "tests"):
        if out.is_relative_to(project / protected):
            raise WriteError(f"refusing to write the site into {out}: it is inside {protected}/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise WriteError(f"{out} exists and was not made by Badgekiln (no {MARKER} file); "
                         "choose another --out folder or empty it yourself")


def _remove_leftovers(out: Path) -> None:
    """Staging and backup folders of builds that were killed (their process is gone)."""
    for leftover in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = leftover.name.rpartition("-")
        if not kind.endswith((".staging", ".previous")) or not pid.isdigit():
            continue
        try:
            if int(pid) != os.getpid():
                os.kill(int(pid), 0)
                continue  # a running build's: not ours to touch
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _reuse(source: str, target: str) -> None:
    # A hard link keeps size and mtime (what the state checks next time); a copy with copy2 too,
    # where links are not possible (another filesystem, or no link support).
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class _Measure:
    """Size accounting and host limits, shared by both ways of writing."""

    def __init__(self, size: SiteSize | None, host: HostProfile | None):
        self.size, self.host = size, host

    def add(self, path: str, length: int, owner: str) -> None:
        if self.size is not None:
            self.size.add(path, length, of_award=_of_award(owner))
            self.check()

    def kept(self, seen: Callable[[str], object]) -> Callable[[str, int, str], None]:
        """What to tell each file an update leaves in place (path, size and owner, as the last build
        recorded them): it is measured, and told to `seen`. The limits are checked once they are
        all counted (`check`), not at each of them: nothing is published before that."""
        size = self.size
        if size is None:
            return lambda path, length, owner: seen(path)

        def measure(path: str, length: int, owner: str) -> None:
            seen(path)
            size.add(path, length, of_award=_of_award(owner))
        return measure

    def check(self) -> None:
        if self.size is not None and self.host is not None and (breaches := self.size.breaches(self.host)):
            raise HostLimitError(self.host, breaches)


def _of_award(owner: str) -> bool:
    return bool(owner) and not owner.startswith(SHARED)


def _make_folder(folder: str) -> None:
    """os.makedirs, without its stat of the parent first: the parent is almost always there."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def write_site(out: Path, files: Iterable[Artifact], project: Path, should_commit=lambda: True,
               size: SiteSize | None = None, host: HostProfile | None = None, state: SiteState | None = None,
               stamp: str | None = None) -> int:
    """Write `files` as the whole new content of `out`; returns the file count. Atomic on failure.

    `size` measures the site as it is written; with a `host`, the first file that breaks one of
    its limits stops the build (HostLimitError) before anything is published. With a `state`,
    what was written is recorded for the next build's `update_site`.
    """
    check_output_dir(out, project)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    backup = out.parent / f".{out.name}.previous-{os.getpid()}"
    _remove_leftovers(out)
    staging.mkdir()
    measure = _Measure(size, host)
    produced = _Produced(state)
    root = folder_made = str(staging)
    try:
        for artifact in files:
            relpath, data, owner = artifact.path, artifact.data, artifact.owner
            safe_output_path(relpath)
            if isinstance(data, Kept):
                raise TypeError("a whole write has no previous site to keep files from (update_site does)")
            produced.add(relpath, owner, None if owner or isinstance(data, Reused) else sha256(data))
            target = os.path.join(root, relpath)
            folder = os.path.dirname(target)
            if folder != folder_made:  # an award's files come together: their folder is made once
                _make_folder(folder)
                folder_made = folder
            if isinstance(data, Reused):
                _reuse(data.source, target)
                length = os.stat(target).st_size
            else:
                with open(target, "wb") as fh:
                    fh.write(data)
                length = len(data)
            measure.add(relpath, length, owner)
        produced.done()
        if not should_commit():
            shutil.rmtree(staging, ignore_errors=True)
            return 0
        (staging / MARKER).write_bytes(_MARKER_TEXT)
        if out.exists():
            os.replace(out, backup)
        try:
            os.replace(staging, out)
        except BaseException:
            if backup.exists():
                os.replace(backup, out)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if state is not None:
        state.record_all(stamp)
    return produced.count


class _Produced:
    """The paths a write publishes: each once (WriteError otherwise), noted in the state for the
    next build (SQLite, in batches: 3 x 10^5 of them at 10^5 awards), or in a set when nothing
    is recorded."""

    def __init__(self, state: SiteState | None):
        self.state, self.count, self.seen, self.kept_owner = state, 0, set(), None
        if state is not None:
            state.begin()

    def add(self, path: str, owner: str, digest: str | None) -> None:
        self.count += 1
        self.kept_owner = None
        if self.state is not None:
            self._refuse(self.state.produce(path, owner, digest))
        elif path in self.seen:
            self._refuse(path)
        else:
            self.seen.add(path)

    def keep(self, path: str, owner: str, files: int) -> None:
        """An update leaves `files` files of a kept owner in place (`path` is one of them): the owner
        is noted once, for all its files (the state's rows of that owner, so never twice among
        themselves), whether they come as one `Kept` or as `Reused` files one by one."""
        self.count += files
        if owner != self.kept_owner:
            self.kept_owner = owner
            self._refuse(self.state.keep(owner, path))

    def done(self) -> None:
        if self.state is not None:
            self._refuse(self.state.produced() or self.state.clash())

    @staticmethod
    def _refuse(twice: str | None) -> None:
        if twice is not None:
            raise WriteError(f"two files want the output path {twice}")


def journal_path(state: SiteState) -> Path:
    return state.path.with_suffix(".journal")


def update_site(out: Path, files: Iterable[Artifact], project: Path, state: SiteState, should_commit=lambda: True,
                size: SiteSize | None = None, host: HostProfile | None = None, stamp: str | None = None,
                kept: Callable[[str], object] = lambda path: None) -> int:
    """Make `out` hold exactly `files`, writing only what differs from what `state` records.

    Unchanged awards (`Kept`: all their files), kept shared files (`Reused`: each one of all the
    files its owner has in `state`) and shared files whose bytes are the same are left alone;
    files no longer produced, and strays added by hand, are deleted. A kept owner is noted once,
    not once per file, and its files are measured from `state` (and each told to `kept`) once
    the stream has ended, before `should_commit` is asked.
    """
    check_output_dir(out, project)
    finish_interrupted(state)
    out = out.resolve()
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    _remove_leftovers(out)  # after the journal: its staging folder is in use until it is applied
    journal = _Journal(state, staging, stamp)
    staging.mkdir()
    measure = _Measure(size, host)
    produced = _Produced(state)
    try:
        for artifact in files:
            relpath, data, owner = artifact.path, artifact.data, artifact.owner
            safe_output_path(relpath)
            if isinstance(data, (Kept, Reused)):  # already in place
                produced.keep(relpath, owner, data.files if isinstance(data, Kept) else 1)
                continue
            produced.add(relpath, owner, None)
            measure.add(relpath, len(data), owner)
            if not owner and state.unchanged(relpath, data):
                continue
            target = os.path.join(staging, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
            journal.replace(relpath, owner, None if owner else sha256(data))
        produced.done()
        state.sort_out(measure.kept(kept), journal.delete)
        measure.check()
        if not should_commit():
            journal.discard()
            shutil.rmtree(staging, ignore_errors=True)
            return 0
        for path in _strays(state):
            journal.delete(path)
        journal.commit()
    except BaseException:
        journal.discard()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finish_interrupted(state)  # the commit point is passed: apply the journal
    return produced.count


class _Journal:
    """An update's journal, streamed to a pending file as the update finds what to replace and
    delete: a first line with the staging folder and the stamp, then a line per file, `[path,
    owner, sha256]` to move into place or `[path]` to delete. A restyle of 10^5 awards replaces
    3 x 10^5 files; none of them is held in memory. `commit` flushes it to disk and renames it
    into place. (The project lock lets one build write it at a time.)"""

    def __init__(self, state: SiteState, staging: Path, stamp: str | None):
        self.path = journal_path(state)
        self.pending = self.path.with_name(self.path.name + "-pending")
        self.file = open(self.pending, "w", encoding="utf-8")
        self._line({"staging": str(staging), "stamp": stamp})

    def _line(self, value: object) -> None:
        self.file.write(json.dumps(value))
        self.file.write("\n")

    def replace(self, path: str, owner: str, digest: str | None) -> None:
        self._line([path, owner, digest])

    def delete(self, path: str) -> None:
        self._line([path])

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        replace_durably(self.pending, self.path)

    def discard(self) -> None:
        self.file.close()
        self.pending.unlink(missing_ok=True)


def _journal_entries(journal: Path, plan: dict) -> Iterator[list]:
    """The files a committed journal replaces (`[path, owner, sha256]`), then those it deletes
    (`[path]`), read a line at a time; only paths inside the site."""
    if "changes" in plan:  # a journal written whole by an earlier Badgekiln, in its first line
        entries: Iterable[list] = [*plan["changes"], *([path] for path in plan["deleted"])]
        yield from (entry for entry in entries if inside_site(entry[0]))
        return
    with open(journal, encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            entry = json.loads(line)
            if inside_site(entry[0]):
                yield entry


def _strays(state: SiteState) -> list[str]:
    """Files someone put in the site by hand (a folder whose mtime moved holds them): deleted,
    so the site stays byte-identical to a full build."""
    strays = []
    for folder in state.changed_dirs():
        try:
            names = os.listdir(os.path.join(state.root, folder))
        except OSError:
            continue
        for name in names:
            path = os.path.normpath(os.path.join(folder, name))
            full = os.path.join(state.root, path)
            if path == MARKER or os.path.isdir(full):
                continue
            known = state.db.execute("SELECT 1 FROM files WHERE path=?", (path,)).fetchone()
            produced = state.db.execute("SELECT 1 FROM produced WHERE path=?", (path,)).fetchone()
            if not known and not produced:
                strays.append(path)
    return sorted(strays)


def finish_interrupted(state: SiteState) -> bool:
    """Apply a committed journal (this build's, or one a killed build left). Idempotent."""
    journal = journal_path(state)
    try:
        with open(journal, encoding="utf-8") as lines:
            plan = json.loads(lines.readline())
    except FileNotFoundError:
        return False
    staging, root = Path(plan["staging"]), Path(state.root)
    for entry in _journal_entries(journal, plan):
        target = root / entry[0]
        if len(entry) == 1:
            target.unlink(missing_ok=True)
            _prune_empty_folders(target.parent, root)
            continue
        source = staging / entry[0]
        if source.exists():  # else: moved into place before an interruption
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    state.record(_journal_entries(journal, plan), stamp=plan.get("stamp"))  # every folder's mtime now final
    journal.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    return True


def _prune_empty_folders(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
