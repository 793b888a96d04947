"""Byte-exact output of the minimal fixture site.

Any change to output bytes shows up here as a diff to review. After an intended change,
regenerate with `python -m pytest tests/test_golden.py --update-golden` and commit the diff.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from conftest import TESTS, build, copy_project, ledger_files, tree

GOLDEN = TESTS / "golden" / "minimal"


def test_minimal_site_matches_golden(tmp_path: Path, update_golden: bool):
    project = copy_project("minimal", tmp_path)
    prepared = build(project, tmp_path / "out")
    assert prepared.model is not None, prepared.diagnostics
    actual = tree(tmp_path / "out")
    actual.update(ledger_files(project))
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, data in actual.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    expected = tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "files added or removed"
    for path in sorted(expected):
        assert actual[path] == expected[path], f"{path} differs from tests/golden/minimal/{path}"
