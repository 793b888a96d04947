"""Shared fixtures: copy a fixture project, build it with a seeded minter, read the output."""
from __future__ import annotations

import importlib.util
import os
import random
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))


def _load_badgekiln_from_this_clone() -> None:
    """Import this clone's generator/ as `badgekiln`, as build.py does (never another install)."""
    spec = importlib.util.spec_from_file_location("_badgekiln_build_py", REPO / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._load_badgekiln()


_load_badgekiln_from_this_clone()

import badgekiln  # noqa: E402
from badgekiln.model import ledger  # noqa: E402

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


def build(project: Path, out: Path | None = None, **options) -> badgekiln.CheckResult:
    """Build with `badgekiln.build`, as the CLI does, with a fixed clock and seeded minting unless given.

    Full builds unless `incremental=True` (then unchanged awards are reused, as by the CLI).
    """
    return build_result(project, out, **options).checked


def build_result(project: Path, out: Path | None = None, **options) -> badgekiln.BuildResult:
    options.setdefault("now", FIXED_NOW)
    options.setdefault("minter", SeededMinter())
    options.setdefault("incremental", False)
    return badgekiln.build(project, badgekiln.BuildOptions(out=out, **options))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


RUNNING_IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")  # read before any test


@pytest.fixture(autouse=True)
def _no_ambient_signing_keys(monkeypatch):
    """A signing key in the developer's or CI's environment must not leak into test builds.

    Nor CI=true: a build in CI must sign whatever needs signing (E507), so every test builds as on
    a person's machine unless it sets CI itself (tests of CI behaviour do).
    """
    monkeypatch.delenv("BADGEKILN_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_project("example", tmp_path)


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ and tests/sites/invalid/*/expected.txt from current output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
