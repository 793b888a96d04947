"""`revoke`, `suspend`, `reinstate` and `due` as a user runs them (real subprocesses).

The edit commands must leave the user's YAML as they wrote it (comments, order, quoting) apart
from the lines they add, refuse anything ambiguous or unsafe, and never leave content broken.
"""
from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timezone
from pathlib import Path

from conftest import award_dir, build, copy_project
from test_cli import run

AWARDS = """# Spring cohort.  Keep this comment!
badge: safety
issued_on: 2026-02-01
awards:
  - recipient: ada   # first
  - name: Bob Brown
    email: bob@example.com
    narrative: |
      Top of the class.

  # Cleo has two awards of the same badge, told apart by id
  - name: Cleo Diaz
    email: cleo@example.com
    id: morning
  - name: Cleo Diaz
    email: cleo@example.com
    id: evening
"""


def _project(tmp_path: Path) -> Path:
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(AWARDS)
    assert build(project).model is not None  # published: the ledger knows the awards
    return project


def _epoch(day: str) -> dict[str, str]:
    moment = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    return {"SOURCE_DATE_EPOCH": str(int(moment.timestamp()))}


def test_revoke_appends_lines_under_the_item_and_keeps_everything_else(tmp_path: Path):
    project = _project(tmp_path)
    path = project / "content/awards/2026.yaml"
    result = run(project, "revoke", "safety/bob@example.com", "--reason", 'Issued in error: "wrong" course',
                 env=_epoch("2026-11-28"))
    assert result.returncode == 0, result.stderr
    assert "revoked Bob Brown's Safety Basics" in result.stdout and "2026-11-28" in result.stdout
    assert path.read_text() == AWARDS.replace("""      Top of the class.
""", """      Top of the class.
    revoked:
      on: 2026-11-28
      reason: "Issued in error: \\"wrong\\" course"
""")
    again = run(project, "revoke", "safety/Bob Brown", "--reason", "twice")
    assert again.returncode == 1 and "error[E309]" in again.stderr and "permanent" in again.stderr
    assert run(project, "check").returncode == 0


def test_suspend_reinstate_and_suspend_again(tmp_path: Path):
    project = _project(tmp_path)
    path = project / "content/awards/2026.yaml"
    assert run(project, "suspend", "safety/ada", "--reason", "Under review", "--on", "2026-03-01").returncode == 0
    assert run(project, "suspend", "safety/ada", "--reason", "again").returncode == 1  # already suspended
    assert run(project, "reinstate", "safety/ada", "--on", "2026-03-10").returncode == 0
    text = path.read_text()
    assert "  - recipient: ada   # first\n    suspended:\n      on: 2026-03-01\n      reason: \"Under review\"\n" \
           "    reinstated:\n      on: 2026-03-10\n  - name: Bob Brown\n" in text
    assert run(project, "reinstate", "safety/ada").returncode == 1  # not suspended any more
    third = run(project, "suspend", "safety/ada", "--reason", "Second review", "--on", "2026-04-01")
    assert third.returncode == 0, third.stderr
    text = path.read_text()
    assert text.count("suspended:") == 1 and "reinstated" not in text and "Second review" in text
    assert "# Cleo has two awards" in text and "# first" in text


def test_ambiguous_unknown_and_invalid_references_change_nothing(tmp_path: Path):
    project = _project(tmp_path)
    path = project / "content/awards/2026.yaml"
    ambiguous = run(project, "revoke", "safety/cleo@example.com", "--reason", "x")
    assert ambiguous.returncode == 1 and "error[E310]" in ambiguous.stderr and "matches 2 awards" in ambiguous.stderr
    unknown = run(project, "revoke", "safty/ada", "--reason", "x")
    assert unknown.returncode == 1 and "error[E301]" in unknown.stderr and "did you mean 'safety'" in unknown.stderr
    nobody = run(project, "revoke", "safety/zed", "--reason", "x")
    assert nobody.returncode == 1 and "no award of badge 'safety' for 'zed'" in nobody.stderr
    no_reason = run(project, "revoke", "safety/ada", "--reason", "  ")
    assert no_reason.returncode == 1 and "needs a --reason" in no_reason.stderr
    too_early = run(project, "revoke", "safety/ada", "--reason", "x", "--on", "2026-01-01")
    assert too_early.returncode == 1 and "error[E307]" in too_early.stderr and "left as it was" in too_early.stderr
    assert path.read_text() == AWARDS


