"""Write side of the pipeline: stream files into a staging folder, then swap it in.

The staging folder sits beside the output (same filesystem, so renames are atomic). The old
site is renamed away only after the new one is complete, and deleted only after the new one
is in place; any failure before that leaves the old site exactly as it was. A marker file
marks folders we own, and we refuse to replace anything else (never `rm -rf` a stranger).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

from ..artifacts import Artifact, Reused
from ..model.routes import safe_output_path
from .hosts import HostLimitError, HostProfile, SiteSize

MARKER = ".badgekiln-site"


class WriteError(Exception):
    """The output folder cannot be used; message says why and what to do."""


def _reuse(source: str, target: str) -> None:
    # A hard link keeps size and mtime (what the cache checks next time); a copy with copy2 too,
    # where links are not possible (another filesystem, or no link support).
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


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


def write_site(out: Path, files: Iterable[Artifact], project: Path, should_commit=lambda: True,
               size: SiteSize | None = None, host: HostProfile | None = None) -> int:
    """Write `files` as the new content of `out`; returns the file count. Atomic on failure.

    `size` measures the site as it is written; with a `host`, the first file that breaks one of
    its limits stops the build (HostLimitError) before anything is published.
    """
    check_output_dir(out, project)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    backup = out.parent / f".{out.name}.previous-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    count = 0
    seen: set[str] = set()
    root = str(staging)
    folders: set[str] = {root}  # plain strings: a 100k-award site writes 700k files
    try:
        for artifact in files:
            relpath, data = artifact[0], artifact[1]
            safe_output_path(relpath)
            if relpath in seen:
                raise WriteError(f"two files want the output path {relpath}")
            seen.add(relpath)
            target = os.path.join(root, relpath)
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if isinstance(data, Reused):
                _reuse(data.source, target)
            else:
                with open(target, "wb") as fh:
                    fh.write(data)
            count += 1
            if size is not None:
                size.add(relpath, os.stat(target).st_size if isinstance(data, Reused) else len(data),
                         of_award=len(artifact) > 2 and artifact[2])
                if host is not None and (breaches := size.breaches(host)):
                    raise HostLimitError(host, breaches)
        if not should_commit():
            shutil.rmtree(staging, ignore_errors=True)
            return 0
        (staging / MARKER).write_text("Built by Badgekiln. This folder is replaced on every build.\n")
        if out.exists():
            os.replace(out, backup)
        try:
            os.replace(staging, out)
        except BaseException:
            if backup.exists():
                os.replace(backup, out)
            raise
        shutil.rmtree(backup, ignore_errors=True)
        return count
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
