"""Awards files are read once per content (model/resolve.RosterMemo): a build reads again only the
files that changed, and what it reports and publishes is what a build reading every file would."""
from __future__ import annotations

import pickle
import sqlite3
from dataclasses import fields, replace
from datetime import datetime, timezone
from pathlib import Path

import badgekiln
import pytest
from badgekiln.model import resolve
from conftest import FIXED_NOW, build, build_result, copy_project, tree

FOOD = "content/awards/2026-food-hygiene.yaml"


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The awards files each build reads (parses and checks), in order."""
    seen: list[str] = []
    original = resolve.validate_awards

    def counted(path, *args, **kwargs):
        seen.append(path)
        return original(path, *args, **kwargs)
    monkeypatch.setattr(resolve, "validate_awards", counted)
    return seen


def findings(project: Path, **options) -> list[tuple[str, str, str]]:
    checked = badgekiln.check(project, badgekiln.BuildOptions(**{"now": FIXED_NOW, **options}), render=False)
    return [(d.code, str(d.location), d.message) for d in checked.diagnostics]


def test_an_unchanged_awards_file_is_not_read_again(tmp_path: Path, reads: list[str]):
    project = copy_project("example", tmp_path)
    build_result(project, incremental=True)
    everything = sorted(set(reads))
    assert len(everything) == 7 and FOOD in everything
    reads.clear()
    roster = project / FOOD
    roster.write_text(roster.read_text() + "  - name: New Starter\n    email: new.starter@example.com\n")
    assert build_result(project, incremental=True).ok
    assert reads == [FOOD]
    full = tmp_path / "full"
    build(project, full)
    assert tree(project / "_site") == tree(full)

    reads.clear()  # what a file is read against changed (a recipient's name): every file is read again
    people = project / "content/recipients/learners.yaml"
    people.write_text(people.read_text().replace("name: ", "name: Dr ", 1))
    assert build_result(project, incremental=True).ok
    assert sorted(reads) == everything
    build(project, full)
    assert tree(project / "_site") == tree(full)


def test_an_award_repeated_in_a_new_earlier_file_is_reported_where_it_would_be(tmp_path: Path, reads: list[str]):
    project = copy_project("example", tmp_path)
    build_result(project, incremental=True)
    (project / "content/awards/0000-copy.yaml").write_text(
        "badge: food-hygiene\nissued_on: 2026-05-22\nawards:\n  - name: Ugo Obi\n    email: ugo.obi@example.com\n")
    reads.clear()
    remembered = findings(project)
    assert FOOD not in reads  # its awards came from the memo, and met the copy there
    assert ("E302", f"{FOOD}:4:5", "Ugo Obi has badge 'food-hygiene' twice (first at "
            "content/awards/0000-copy.yaml:4:5)") in remembered
    assert remembered == findings(project, incremental=False)


def test_a_build_dated_before_a_file_was_read_reads_it_again(tmp_path: Path):
    """A date that was past when the file was read may be in the future for a build dated earlier."""
    project = copy_project("example", tmp_path)
    build_result(project, incremental=True)
    earlier = datetime(2026, 11, 1, tzinfo=timezone.utc)  # before 2026-11-12, an award's issue date
    remembered = findings(project, now=earlier)
    assert any(code == "E204" for code, _, _ in remembered)
    assert remembered == findings(project, now=earlier, incremental=False)


def test_a_file_with_a_warning_is_read_again_and_warns_every_time(tmp_path: Path, reads: list[str]):
    project = copy_project("example", tmp_path)
    roster = project / "content/awards/safety-practitioner.yaml"
    roster.write_text(roster.read_text().replace("      - date: 2024-11-14\n", "      - date: 2024-08-01\n", 1))
    first = findings(project)
    assert [code for code, _, _ in first] == ["W204"]  # CPD logged before the award was issued
    reads.clear()
    assert findings(project) == first
    assert "content/awards/safety-practitioner.yaml" in reads  # not remembered: read again
    assert first == findings(project, incremental=False)


def test_a_damaged_memo_is_a_miss(tmp_path: Path, reads: list[str]):
    project = copy_project("example", tmp_path)
    build_result(project, incremental=True)
    with sqlite3.connect(project / ".badgekiln-cache/memo.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM rosters").fetchone()[0] == 7
        db.execute("UPDATE rosters SET awards = x'00ff'")
    reads.clear()
    (project / "content/site.yaml").touch()  # not up to date: the build checks
    assert build_result(project, incremental=True).ok
    assert len(reads) == 7
    full = tmp_path / "full"
    build(project, full)
    assert tree(project / "_site") == tree(full)


def test_what_the_memo_recalls_is_every_field_the_model_took(tmp_path: Path):
    """Awards come back from the memo through hand-written `__reduce__`s (faster than dataclasses'):
    each must carry every field, including one added later."""
    project = copy_project("example", tmp_path)
    build_result(project, incremental=True)
    read_now = badgekiln.check(project, badgekiln.BuildOptions(now=FIXED_NOW, incremental=False), render=False)
    recalled = badgekiln.check(project, badgekiln.BuildOptions(now=FIXED_NOW), render=False)
    assert recalled.model.awards == read_now.model.awards
    with sqlite3.connect(project / ".badgekiln-cache/memo.sqlite") as db:
        blobs = [row[0] for row in db.execute("SELECT awards FROM rosters")]
    stated = [item[0] for blob in blobs for item in pickle.loads(blob)]
    assert stated and all(pickle.loads(pickle.dumps(s)) == s for s in stated)
    for value in (stated[0], stated[0].location):
        full = replace(value, **{f.name: f"x-{f.name}" for f in fields(value)})  # every field set, and distinct
        assert pickle.loads(pickle.dumps(full)) == full


@pytest.fixture
def read_aside(monkeypatch) -> list[str]:
    """Every awards file the memo lacks is read in a forked process (as big ones are, on 2 cores);
    the list gets the files that process gave back, read without a diagnostic."""
    from badgekiln.pipeline import build_memo, check

    offered: list[str] = []
    offer = build_memo.BuildMemo.offer
    monkeypatch.setattr(check, "READ_ASIDE_FROM", 0)
    monkeypatch.setenv("BADGEKILN_JOBS", "2")
    monkeypatch.setattr(build_memo.BuildMemo, "offer", lambda memo, read: offered.extend(sorted(read)) or
                        offer(memo, read))
    return offered


def test_awards_files_read_in_another_process_build_what_reading_them_here_builds(
        tmp_path: Path, reads: list[str], read_aside: list[str]):
    project = copy_project("example", tmp_path)
    assert build_result(project, incremental=True).ok
    assert len(read_aside) == 7 and reads == []  # `reads` sees this process only: none was read here
    full = tmp_path / "full"
    build(project, full)
    assert tree(project / "_site") == tree(full)
    read_aside.clear()
    reads.clear()  # (the full build read every file here)
    roster = project / FOOD  # one file changed (not only at its end): only it is read again, aside
    roster.write_text(roster.read_text().replace("awards:\n", "awards:\n  - name: New Starter\n"
                                                 "    email: new.starter@example.com\n", 1))
    assert build_result(project, incremental=True).ok
    assert read_aside == [FOOD] and reads == []
    build(project, full)
    assert tree(project / "_site") == tree(full)


@pytest.mark.parametrize("change", ["an error", "an award twice", "a warning"])
def test_a_file_read_aside_with_a_diagnostic_is_read_here_and_reported_where_it_would_be(
        tmp_path: Path, reads: list[str], read_aside: list[str], change: str):
    project = copy_project("example", tmp_path)
    roster = project / FOOD
    if change == "an error":
        roster.write_text(roster.read_text() + "  - name: New Starter\n    email: new.starter@example.com\n"
                          "    issued_on: 31/12/2026\n")
    elif change == "an award twice":
        (project / "content/awards/0000-copy.yaml").write_text(
            "badge: food-hygiene\nissued_on: 2026-05-22\nawards:\n  - name: Ugo Obi\n    email: ugo.obi@example.com\n")
    else:
        roster = project / "content/awards/safety-practitioner.yaml"
        roster.write_text(roster.read_text().replace("      - date: 2024-11-14\n", "      - date: 2024-08-01\n", 1))
    found = findings(project)
    path = roster.relative_to(project).as_posix()
    assert found and all(str(location).startswith(path) for _, location, _ in found)
    assert path not in read_aside and reads == [path]  # left out there, read and reported here
    assert found == findings(project, incremental=False)


def test_a_reading_process_that_dies_leaves_the_build_to_read_the_files_itself(
        tmp_path: Path, monkeypatch, reads: list[str], read_aside: list[str]):
    import os
    monkeypatch.setattr(resolve, "read_awards_files", lambda *args: os._exit(3))  # killed before it answers
    project = copy_project("example", tmp_path)
    assert build_result(project, incremental=True).ok
    assert read_aside == [] and len(reads) == 7
    full = tmp_path / "full"
    build(project, full)
    assert tree(project / "_site") == tree(full)


def test_with_one_job_every_awards_file_is_read_in_the_build_itself(
        tmp_path: Path, monkeypatch, reads: list[str], read_aside: list[str]):
    monkeypatch.setenv("BADGEKILN_JOBS", "1")  # a CI runner that shares its cores: no process of its own
    project = copy_project("example", tmp_path)
    assert build_result(project, incremental=True).ok
    assert read_aside == [] and len(reads) == 7
