"""Read side of the pipeline: the only module that reads project files from disk.

Walks are sorted, symlinks that leave the project are ignored, and every file comes back as
bytes with its project-relative POSIX path, so later stages are pure functions of bytes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CONTENT = "content"


@dataclass(frozen=True)
class SourceFile:
    path: str  # project-relative, POSIX separators
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def walk(project: Path, folder: str, suffixes: tuple[str, ...]) -> list[SourceFile]:
    """Files under project/folder with one of `suffixes`, in sorted path order."""
    root = (project / folder)
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in suffixes:
            continue
        if not _inside(project, path):
            continue
        files.append(SourceFile(path.relative_to(project).as_posix(), path.read_bytes()))
    return files


@dataclass(frozen=True)
class Sources:
    """Every file under content/, as bytes keyed by project-relative path."""

    files: dict[str, bytes]

    def under(self, folder: str, suffixes: tuple[str, ...]) -> list[tuple[str, bytes]]:
        prefix = f"{CONTENT}/{folder}/"
        return [(p, d) for p, d in sorted(self.files.items())
                if p.startswith(prefix) and p.lower().endswith(suffixes)]


def read_sources(project: Path) -> Sources:
    """Every file a build reads from content/ (YAML, CSV, images, the ledger)."""
    files = walk(project, CONTENT, (".yaml", ".yml", ".csv", ".png", ".svg", ".json", ".jpg", ".jpeg",
                                    ".gif", ".webp", ".jwt"))
    return Sources({f.path: f.data for f in files})


def read(project: Path, relpath: str) -> SourceFile | None:
    """One file by project-relative path; None if missing or if the path leaves the project."""
    if PurePosixPath(relpath).is_absolute() or ".." in PurePosixPath(relpath).parts:
        return None
    path = project / relpath
    if not path.is_file() or not _inside(project, path):
        return None
    return SourceFile(PurePosixPath(relpath).as_posix(), path.read_bytes())


def _inside(project: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(project.resolve())
        return True
    except ValueError:
        return False
