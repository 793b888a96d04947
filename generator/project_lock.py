"""One Badgekiln run at a time per project: the lock around everything that writes the ledger or the site.

Two builds started together would each mint a slug for a new award, each record its own in
content/ledger.json and each publish its own site; when the ledger keeps one slug and the site
shows the other, the next build moves that award to a new URL and the shared link breaks.
So `build`, `revoke`/`suspend`/`reinstate`, `correct-email`, `import`, `keys` and `notify` take
this lock (a file lock, `filelock`, on `.badgekiln.lock` in the project, git-ignored) for their
whole read-check-write sequence. A second run waits for the first, and says so. The lock is
re-entrant within a process, so a command holding it can call `api.build`, which takes it too.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

LOCK_FILE = ".badgekiln.lock"
WAITING = "waiting for another Badgekiln run on this project to finish..."


@contextlib.contextmanager
def project_lock(project: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the project's lock; when another run holds it, call `on_wait(WAITING)` once and wait."""
    lock = filelock.FileLock(Path(project) / LOCK_FILE, is_singleton=True)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if on_wait is not None:
            on_wait(WAITING)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
