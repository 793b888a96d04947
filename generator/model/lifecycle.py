"""Award lifecycle from content: revocation, suspension, reinstatement and the CPD chain.

`content.build_model` calls these functions, in order:

- `parse(fields, badge, issued, now, report)` checks an award's `revoked:`, `suspended:`,
  `reinstated:` and `cpd:` entries and returns a `Lifecycle` (all located diagnostics go to
  `report`);
- `renewal_wants(...)` asks the CPD planner (generator/cpd.py) which renewal credentials the
  log has earned and returns them as ledger wants, so each renewal gets its own ledger entry
  (slug, salt, status index, frozen dates) like any award;
- `facts(...)` gives a model `Award` the lifecycle facts that pages, status lists and emails
  read, and `chain(...)` adds its renewals as model awards of their own.

A renewal's ledger key is the parent's key plus `#renewal-N` (`#` never occurs in a slug,
so it cannot collide with an award `id`). Revocation and suspension are stated once, on the
award in content, and apply to every credential of its chain.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..diagnostics import Report
from ..validate.schema import Validated
from . import cpd, ledger
from .domain import Award, Badge, CpdActivity, CpdProgress, RenewalRule, StatusChange

RENEWAL_SEPARATOR = "#renewal-"


@dataclass(frozen=True)
class Lifecycle:
    revocation: StatusChange | None = None
    suspension: StatusChange | None = None
    lifted_suspension: StatusChange | None = None
    reinstatement: StatusChange | None = None
    cpd_log: tuple[CpdActivity, ...] = ()


_UNEVENTFUL = Lifecycle()  # most awards': one object for all of them


def renewal_key(root_key: str, number: int) -> str:
    return f"{root_key}{RENEWAL_SEPARATOR}{number}"


def root_of(key: str) -> tuple[str, int]:
    """(ledger key of the award in content, renewal number) of any chain key."""
    root, sep, number = key.partition(RENEWAL_SEPARATOR)
    return (root, int(number)) if sep and number.isdigit() else (key, 0)


def rule_of(fields: Validated, report: Report) -> RenewalRule | None:
    """A badge's `renewal:` entry as a rule, or None (reporting what is wrong with it)."""
    raw = fields.get("renewal")
    if raw is None:
        return None
    points, hours = raw.get("points"), raw.get("hours")
    if (points is None) == (hours is None):
        report.error("E202" if points is None else "E207",
                     "renewal needs either 'points' or 'hours' (how much CPD to log each period)"
                     if points is None else "renewal gives both 'points' and 'hours'; keep one",
                     fields.at("renewal"), "e.g. `renewal: {every: 12m, points: 20}`")
        return None
    amount, unit = (points, "points") if points is not None else (hours, "hours")
    if not amount > 0:
        report.error("E207", f"renewal needs a positive number of {unit}", raw.at(unit),
                     "to stop renewals, remove the renewal rule instead")
        return None
    if raw["every"] is None:
        report.error("E209", "renewal 'every' cannot be none", raw.at("every"), "write e.g. 12m or 1y")
        return None
    return RenewalRule(raw["every"], amount, unit)


def _change(fields: Validated, name: str) -> StatusChange | None:
    raw = fields.get(name)
    if raw is None:
        return None
    return StatusChange(raw["on"], (raw.get("reason") or "").strip())


def parse(fields: Validated, badge: Badge, issued: datetime, now: datetime, report: Report) -> Lifecycle:
    """Check one award's lifecycle entries against each other, its issue date and `now`."""
    revoked, suspended, reinstated = (_change(fields, n) for n in ("revoked", "suspended", "reinstated"))
    for name, change in (("revoked", revoked), ("suspended", suspended), ("reinstated", reinstated)):
        if change is None:
            continue
        where = fields["%s" % name].at("on")
        if change.on > now:
            report.error("E204", f"{name} on {change.on.date()} is in the future", where,
                         f"record it on the day it takes effect (`badgekiln {_verb(name)}` uses today)")
        elif change.on < issued:
            report.error("E307", f"{name} on {change.on.date()} is before the award was issued "
                         f"({issued.date()})", where, "check the date")
        if name != "reinstated" and not change.reason:
            report.error("E202", f"'{name}' needs a 'reason'", fields.at(name),
                         "say why: it is shown on the award page and in the revocation list")
    if reinstated is not None:
        if suspended is None:
            report.error("E202", "'reinstated' needs the 'suspended' entry it lifts", fields.at("reinstated"),
                         "keep the suspended: entry (its history), or remove reinstated:")
        elif reinstated.on < suspended.on:
            report.error("E307", f"reinstated on {reinstated.on.date()} is before the suspension "
                         f"({suspended.on.date()})", fields["reinstated"].at("on"), "check the date")
    log = []
    rule = badge.renewal
    for entry in fields.get("cpd") or ():
        points, hours = entry.get("points"), entry.get("hours")
        if (points is None) == (hours is None):
            report.error("E202" if points is None else "E207",
                         "a CPD activity needs either 'points' or 'hours'" if points is None
                         else "a CPD activity gives both 'points' and 'hours'; keep one", entry.loc,
                         f"e.g. `{rule.unit if rule else 'points'}: 3`")
            continue
        amount, unit = (points, "points") if points is not None else (hours, "hours")
        if rule is not None and unit != rule.unit:
            report.error("E207", f"badge '{badge.slug}' counts CPD in {rule.unit}, not {unit}", entry.at(unit),
                         f"write `{rule.unit}: {amount}`")
            continue
        date = entry["date"]
        if date > now:
            report.error("E204", f"CPD activity dated {date.date()} is in the future", entry.at("date"),
                         "log activities once they have happened")
            continue
        if date < issued:
            report.warning("W204", f"CPD activity dated {date.date()} is before the award was issued "
                           f"({issued.date()}); it counts toward no renewal", entry.at("date"),
                           "check the date, or remove the activity")
        log.append(CpdActivity(date, entry["title"], amount, unit, entry.get("evidence")))
    if revoked is None and suspended is None and not log:
        return _UNEVENTFUL
    log.sort(key=lambda a: (a.date, a.title))
    active = suspended if suspended is not None and reinstated is None else None
    lifted = suspended if suspended is not None and reinstated is not None else None
    return Lifecycle(revoked, active, lifted, reinstated if lifted else None, tuple(log))


