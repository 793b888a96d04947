"""Badgekiln as a provider installs it: a wheel in a fresh virtual environment, used from an empty folder.

Also the architecture: import-linter's contracts (.importlinter) hold for the package.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def _run(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BADGEKILN_SIGNING_KEYS")}
    env["CI"] = "true"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_the_package_and_its_templates_and_nothing_named_generator(installed: Path):
    [wheel] = (installed / "dist").glob("badgekiln-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "badgekiln/__init__.py" in names and "badgekiln/pipeline/assemble.py" in names
    assert "badgekiln/templates/award.html" in names and "badgekiln/templates/i18n/en.yaml" in names
    assert "badgekiln/templates/assets/site.css" in names
    assert "badgekiln/data/contexts/credentials-v2.json" in names and "badgekiln/data/fonts/" in " ".join(names)
    assert not [n for n in names if n.startswith("generator/")]
    modules = {f"badgekiln/{p.relative_to(REPO / 'generator').as_posix()}" for p in (REPO / "generator").rglob("*.py")}
    assert sorted(modules - set(names)) == []  # every module ships (pyproject's package list is complete)


def test_a_provider_site_from_the_installed_wheel(installed: Path, tmp_path: Path):
    venv_bin = installed / "venv/bin"
    site = tmp_path / "my-badges"
    site.mkdir()
    badgekiln = str(venv_bin / "badgekiln")
    steps = [
        [badgekiln, "new", "site", "--title", "Acme Training", "--base-url", "https://badges.acme.example/"],
        [badgekiln, "new", "issuer", "acme", "--name", "Acme Training", "--email", "badges@acme.example"],
        [badgekiln, "new", "badge", "forklift-safety", "--name", "Forklift Safety"],
        [badgekiln, "new", "award", "--badge", "forklift-safety", "--name", "Ada Okafor",
         "--email", "ada@example.com", "--issued-on", "2026-11-02"],
        [badgekiln, "check"],
        [badgekiln, "build"],
    ]
    for step in steps:
        result = _run(installed, *step, cwd=site)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    pages = list((site / "_site/a").rglob("index.html"))
    assert len(pages) == 1 and "Ada Okafor" in pages[0].read_text()
    assert (site / "content/ledger.json").is_file()
    python = str(venv_bin / "python")
    version = _run(installed, python, "-m", "badgekiln", "--version", cwd=site)
    assert version.returncode == 0 and version.stdout.strip().startswith("badgekiln ")
    where = _run(installed, python, "-c", "import badgekiln, sys; print(badgekiln.__file__)", cwd=site)
    assert "site-packages" in where.stdout, where.stdout  # the wheel's copy, not this clone
    no_generator = _run(installed, python, "-c", "import generator", cwd=site)
    assert no_generator.returncode != 0 and "No module named 'generator'" in no_generator.stderr


def test_build_py_loads_this_clone_as_badgekiln_once(tmp_path: Path):
    """`python build.py` works without installing, and its classes are the package's, not a second copy."""
    code = ("import runpy, sys; sys.argv = ['build.py', '--version']; "
            f"runpy.run_path({str(REPO / 'build.py')!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("badgekiln "), result.stderr
    probe = (f"import importlib.util; spec = importlib.util.spec_from_file_location('b', {str(REPO / 'build.py')!r}); "
             "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m._load_badgekiln(); "
             "import badgekiln, badgekiln.api, badgekiln.pipeline.check as c; "
             "print(badgekiln.__file__); print(badgekiln.BuildOptions is c.BuildOptions)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert out == [str(REPO / "generator/__init__.py"), "True"]


def test_import_contracts_hold():
    """.importlinter: stages import only lower stages, commands use the API, no cycles."""
    from importlinter.cli import lint_imports

    previous = Path.cwd()
    os.chdir(REPO)
    try:
        assert lint_imports(config_filename=str(REPO / ".importlinter")) == 0
    finally:
        os.chdir(previous)
