"""One broken project per diagnostic code, each asserting the exact text a user would see.

Each case in tests/sites/invalid/<CODE-name>/ holds only the files that differ from
tests/sites/minimal/ (plus options.txt for CLI flags). Regenerate expected.txt after an
intended wording change with `python -m pytest tests/test_invalid_sites.py --update-golden`
and review the diff.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import testkeys
from badgekiln.diagnostics import CODES, format_text
from conftest import TESTS, SeededMinter, build, copy_project

CASES = sorted(p for p in (TESTS / "sites" / "invalid").iterdir() if p.is_dir())


def _project(case: Path, tmp_path: Path) -> Path:
    project = copy_project("minimal", tmp_path)
    for path in sorted(case.rglob("*")):
        if path.is_file() and path.name not in ("expected.txt", "options.txt"):
            target = project / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    if case.name.startswith("E208"):
        (project / "content/badges/safety.yaml").unlink()
    return project


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_site_reports_exact_diagnostics(case: Path, tmp_path: Path, update_golden: bool):
    options = (case / "options.txt").read_text().split() if (case / "options.txt").exists() else []
    project = _project(case, tmp_path)
    out = tmp_path / "out"
    prepared = build(project, out, frozen="--frozen" in options, strict="--strict" in options,
                     minter=SeededMinter(), keyring=testkeys.keyring() if "--test-key" in options else None)
    text = format_text(prepared.diagnostics).replace(str(project), "<project>") + "\n"
    expected_file = case / "expected.txt"
    if update_golden:
        expected_file.write_text(text)
    assert text == expected_file.read_text()
    code = case.name.split("-")[0]
    assert f"[{code}]" in text, f"case {case.name} no longer produces {code}"
    if code.startswith("E") or "--strict" in options:
        assert not out.exists(), "a failing build must not write a site"


def test_every_content_code_has_a_case():
    covered = {c.name.split("-")[0] for c in CASES}
    # E104 (oversized file) is generated at test time in test_hostile.py rather than committed;
    # E406 (bake failure) cannot come from content that passed image inspection: tests/test_bake.py.
    # E309/E310 come from the revoke/suspend/reinstate command line: tests/test_lifecycle_cli.py;
    # E311 from correct-email: tests/test_correct_email.py.
    # E505/E506 need a key revoked by `keys revoke` on a signed site: tests/test_key_revocation.py.
    # E503: control characters are refused where content is read (E210); what remains is a term
    # the JSON-LD context lacks, which only a patched credential has: tests/test_signing.py.
    # E801 (a host limit) needs thousands of awards: tests/test_hosts.py builds them.
    # W801 is about the environment ($BADGEKILN_JOBS), not content: tests/test_signing.py.
    missing = set(CODES) - covered - {"E104", "E406", "E309", "E310", "E311", "E503", "E505", "E506", "E801",
                                      "W801"}
    assert not missing, f"no invalid fixture for {sorted(missing)}"


def test_a_bad_file_level_value_does_not_hide_the_awards_errors(tmp_path: Path):
    """issue 10, finding 7: `issued_on: 03/04/2026` above `awards:` used to be the only error reported."""
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(
        "badge: safety\nissued_on: 03/04/2026\ncolour: blue\nawards:\n"
        "  - recipient: ada\n    expires: soon\n"
        "  - name: Bo Li\n    email: bo@example\n"
        "  - name: Cy Ng\n    email: cy@example.com\n    evidnce: https://acme.example/e\n")
    prepared = build(project)
    assert [d.format().split("\n")[0] for d in prepared.diagnostics] == [
        "content/awards/2026.yaml:2:12: error[E204]: issued_on: '03/04/2026' is ambiguous (day/month order); "
        "write 2026-03-04 or 2026-04-03",
        "content/awards/2026.yaml:3:1: error[E201]: colour: unknown key 'colour' in awards file",
        "content/awards/2026.yaml:6:14: error[E204]: awards[0].expires: 'soon' is not a date; write YYYY-MM-DD, "
        "e.g. 2026-03-14",
        "content/awards/2026.yaml:8:12: error[E205]: awards[1].email: 'bo@example' is not a valid email address",
        "content/awards/2026.yaml:11:5: error[E201]: awards[2].evidnce: unknown key 'evidnce' in award"]
