"""Replacing one file in a single step, durably: the ledger, the send register, the cache manifest.

The new bytes go to a temporary file beside the target, are flushed to disk, and the temporary
file is renamed over the target (and the folder flushed), so a reader or a crash sees either
the old file or the new one, never half of one.
"""
from __future__ import annotations

import os
from pathlib import Path


def write_file_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    replace_durably(tmp, path)


def replace_durably(tmp: Path, path: Path) -> None:
    """Rename `tmp` (written and flushed to disk) over `path`, and flush the folder: the rename
    itself then survives a crash."""
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
