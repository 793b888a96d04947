"""CPD renewal across several periods: enough points, too few, late logging, frozen history.

The planner (generator/cpd.py) is pure; the build tests check that each renewal becomes its
own published award (own ledger entry, page and status index) linked to the previous one,
and that nothing already issued changes when the rule or the log changes later.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from badgekiln.model import cpd
from badgekiln.model.domain import CpdActivity, RenewalRule
from badgekiln.model.lifecycle import renewal_key, root_of
from badgekiln.validate.values import Duration
from conftest import FIXED_NOW, SeededMinter, award_dir, build, copy_project, ledger_awards

RULE = RenewalRule(Duration(months=12), 20, "points")


def d(text: str) -> datetime:
    y, m, day = map(int, text.split("-"))
    return datetime(y, m, day, tzinfo=timezone.utc)


def act(date: str, points: float, title: str = "activity") -> CpdActivity:
    return CpdActivity(d(date), title, points, "points", None)


def test_enough_points_every_period_renews_each_time_and_links_periods():
    log = (act("2024-03-01", 12), act("2024-08-15", 9),   # period 0: 21, met on 2024-08-15
           act("2025-02-10", 20),                        # period 1: 20, met on 2025-02-10
           act("2026-02-01", 5))                         # period 2: 5 so far
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, log)
    assert [(r.number, r.issued_on, r.expires) for r in plan.renewals] == [
        (1, d("2024-08-15"), d("2026-01-10")),  # issued when the points were reached, valid one more year
        (2, d("2025-02-10"), d("2027-01-10")),
    ]
    starts = [(p.number, p.start, p.end, p.logged, p.renewed) for p in plan.periods]
    assert starts == [(0, d("2024-01-10"), d("2025-01-10"), 21, True),
                      (1, d("2025-01-10"), d("2026-01-10"), 20, True),
                      (2, d("2026-01-10"), d("2027-01-10"), 5, False)]
    assert plan.periods[-1].needed == 15
    assert plan.lapses_on == d("2027-01-10")


def test_too_few_points_lapses_at_the_end_of_the_last_covered_period():
    log = (act("2024-03-01", 25), act("2025-03-01", 19.5))  # period 1 falls half a point short
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, log)
    assert [r.number for r in plan.renewals] == [1]
    assert plan.periods[1].logged == 19.5 and plan.periods[1].needed == 0.5
    assert plan.lapses_on == d("2026-01-10")  # the renewal's own validUntil; it stays valid until then


def test_activity_after_a_short_period_does_not_revive_the_chain():
    log = (act("2024-06-01", 5), act("2025-02-01", 30))  # the 30 points come after period 0 ended short
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, log)
    assert plan.renewals == () and plan.lapses_on == d("2025-01-10")
    assert plan.periods[0].activities == (log[0],)


def test_late_logging_counts_for_the_period_the_activity_happened_in():
    early = (act("2024-03-01", 10),)
    assert cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, early).renewals == ()
    # logged only in March 2025, after the period ended, but done in December 2024
    late = early + (act("2024-12-20", 10),)
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, late)
    assert [(r.number, r.issued_on, r.expires) for r in plan.renewals] == [(1, d("2024-12-20"), d("2026-01-10"))]


def test_fractional_points_add_up_exactly():
    log = tuple(act(f"2024-0{m}-01", 0.1 * 10 / 5 * 10) for m in range(1, 10))  # 2.0 x 9 = 18
    log += (act("2024-10-01", 0.1), act("2024-10-02", 1.9))
    plan = cpd.plan(d("2024-01-01"), d("2025-01-01"), RULE, log)
    assert plan.periods[0].logged == 20 and plan.renewals[0].issued_on == d("2024-10-02")


def test_issued_renewals_are_kept_even_if_the_rule_or_log_changes():
    frozen = {1: cpd.Issue(1, d("2024-08-15"), d("2026-01-10"))}
    stricter = RenewalRule(Duration(years=2), 100, "points")
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), stricter, (), issued=frozen)
    assert plan.renewals == (frozen[1],)  # not earned under the new rule, but it was issued
    assert plan.periods[0].renewed and plan.periods[1].start == d("2025-01-10")
    assert plan.periods[1].end == d("2026-01-10")  # the frozen expiry anchors the next period


def test_revocation_stops_new_renewals():
    log = (act("2024-03-01", 20), act("2025-03-01", 20))
    plan = cpd.plan(d("2024-01-10"), d("2025-01-10"), RULE, log, stop_after=d("2024-12-01"))
    assert [r.number for r in plan.renewals] == [1]


def test_every_text():
    assert cpd.every_text(Duration(years=1)) == "year"
    assert cpd.every_text(Duration(months=12)) == "12 months"
    assert cpd.every_text(Duration(years=2)) == "2 years"


# --- through the build ------------------------------------------------------------------------

BADGE = """name: Safety Basics
description: Knows the basics of workplace safety.
image: images/badge.png
criteria: Attended the course and passed the quiz.
valid_for: {valid_for}
renewal:
  every: {every}
  points: {points}