def _verb(name: str) -> str:
    return {"revoked": "revoke", "suspended": "suspend", "reinstated": "reinstate"}[name]


def effective(want: ledger.Wanted, old: dict[str, ledger.Entry]) -> tuple[datetime, datetime | None]:
    """The issue date and expiry this award has after ledger reconciliation (frozen if published)."""
    entry = old.get(want.key)
    if entry is None:
        return want.issued_on, want.expires
    return entry.issued_on, want.expires if want.expires_explicit else entry.expires


def renewal_wants(base: list[ledger.Wanted], lifecycles: dict[str, Lifecycle], badges: dict[str, Badge],
                  old: dict[str, ledger.Entry]) -> tuple[dict[str, cpd.RenewalPlan], list[ledger.Wanted]]:
    """CPD plans per award key, and the ledger wants of every renewal credential they earn."""
    plans: dict[str, cpd.RenewalPlan] = {}
    wants: list[ledger.Wanted] = []
    issued: dict[str, dict[int, cpd.Issue]] = {}  # renewals already in the ledger, by chain
    for key, entry in old.items():
        root, number = root_of(key)
        if number and entry.expires is not None:
            issued.setdefault(root, {})[number] = cpd.Issue(number, entry.issued_on, entry.expires)
    for want in base:
        badge, life = badges[want.badge], lifecycles.get(want.key)
        if badge.renewal is None or life is None:
            continue
        issued_on, expires = effective(want, old)
        if expires is None:
            continue
        frozen = issued.get(want.key, {})
        stop = life.revocation.on if life.revocation else None
        plan = cpd.plan(issued_on, expires, badge.renewal, life.cpd_log, frozen, stop)
        plans[want.key] = plan
        for issue in plan.renewals:
            wants.append(ledger.Wanted(renewal_key(want.key, issue.number), want.badge, issue.issued_on,
                                       issue.expires, False, want.location))
    return plans, wants


def facts(life: Lifecycle | None, entry: ledger.Entry) -> dict:
    """The lifecycle fields of a model award (given to its constructor: 10^5 awards, no copy each)."""
    life = life or _UNEVENTFUL
    return dict(status_index=entry.status_index, revocation=life.revocation, suspension=life.suspension,
                lifted_suspension=life.lifted_suspension, reinstatement=life.reinstatement, cpd_log=life.cpd_log)


def chain(award: Award, plan: cpd.RenewalPlan | None, badge: Badge, entries: dict[str, ledger.Entry]) -> list[Award]:
    """The award in content (with its `facts`) and its renewals as model awards."""
    if plan is None or badge.renewal is None:
        return [award]
    slugs = [award.slug] + [entries[renewal_key(award.key, r.number)].slug for r in plan.renewals]
    result = []
    for number, period in enumerate(plan.periods):
        progress = CpdProgress(
            rule=badge.renewal, number=number, root_key=award.key,
            previous=slugs[number - 1] if number else None,
            renewed_by=slugs[number + 1] if number + 1 < len(slugs) else None,
            period=period, periods=plan.periods, lapses_on=plan.lapses_on)
        if number == 0:
            result.append(replace(award, cpd=progress, listed=award.listed and progress.current))
            continue
        key = renewal_key(award.key, number)
        entry = entries[key]
        earned = plan.periods[number - 1]
        # Only frozen facts go into the credential (dates from the ledger and earlier credentials):
        # editing the CPD log or the rule later must not change what was issued. The activities
        # themselves are shown on the award page, from `cpd_log`.
        narrative = (f"Renewed through continuing professional development logged between "
                     f"{earned.start.date().isoformat()} and {earned.end.date().isoformat()}.")
        result.append(replace(
            award, key=key, slug=entry.slug, salt=entry.salt, issued_on=entry.issued_on, expires=entry.expires,
            evidence=(), narrative=narrative, listed=award.listed and progress.current,
            status_index=entry.status_index, cpd=progress))
    return result