def test_the_page_slug_or_url_picks_one_of_two_awards(tmp_path: Path):
    project = _project(tmp_path)
    prepared = build(project)
    evening = next(a for a in prepared.model.awards if a.key.endswith("/evening"))
    result = run(project, "suspend", f"https://badges.minimal.example/{award_dir(evening.slug)}/", "--reason", "Check",
                 "--on", "2026-05-05")
    assert result.returncode == 0, result.stderr
    text = (project / "content/awards/2026.yaml").read_text()
    assert text.endswith("    id: evening\n    suspended:\n      on: 2026-05-05\n      reason: \"Check\"\n")


def test_unpublished_csv_and_flow_style_awards_are_refused_with_a_way_forward(tmp_path: Path):
    project = _project(tmp_path)
    (project / "content/awards/new.yaml").write_text("badge: safety\nissued_on: 2026-03-01\nawards:\n"
                                                      "  - {name: Dee Flow, email: dee@example.com}\n")
    unpublished = run(project, "revoke", "safety/dee@example.com", "--reason", "x")
    assert unpublished.returncode == 1 and "has not been published yet" in unpublished.stderr
    build(project)
    flow = run(project, "revoke", "safety/dee@example.com", "--reason", "x")
    assert flow.returncode == 1 and "flow style" in flow.stderr
    (project / "content/awards/roster.csv").write_text("Badge,Name,Email,Issued on\nsafety,Eve Row,eve@example.com,"
                                                       "2026-03-02\n")
    build(project)
    roster = run(project, "revoke", "safety/eve@example.com", "--reason", "x")
    assert roster.returncode == 1 and "python build.py import content/awards/roster.csv --badge safety" in roster.stderr


def test_crlf_and_bom_survive_an_edit(tmp_path: Path):
    project = _project(tmp_path)
    path = project / "content/awards/2026.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + AWARDS.replace("\n", "\r\n").encode())
    assert run(project, "revoke", "safety/ada", "--reason", "x", "--on", "2026-06-01").returncode == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    assert b"  - recipient: ada   # first\r\n    revoked:\r\n      on: 2026-06-01\r\n" in data


# --- due ---------------------------------------------------------------------------------------

def test_due_lists_expiring_and_cpd_short_awards(tmp_path: Path):
    project = copy_project("example", tmp_path)
    assert build(project).model is not None
    result = run(project, "due", env=_epoch("2026-11-28"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "6 award(s) due within 60d:"
    assert "2026-12-08  ( 10 days)  Fire Warden: Gareth Pritchard <gareth.pritchard@example.com>  expires" in lines[1]
    leila = next(line for line in lines if "Leila Nasser" in line)
    assert "Workplace Safety Practitioner" in leila and "needs 5 more CPD points (15/20) or lapses" in leila
    assert not any("Wen Zhang" in line or "Bilal" in line for line in lines)  # suspended / revoked
    table = run(project, "due", "--within", "30d", "--csv", env=_epoch("2026-11-28"))
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(r["name"], r["state"], r["cpd_needed"]) for r in rows] == [
        ("Gareth Pritchard", "expires", ""), ("Hana Sato", "expires", ""),
        ("Leila Nasser", "needs CPD", "5")]
    assert rows[2]["page_url"].startswith("https://badges.northwind-academy.example/a/")
    nothing = run(project, "due", "--within", "1d", env=_epoch("2026-11-28"))
    assert nothing.stdout.strip() == "Nothing due within 1d."
    bad = run(project, "due", "--within", "soon")
    assert bad.returncode == 1 and "error[E209]" in bad.stderr


def test_due_counts_calendar_days_whatever_the_time_of_day(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(
        "badge: safety\nissued_on: 2026-02-01\nawards:\n  - recipient: ada\n    expires: 2027-03-01\n")
    assert build(project).model is not None
    afternoon = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)
    result = run(project, "due", "--within", "100d", env={"SOURCE_DATE_EPOCH": str(int(afternoon.timestamp()))})
    assert result.returncode == 0, result.stderr
    assert "2027-03-01  ( 90 days)" in result.stdout, result.stdout


def test_due_into_a_closed_pipe_stops_quietly(tmp_path: Path):
    """`due | head -1`: the reader goes away before the list is written; no traceback."""
    project = copy_project("example", tmp_path)
    assert build(project).model is not None
    import subprocess
    import sys

    from test_cli import BUILD

    command = f"'{sys.executable}' '{BUILD[1]}' --project '{project}' due --within 3650d | true"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **_epoch("2026-11-28")})
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
