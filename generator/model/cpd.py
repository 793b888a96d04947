"""CPD renewal as a pure function: which renewal credentials a CPD log has earned.

A badge with a renewal rule ("every 12 months, 20 points") is a chain of credentials. The
award in content is credential 0; its *period* runs from its issue date to its expiry. When
the CPD activities dated inside a period add up to the rule's amount, the generator issues
the next credential: issued on the date the total was reached, valid until one more `every`
after the end of the period. That credential's period then starts where the last one ended,
and so on. The first period that falls short ends the chain: the badge lapses when the newest
credential expires (credentials already issued stay valid until their own `validUntil`).

What was issued is never taken back by a later change: a renewal already in the ledger keeps
its dates (frozen there) and keeps its period counted as met, whatever the rule or the log
say now. Changing the rule only changes credentials not yet issued.

Late logging is fine: an activity counts for the period its *date* falls in, whenever it was
added to content, so a renewal can be issued (with its issue date in the past) after the
previous credential has lapsed. An activity dated after a period that fell short counts for
nothing: the chain has ended, and the recipient earns the badge again from scratch.

No clock here: everything follows from content dates and the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .domain import CpdActivity, CpdPeriod, RenewalRule

MAX_PERIODS = 200  # a guard; a rule needs a positive amount, so a log can earn only finitely many


@dataclass(frozen=True)
class Issue:
    """A credential of the chain: number (1.. for renewals), issue date and expiry."""

    number: int
    issued_on: datetime
    expires: datetime


@dataclass(frozen=True)
class RenewalPlan:
    periods: tuple[CpdPeriod, ...]  # period k belongs to credential k (0 = the award in content)
    renewals: tuple[Issue, ...]  # credentials 1..n

    @property
    def lapses_on(self) -> datetime | None:
        """End of the last covered period, when the newest credential's period is short."""
        last = self.periods[-1]
        return None if last.renewed else last.end


def every_text(every) -> str:
    """A Duration as people say it after "every": "year", "2 years", "12 months", "90 days"."""
    parts = [(every.years, "year"), (every.months, "month"), (every.days, "day")]
    words = [(f"{n} {unit}s" if n != 1 else f"1 {unit}") for n, unit in parts if n]
    text = " ".join(words)
    return text[2:] if text.startswith("1 ") and len(words) == 1 else text


def _tidy(amount: float | int) -> float | int:
    """Sums of decimal points without float noise: 0.1 + 0.2 is 0.3, 20.0 is 20."""
    value = round(float(amount), 6)
    return int(value) if value.is_integer() else value


def plan(issued_on: datetime, expires: datetime, rule: RenewalRule, log: tuple[CpdActivity, ...],
         issued: dict[int, Issue] | None = None, stop_after: datetime | None = None) -> RenewalPlan:
    """The renewal chain of one award.

    `issued` holds renewals already in the ledger (number -> frozen dates); they are kept as
    they are. `stop_after` (a revocation date) stops new renewals that would be issued later.
    """
    issued = issued or {}
    activities = sorted(log, key=lambda a: (a.date, a.title))
    periods: list[CpdPeriod] = []
    renewals: list[Issue] = []
    number, start, end = 0, issued_on, expires
    while True:
        inside = tuple(a for a in activities if start <= a.date < end)
        total: float | int = 0
        met_on = None
        for activity in inside:
            total = _tidy(total + activity.amount)
            if met_on is None and total >= rule.amount:
                met_on = activity.date
        following = issued.get(number + 1)
        if following is None and met_on is not None and (stop_after is None or met_on <= stop_after):
            following = Issue(number + 1, met_on, rule.every.after(end))
        periods.append(CpdPeriod(number, start, end, rule.amount, total, inside, met_on, following is not None))
        if following is None or number + 1 >= MAX_PERIODS:
            break
        renewals.append(following)
        number, start, end = number + 1, end, following.expires
    return RenewalPlan(tuple(periods), tuple(renewals))
