"""Shared fixtures: copy a fixture project, build it with a seeded minter, read the output."""
from __future__ import annotations

import random
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(TESTS))

from generator import ledger, pipeline  # noqa: E402
from generator.writer import write_file_atomic, write_site  # noqa: E402

FIXED_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


class SeededMinter(ledger.SecretsMinter):
    """Deterministic minting for golden tests; production uses the OS CSPRNG."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)

    def slug(self) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))

    def salt(self) -> str:
        return "%032x" % self.rng.getrandbits(128)

    def index(self, size: int) -> int:
        return self.rng.randrange(size)


def copy_project(name: str, dest: Path) -> Path:
    """A writable copy of tests/sites/<name> (or the bundled example for name='example')."""
    source = REPO if name == "example" else TESTS / "sites" / name
    project = dest / name
    shutil.copytree(source / "content", project / "content")
    if (source / "templates").is_dir() and name != "example":
        shutil.copytree(source / "templates", project / "templates")
    return project


def build(project: Path, out: Path | None = None, cache=None, **options) -> pipeline.Prepared:
    """Build like `python build.py` does, with a fixed clock and seeded minting unless given.

    `cache` (a buildcache.Cache) reuses unchanged awards and is saved after a good build.
    """
    options.setdefault("now", FIXED_NOW)
    options.setdefault("minter", SeededMinter())
    prepared = pipeline.prepare(project, pipeline.Options(**options))
    if prepared.model is None:
        return prepared
    if prepared.ledger_changed:
        write_file_atomic(project / ledger.LEDGER_PATH, prepared.ledger_after)
    if write_site(out or project / "_site", pipeline.artifacts(prepared, cache=cache), project,
                  should_commit=lambda: not prepared.report.has_errors()) and cache is not None:
        cache.save()
    return prepared


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _no_ambient_signing_keys(monkeypatch):
    """A signing key in the developer's or CI's environment must not leak into test builds."""
    monkeypatch.delenv("BADGEKILN_SIGNING_KEYS", raising=False)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_project("example", tmp_path)


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ and tests/sites/invalid/*/expected.txt from current output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
