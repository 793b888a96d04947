"""Awards appended to the end of a remembered awards file are read alone (load/appended.py), and
what the build takes and reports is exactly what reading the whole file gives: the same awards,
at the same lines and list indexes, the same diagnostics at the same places."""
from __future__ import annotations

from pathlib import Path

import pytest
from badgekiln.diagnostics import Report
from badgekiln.load import appended
from badgekiln.model import resolve
from badgekiln.validate import entities
from conftest import build, build_result, copy_project, tree
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from test_roster_memo import FOOD, findings

PATH = "content/awards/cohort.yaml"


def _read(data: bytes, first: int = 0) -> tuple[list, list[str]]:
    report = Report()
    awards = list(entities.validate_awards(PATH, data, {}, set(), report, first=first))
    return awards, [d.format() for d in report.items]


def _by_parts(head: str, items: list[str], split: int, tail_lead: str = "") -> tuple[bytes, bytes]:
    """(the file as first read, the file after awards were appended), from its head and item texts."""
    before = head + "".join(items[:split])
    return before.encode("utf-8"), (before + tail_lead + "".join(items[split:])).encode("utf-8")


def _tail_reads_as_whole(before: bytes, after: bytes) -> bool:
    """Whether the tail of `after` was read alone; asserts it reads exactly as the whole file does."""
    earlier, found = _read(before)
    shape = appended.shape(before, len(earlier))
    # a file with a diagnostic is never remembered, some cannot be appended to (a build compares digests)
    if found or shape is None or not after.startswith(before):
        return False
    text = appended.tail_document(after, shape)
    if text is None:
        return False
    tail, tail_found = _read(text, first=len(earlier))
    if tail_found:  # then the build reads the whole file (a syntax error there drops every award)
        return False
    assert earlier + tail == _read(after)[0]
    return True


# the kinds of line a provider writes in an award (at {i}: the item's keys' indent)
_FIELDS = [
    "email: {n}@example.com",
    "email: {n}@example.com",
    "email: {n}@example.com",
    "email: {n}@example.com\n{i}narrative: |\n{i}  Line one.\n\n{i}  Line two.",
    "email: {n}@example.com\n{i}narrative: |+\n{i}  Kept blank lines.\n",
    "email: {n}@example.com\n{i}narrative: >-\n{i}  Folded\n{i}  text.",
    "email: {n}@example.com\n{i}narrative: Plain text\n{i}  that runs on.",
    'email: {n}@example.com\n{i}narrative: "Quoted text\n{i}  that runs on."',
    "email: {n}@example.com\n{i}evidence:\n{i}  - url: https://evidence.example/{n}\n{i}    name: Work {n}",
    "email: {n}@example.com\n{i}issued_on: 31/12/2026",
    "email: {n}@example.com\n{i}show_name: yes",
    "email: {n}@example.com  # the work address",
    "email: '{n}@example.com'\n{i}id: second",
]
_NAMES = ["Ada {n}", "Ada {n}", "Ada {n}", "'Ada: {n}'", '"Ada \\u00e9 {n}"', "Ada\n{i}{n}", '"Ada\n{p}- name: {n}"']
_BETWEEN = ["", "\n", "# a comment\n", "{p}  # an indented comment\n", "\n\n"]
# what may come before appended awards: most leave them readable alone, some change the file
_LEADS = _BETWEEN + ["issued_on: 2026-01-01\n", "{p}  narrative: more of the last award\n", "---\n", "\t\n",
                     "{p}   # deeper\n"]


@st.composite
def _awards_files(draw) -> tuple[bytes, bytes]:
    indent = draw(st.sampled_from([0, 2, 4]))
    p, i = " " * indent, " " * (indent + 2)
    items = []
    for n in range(draw(st.integers(2, 6))):
        name = draw(st.sampled_from(_NAMES)).format(n=n, i=i, p=p)
        fields = draw(st.sampled_from(_FIELDS)).format(n=f"learner{n % 5}", i=i)
        items.append(f"{p}- name: {name}\n{i}{fields}\n" + draw(st.sampled_from(_BETWEEN)).format(p=p))
    head = draw(st.sampled_from(["badge: first-aid\nissued_on: 2026-05-22\nawards:\n",
                                 "# cohort\nbadge: first-aid\nissued_on: 2026-05-22\nawards:  # below\n",
                                 "badge: first-aid\nissued_on: 2026-05-22\n\nawards:\n"]))
    split = draw(st.integers(1, len(items) - 1))  # (a file without awards is an error: never remembered)
    lead = draw(st.sampled_from(_LEADS)).format(p=p)
    return _by_parts(head, items, split, lead)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_awards_files())
