"""Incremental builds: an award whose inputs did not change keeps its files from the last build.

Per-award work (two pages, baked PNG and SVG, JWT and JWS) is most of a build. An award's
files are a function of its inputs alone: the award, its badge and issuer, the site settings,
its frozen credential record and signer, and the code, libraries and templates that turn
them into bytes. A digest of those inputs names the award's files in a manifest kept in the
project (.badgekiln-cache/, git-ignored). When the digest matches and the previous site still
holds those files as they were written (same size and mtime), the writer hard-links them
instead of rendering them again, so adding one award renders one award.

The cache can only cost time, never change output: a missing, stale or unreadable manifest,
or a file touched by hand, is simply a miss, rendered as in a first build.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path

from .. import resources
from ..artifacts import Artifact, Reused
from ..atomic_write import write_file_atomic
from ..model.routes import safe_output_path

CACHE_DIR = ".badgekiln-cache"
FORMAT = 1
_LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3", "pillow", "cryptography", "pyld", "segno", "resvg-py")


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def fingerprint(project: Path) -> str:
    """Everything every award's bytes depend on besides content: code, data, templates, libraries."""
    h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    for name in _LIBRARIES:
        h.update(f"{name}={_library_version(name)};".encode())
    folders = {resources.PACKAGE, resources.TEMPLATES, (project / "templates").resolve()}
    for folder in sorted(folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def manifest_path(project: Path, out: Path) -> Path:
    """One manifest per output folder (tests and previews write elsewhere than _site/)."""
    name = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:16]
    return project / CACHE_DIR / f"{name}.json"


def shown_path(project: Path, out: Path) -> Path:
    """What the site in `out` shows of each award (model/published.py), written with it."""
    return manifest_path(project, out).with_suffix(".shown.json")


class Cache:
    """The previous build's award files, by input digest; and what this build produced."""

    def __init__(self, project: Path, out: Path, fingerprint_: str, previous: dict[str, list]):
        self.project, self.out, self.fingerprint = project, out.resolve(), fingerprint_
        self._root = str(self.out)
        self.previous = previous  # input digest -> [[path, size, mtime_ns], ...]
        self.produced: dict[str, list[str]] = {}  # this build: input digest -> paths
        self.hits = 0

    @classmethod
    def load(cls, project: Path, out: Path) -> "Cache":
        stamp = fingerprint(project)
        try:
            doc = json.loads(manifest_path(project, out).read_bytes())
            ok = doc.get("format") == FORMAT and doc.get("fingerprint") == stamp and isinstance(doc["awards"], dict)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            ok = False
        return cls(project, out, stamp, doc["awards"] if ok else {})

    def reusable(self, key: str) -> list[Artifact] | None:
        """The award's files in the previous site, if every one is still as it was written."""
        listed = self.previous.get(key)
        if not isinstance(listed, list) or not listed:
            return None
        files = []
        for item in listed:
            try:
                path, size, mtime_ns = item
                source = os.path.join(self._root, safe_output_path(path))  # never a file outside the site
                stat = os.stat(source)
            except (OSError, ValueError, TypeError, AttributeError):
                return None
            if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
                return None
            files.append(Artifact(path, Reused(source)))
        self.hits += 1
        return files

    def record(self, key: str, paths: list[str]) -> None:
        self.produced[key] = paths

    def save(self) -> None:
        """After a successful build: note size and mtime of each award's files as now on disk."""
        awards = {}
        for key, paths in sorted(self.produced.items()):
            try:
                awards[key] = [[p, s.st_size, s.st_mtime_ns] for p in paths
                               for s in [os.stat(os.path.join(self._root, p))]]
            except OSError:
                continue
        target = manifest_path(self.project, self.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(target, json.dumps({"format": FORMAT, "fingerprint": self.fingerprint,
                                              "awards": awards}, separators=(",", ":")).encode("utf-8"))
