"""`due`: awards that expire, or still need CPD, within a window (for reminder emails).

Unlike a build, this asks the wall clock (or SOURCE_DATE_EPOCH) what "soon" is. It lists the
newest credential of each award that is neither revoked nor suspended and expires between now
and now + `--within` (default 60 days); for a badge with a CPD renewal rule it says how many
points (or hours) are still needed before the badge lapses. `--csv` gives a mail-merge file.
Only published awards (in the ledger) are listed: a reminder must link to a live page.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import api
from ..clock import now_from_env
from ..diagnostics import Location, Report
from ..model.domain import Award, SiteModel
from ..model.routes import Routes
from ..validate.values import Duration, format_amount, parse_duration

DEFAULT_WITHIN = "60d"
CSV_COLUMNS = ("name", "email", "badge", "badge_name", "expires", "days_left", "state", "cpd_logged",
               "cpd_required", "cpd_needed", "cpd_unit", "page_url")


@dataclass(frozen=True)
class Due:
    award: Award
    badge_name: str
    page_url: str
    days_left: int
    state: str  # "expires" | "needs CPD"

    def row(self) -> dict[str, str]:
        a, cpd = self.award, self.award.cpd
        period = cpd.period if cpd else None
        return {"name": a.recipient_name, "email": a.email, "badge": a.badge, "badge_name": self.badge_name,
                "expires": a.expires.date().isoformat() if a.expires else "", "days_left": str(self.days_left),
                "state": self.state,
                "cpd_logged": format_amount(period.logged) if period else "",
                "cpd_required": format_amount(period.required) if period else "",
                "cpd_needed": format_amount(period.needed) if period else "", "cpd_unit": cpd.rule.unit if cpd else "",
                "page_url": self.page_url}


def add_arguments(sub) -> None:
    p = sub.add_parser("due", help="list awards that expire or need CPD soon (for reminders)")
    p.add_argument("--within", default=DEFAULT_WITHIN, help="look-ahead window, e.g. 60d, 3m (default 60d)")
    p.add_argument("--csv", action="store_true", help="CSV for a mail merge instead of a table")


def due(model: SiteModel, published: set[str], now: datetime, within: Duration) -> list[Due]:
    routes = Routes(model.site.base_url)
    horizon = within.after(now)
    badges = {b.slug: b for b in model.badges}
    found = []
    for award in model.awards:
        if award.key not in published or award.expires is None:
            continue
        if award.revocation is not None or award.suspension is not None:
            continue
        if award.cpd is not None and not award.cpd.current:
            continue  # superseded by its renewal
        if not now <= award.expires <= horizon:
            continue
        days = days_until(award.expires, now)
        state = "needs CPD" if award.cpd is not None and award.cpd.period.needed > 0 else "expires"
        found.append(Due(award, badges[award.badge].name, routes.url(routes.award_page(award)), days, state))
    found.sort(key=lambda d: (d.award.expires, d.award.recipient_name, d.award.badge))
    return found


def days_until(moment: datetime, now: datetime) -> int:
    """Calendar days from `now` to `moment`, counted where `moment` is (2026-12-01 -> 2027-03-01: 90)."""
    return (moment.date() - now.astimezone(moment.tzinfo).date()).days


def run(project: Path, within_text: str, as_csv: bool, now: datetime | None = None) -> tuple[Report, str]:
    report = Report()
    try:
        within = parse_duration(within_text)
    except ValueError as exc:
        report.error("E209", f"--within: {exc}", Location("command line"))
        return report, ""
    if within is None:
        report.error("E209", "--within needs a length, e.g. 60d", Location("command line"))
        return report, ""
    prepared = api.check(project, api.BuildOptions(sign=False), render=False)
    if prepared.model is None:
        report.extend(prepared.diagnostics)
        return report, ""
    published = set(prepared.ledger_read.entries)
    items = due(prepared.model, published, now or now_from_env(), within)
    if as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for item in items:
            writer.writerow(item.row())
        return report, out.getvalue().rstrip("\n")
    if not items:
        return report, f"Nothing due within {within}."
    lines = [f"{len(items)} award(s) due within {within}:"]
    for item in items:
        a = item.award
        what = (f"needs {a.cpd.period.needed:g} more CPD {a.cpd.rule.unit} "
                f"({a.cpd.period.logged:g}/{a.cpd.period.required:g}) or lapses"
                if item.state == "needs CPD" else "expires")
        lines.append(f"  {a.expires.date()}  ({item.days_left:>3} days)  {item.badge_name}: {a.recipient_name} "
                     f"<{a.email}>  {what}  {item.page_url}")
    unbuilt = sum(1 for a in prepared.model.awards if a.key not in published)
    if unbuilt:
        lines.append(f"({unbuilt} award(s) not built yet are not listed: run `badgekiln build` first)")
    return report, "\n".join(lines)