@example(_by_parts("badge: b\nissued_on: 2026-05-22\nawards:\n",
                   ["  - name: A\n    email: a@example.com\n", "  - name: B\n    email: b@example.com\n"], 1))
def test_appended_awards_read_alone_read_as_the_whole_file(files: tuple[bytes, bytes]):
    event("read alone" if _tail_reads_as_whole(*files) else "read whole")


HEAD = "badge: first-aid\nissued_on: 2026-05-22\nawards:\n"
ADA = "  - name: Ada\n    email: ada@example.com\n"
BEN = "  - name: Ben\n    email: ben@example.com\n"


@pytest.mark.parametrize("before, after, alone", [
    (HEAD + ADA, HEAD + ADA + BEN, True),
    (HEAD + ADA, HEAD + ADA + "\n# new cohort\n" + BEN, True),
    (HEAD + ADA, HEAD + ADA + BEN.replace("Ben", "Ben Smith"), True),
    (HEAD + ADA, HEAD + ADA + BEN + "issued_on: 2026-01-01\n", False),  # a default for every award, the earlier too
    (HEAD + ADA, HEAD + ADA + "    narrative: x\n" + BEN, False),  # the last award goes on
    (HEAD + ADA, HEAD + BEN + ADA, False),  # not at the end
    (HEAD + ADA.replace("\n", "\r\n"), HEAD + ADA.replace("\n", "\r\n") + BEN, False),  # CR ends lines too
    (HEAD + "  - name: Ada\n    email: ada@example.com\n    narrative: |+\n      kept\n",
     HEAD + "  - name: Ada\n    email: ada@example.com\n    narrative: |+\n      kept\n\n" + BEN, False),
    ("badge: first-aid\nawards:\n" + ADA + "issued_on: 2026-05-22\n",
     "badge: first-aid\nawards:\n" + ADA + "issued_on: 2026-05-22\n" + BEN, False),  # `awards:` is not last
])
def test_which_appended_awards_are_read_alone(before: str, after: str, alone: bool):
    assert _tail_reads_as_whole(before.encode(), after.encode()) is alone


@pytest.fixture
def tails(monkeypatch) -> list[tuple[str, int]]:
    """(path, index of the first award read) of each awards file a build reads, whole (0) or in part."""
    seen: list[tuple[str, int]] = []
    original = resolve.validate_awards

    def counted(path, *args, first: int = 0, **kwargs):
        seen.append((path, first))
        return original(path, *args, first=first, **kwargs)
    monkeypatch.setattr(resolve, "validate_awards", counted)
    return seen


def _append(project: Path, text: str) -> None:
    roster = project / FOOD
    roster.write_text(roster.read_text() + text)


def test_a_build_reads_only_the_awards_appended_to_a_file_and_publishes_what_a_full_build_does(
        tmp_path: Path, tails: list[tuple[str, int]], monkeypatch):
    monkeypatch.setenv("BADGEKILN_JOBS", "1")  # (a second core would read the files the memo lacks aside)
    project = copy_project("example", tmp_path)
    assert build_result(project, incremental=True).ok
    earlier = (project / FOOD).read_text().count("\n  - ")
    full = tmp_path / "full"
    for n in range(2):  # twice: the file as it grew is remembered, with its new length
        tails.clear()
        _append(project, f"  - name: New Starter {n}\n    email: new.starter{n}@example.com\n")
        assert build_result(project, incremental=True).ok
        assert tails == [(FOOD, earlier + n)]
        build(project, full)
        assert tree(project / "_site") == tree(full)


@pytest.mark.parametrize("tail, code, alone", [
    ("  - name: Ugo Obi\n    email: ugo.obi@example.com\n", "E302", True),  # the file's first award again
    ("  - name: Late\n    email: late@example.com\n    issued_on: 2099-01-01\n", "E204", True),  # in the future
    # a problem in the new part itself: the whole file is read (a syntax error would drop all its awards)
    ("  - name: Late\n    email: late@example.com\n    issued_on: 31/12/2026\n", "E204", False),
    ("  - name: Late\n    email: late@example.com\n    oops\n", "E102", False),
])
def test_appended_awards_with_a_problem_are_reported_where_a_full_read_reports_it(
        tmp_path: Path, tails: list[tuple[str, int]], tail: str, code: str, alone: bool):
    project = copy_project("example", tmp_path)
    assert build_result(project, incremental=True).ok
    earlier = (project / FOOD).read_text().count("\n  - ")
    _append(project, tail)
    tails.clear()
    found = findings(project)
    assert [c for c, _, _ in found] == [code] and str(found[0][1]).startswith(FOOD)
    assert tails == ([(FOOD, earlier)] if alone else [(FOOD, earlier), (FOOD, 0)])
    assert found == findings(project, incremental=False)