"""

AWARDS = """badge: safety
awards:
  - recipient: ada
    issued_on: 2024-01-10
    cpd:
{log}"""


def _project(tmp_path: Path, log: list[tuple[str, int]], valid_for="1y", every="12m", points=20) -> Path:
    project = copy_project("minimal", tmp_path)
    (project / "content/badges/safety.yaml").write_text(BADGE.format(valid_for=valid_for, every=every, points=points))
    _write_log(project, log)
    return project


def _write_log(project: Path, log: list[tuple[str, int]]) -> None:
    lines = "".join(f"      - date: {date}\n        title: Course {i}\n        points: {pts}\n"
                    for i, (date, pts) in enumerate(log))
    (project / "content/awards/2026.yaml").write_text(AWARDS.format(log=lines or "      []\n"))


def _chain(prepared):
    return sorted(prepared.model.awards, key=lambda a: root_of(a.key)[1])


def test_each_renewal_is_a_published_award_linked_to_the_previous(tmp_path: Path):
    project = _project(tmp_path, [("2024-05-01", 20), ("2025-04-01", 25), ("2026-03-01", 7)])
    prepared = build(project)
    assert not prepared.report.has_errors(), prepared.diagnostics
    chain = _chain(prepared)
    assert [a.key for a in chain] == [chain[0].key, renewal_key(chain[0].key, 1), renewal_key(chain[0].key, 2)]
    assert len({a.slug for a in chain}) == 3 and len({a.status_index for a in chain}) == 3
    assert [a.expires.date().isoformat() for a in chain] == ["2025-01-10", "2026-01-10", "2027-01-10"]
    assert [a.cpd.previous for a in chain] == [None, chain[0].slug, chain[1].slug]
    assert [a.cpd.renewed_by for a in chain] == [chain[1].slug, chain[2].slug, None]
    newest = chain[-1]
    assert newest.cpd.current and newest.cpd.period.logged == 7 and newest.cpd.period.needed == 13
    entries = ledger_awards(project)
    assert set(entries) == {a.key for a in chain}
    site = project / "_site"
    renewal = json.loads((site / f"{award_dir(chain[2].slug)}/assertion.json").read_text())
    assert renewal["issuedOn"] == "2025-04-01T00:00:00Z" and renewal["expires"] == "2027-01-10T00:00:00Z"
    assert renewal["evidence"] == [{
        "type": "Evidence", "id": f"https://badges.minimal.example/{award_dir(chain[1].slug)}/assertion.json",
        "name": "Previous credential",
        "description": "The credential this one renews through continuing professional development."}]
    assert renewal["narrative"] == ("Renewed through continuing professional development logged between "
                                    "2025-01-10 and 2026-01-10.")
    for award in chain:
        assert (site / f"{award_dir(award.slug)}/index.html").is_file()


def test_policy_change_never_changes_what_was_issued(tmp_path: Path):
    project = _project(tmp_path, [("2024-05-01", 20), ("2025-04-01", 25)])
    first = build(project)
    assert not first.report.has_errors(), first.diagnostics
    before = {a.key: (a.slug, a.issued_on, a.expires) for a in first.model.awards}
    json_before = {a.key: (project / "_site" / award_dir(a.slug) / "assertion.json").read_bytes()
                   for a in first.model.awards}
    # The provider makes the rule stricter, the badge valid longer, and tidies the log.
    (project / "content/badges/safety.yaml").write_text(BADGE.format(valid_for="3y", every="24m", points=50))
    _write_log(project, [("2024-05-01", 20)])
    second = build(project, minter=SeededMinter(99))
    assert not second.report.has_errors(), second.diagnostics
    after = {a.key: (a.slug, a.issued_on, a.expires) for a in second.model.awards}
    assert after == before  # same credentials, same frozen dates, none withdrawn
    for award in second.model.awards:
        assert (project / f"_site/{award_dir(award.slug)}/assertion.json").read_bytes() == json_before[award.key]


def test_badge_policy_change_keeps_frozen_expiry_of_a_plain_award(tmp_path: Path):
    project = copy_project("minimal", tmp_path)  # valid_for: 2y
    first = build(project)
    award = first.model.awards[0]
    assert award.expires.date().isoformat() == "2028-02-01"
    badge = project / "content/badges/safety.yaml"
    badge.write_text(badge.read_text().replace("valid_for: 2y", "valid_for: 5y"))
    second = build(project)
    assert second.model.awards[0].expires == award.expires
    hosted = json.loads((project / "_site" / award_dir(award.slug) / "assertion.json").read_text())
    assert hosted["expires"] == "2028-02-01T00:00:00Z"
    # a new award of the same badge gets the new policy
    (project / "content/awards/2026.yaml").write_text(
        "badge: safety\nissued_on: 2026-02-01\nawards:\n  - recipient: ada\n"
        "  - name: Bob Brown\n    email: bob@example.com\n    issued_on: 2026-03-01\n")
    third = build(project)
    bob = next(a for a in third.model.awards if a.recipient_name == "Bob Brown")
    assert bob.expires.date().isoformat() == "2031-03-01"
    assert next(a for a in third.model.awards if a.key == award.key).expires == award.expires


def test_late_logging_issues_a_backdated_renewal_on_the_next_build(tmp_path: Path):
    project = _project(tmp_path, [("2024-05-01", 12)])
    first = build(project)
    assert len(first.model.awards) == 1 and first.model.awards[0].cpd.lapses_on.date().isoformat() == "2025-01-10"
    _write_log(project, [("2024-05-01", 12), ("2024-12-15", 8)])  # added late, done in time
    second = build(project)
    chain = _chain(second)
    assert len(chain) == 2 and chain[1].issued_on.date().isoformat() == "2024-12-15"
    assert chain[0].slug == first.model.awards[0].slug


def test_cpd_in_the_future_is_refused(tmp_path: Path):
    project = _project(tmp_path, [("2024-05-01", 12), (FIXED_NOW.date().replace(year=2027).isoformat(), 8)])
    prepared = build(project)
    assert prepared.model is None
    assert any(d.code == "E204" and "in the future" in d.message for d in prepared.diagnostics)
