"""Shared fixtures: copy a fixture project, build it with a seeded minter, read the output."""
from __future__ import annotations

import importlib.util
import json
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


def ledger_files(project: Path) -> dict[str, bytes]:
    """Every file of a project's ledger (the head and the award files), by project-relative path."""
    files = [project / ledger.LEDGER_PATH, *sorted((project / ledger.AWARDS_DIR).glob("*.json"))]
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in files if p.is_file()}


def ledger_awards(project: Path) -> dict[str, dict]:
    """Every award record of a project's ledger, as written (with its integrity check)."""
    records = {}
    for path, data in ledger_files(project).items():
        if path != ledger.LEDGER_PATH:
            records.update(json.loads(data)["awards"])
    return records


def one_file_ledger(project: Path) -> dict:
    """The project's ledger as the one document of format 1 (an older Badgekiln's); its award files
    are removed, and the caller writes the document to content/ledger.json."""
    head = json.loads((project / ledger.LEDGER_PATH).read_text())
    awards = ledger_awards(project)
    shutil.rmtree(project / ledger.AWARDS_DIR)
    return {**{k: v for k, v in head.items() if k != "buckets"}, "format": 1, "awards": dict(sorted(awards.items()))}


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


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """The example site built once (per test module) with the TEST-ONLY key: (project, checked result)."""
    import testkeys
    from badgekiln.diagnostics import format_text

    project = copy_project("example", tmp_path_factory.mktemp("signed"))
    prepared = build(project, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.report.has_errors(), format_text(prepared.diagnostics)
    return project, prepared


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ and tests/sites/invalid/*/expected.txt from current output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def award_dir(slug: str) -> str:
    """The folder of an award's files in a built site (model/routes.Routes.award_folder)."""
    return f"a/{slug[:2]}/{slug}"


def baked_downloads(site: Path, award) -> dict[str, bytes]:
    """What an award page's download buttons give (assets/bake.js), made by the Python baker from
    the published files: "png" (OB 2.0 + OB 3.0), and for SVG art "svg" and "credential-svg"."""
    from badgekiln import bake, canonical

    folder = site / award_dir(award.slug)
    assertion = canonical.dumps(json.loads((folder / "assertion.json").read_text("utf-8")))
    credential_file = folder / "credential.json"
    credential = canonical.dumps(json.loads(credential_file.read_text("utf-8"))) if credential_file.is_file() else None
    svg_art = site / f"badges/{award.badge}.svg"
    png_art = site / (f"badges/{award.badge}/bake.png" if svg_art.is_file() else f"badges/{award.badge}.png")
    png = bake.bake(png_art.read_bytes(), assertion, version="ob2")
    out = {"png": bake.bake(png, credential, version="ob3") if credential else png}
    if svg_art.is_file():
        assertion_id = json.loads(assertion)["id"]
        out["svg"] = bake.bake(svg_art.read_bytes(), assertion, version="ob2", verify=assertion_id)
        if credential:
            out["credential-svg"] = bake.bake(svg_art.read_bytes(), credential, version="ob3")
    return out


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment (no system packages) with only the built wheel installed: as a provider has it."""
    import subprocess
    import venv

    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(root / "dist"), str(REPO)], check=True, cwd=root)
    [wheel] = (root / "dist").glob("badgekiln-*.whl")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv/bin/python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, cwd=root)
    return root
