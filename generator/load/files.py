"""Read side of the pipeline: the only module that reads project files from disk.

Walks are sorted, symlinks that leave the project are ignored, and every file comes back as
bytes with its project-relative POSIX path, so later stages are pure functions of bytes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
    return [SourceFile(path, (project / path).read_bytes()) for path in _paths(project, folder, suffixes)]


def _paths(project: Path, folder: str, suffixes: tuple[str, ...]) -> list[str]:
    root = (project / folder)
    if not root.is_dir():
        return []
    paths = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in suffixes:
            continue
        if not _inside(project, path):
            continue
        paths.append(path.relative_to(project).as_posix())
    return paths


class FilesOnDisk(Mapping[str, bytes]):
    """Files by project-relative path, each read when asked for and never kept: a reader that takes
    them one at a time holds one (the ledger's award files of 10^5 awards are 100 MB)."""

    def __init__(self, project: Path, paths: list[str]):
        self.project, self.paths = project, dict.fromkeys(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self.paths:
            raise KeyError(path)
        return (self.project / path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


@dataclass(frozen=True)
class Sources:
    """Every file under content/, as bytes keyed by project-relative path (`on_disk`: read when asked)."""

    files: dict[str, bytes]
    on_disk: Mapping[str, bytes] = field(default_factory=dict)

    def under(self, folder: str, suffixes: tuple[str, ...]) -> list[tuple[str, bytes]]:
        prefix = f"{CONTENT}/{folder}/"
        return [(p, d) for p, d in sorted(self.files.items())
                if p.startswith(prefix) and p.lower().endswith(suffixes)]


def read_sources(project: Path, on_disk: str | None = None) -> Sources:
    """Every file a build reads from content/ (YAML, CSV, images, the ledger); those under the
    folder `on_disk` are read only when asked for."""
    paths = _paths(project, CONTENT, (".yaml", ".yml", ".csv", ".png", ".svg", ".json", ".jpg", ".jpeg", ".gif",
                                      ".webp", ".jwt"))
    later = [p for p in paths if on_disk is not None and p.startswith(on_disk + "/")]
    files = FilesOnDisk(project, later)
    return Sources({p: (project / p).read_bytes() for p in paths if p not in files.paths}, files)


def files_on_disk(project: Path, folder: str, suffixes: tuple[str, ...]) -> FilesOnDisk:
    """The files under project/folder with one of `suffixes`, each read when asked for."""
    return FilesOnDisk(project, _paths(project, folder, suffixes))


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
