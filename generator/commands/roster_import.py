"""`import ROSTER.csv --badge ID`: a spreadsheet export becomes one awards YAML file, or nothing.

Every row is checked on its own (the award schema, at the CSV's line and column), and then the
file about to be written is checked against the whole project, as if it were already there:
a person who already has the badge (the same roster imported twice under two names), an
unknown recipient id or an issue date in the future is reported at the row that causes it,
and nothing is written. Dates are written as YYYY-MM-DD, whatever order the spreadsheet used
(`--date-format`, or site.yaml `date_order`).
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from .. import api
from ..diagnostics import Diagnostic, Location, Report, did_you_mean
from ..load.positioned_yaml import YList, YMap, load_yaml
from ..load.roster import parse_roster
from ..project_lock import project_lock
from ..validate import schema
from ..validate.values import DATE_ORDERS, format_datetime, parse_datetime, slugify
from .scaffold import dump_yaml, existing_ids, write_new

_WHERE = Location("command line")
# the file is checked under a name that sorts after every real one, so that a person who is in
# the project already is reported at the roster's row (the second occurrence), not elsewhere
_STAGED_PREFIX = "content/awards/\U0010ffff"
_FIRST = ("recipient", "name", "email", "id", "issued_on", "expires")  # README's order


def add_arguments(parser) -> None:
    parser.add_argument("csv", type=Path)
    parser.add_argument("--badge", required=True, help="badge id the roster earned")
    parser.add_argument("--issued-on", help="issue date for rows without one (YYYY-MM-DD)")
    parser.add_argument("--date-format", choices=DATE_ORDERS,
                        help="how the roster writes dates like 13/04/2026 (default: site.yaml date_order)")


def import_roster(project: Path, csv_path: Path, badge: str, issued_on: str | None,
                  date_format: str | None = None) -> tuple[Report, str]:
    """Validate a spreadsheet export completely, then write it as one awards YAML file."""
    with project_lock(project):
        return _import(project, csv_path, badge, issued_on, date_format)


def _import(project: Path, csv_path: Path, badge: str, issued_on: str | None,
            date_format: str | None) -> tuple[Report, str]:
    report = Report()
    if not csv_path.is_file():
        report.error("E105", f"{csv_path} not found", _WHERE, "give the path of the exported .csv file")
        return report, ""
    badges = existing_ids(project, "badges")
    if badge not in badges:
        report.error("E301", f"--badge: unknown badge '{badge}'", _WHERE,
                     did_you_mean(badge, badges) or "create it with `badgekiln new badge ID`")
        return report, ""
    order = date_format or _site_date_order(project)
    defaults = {"badge": badge}
    if issued_on:
        try:
            defaults["issued_on"] = _date_text(parse_datetime(issued_on, order))
        except ValueError as exc:
            report.error("E204", f"--issued-on: {exc}", _WHERE)
            return report, ""
    rows = parse_roster(csv_path.read_bytes(), str(csv_path), report, defaults)
    if rows is None:
        return report, ""
    awards = [entry for row, loc in zip(rows, rows.item_locs)
              if (entry := _award(row, loc, order, report)) is not None]
    if report.has_errors():
        if order is None:
            _hint_date_order(report)
        return report, ""
    if not awards:
        report.error("E105", "the roster has no rows", Location(str(csv_path)), "fill in at least one row")
        return report, ""
    relpath = f"content/awards/{badge}-{slugify(csv_path.stem) or 'roster'}.yaml"
    if (project / relpath).exists():
        report.error("E302", f"{relpath} already exists; not overwriting it", Location(relpath),
                     "rename the CSV file, or delete the earlier import if it was a mistake")
        return report, ""
    doc = {"badge": badge, **({"issued_on": defaults["issued_on"]} if issued_on else {}), "awards": awards}
    text = f"# Imported from {csv_path.name} by `badgekiln import`.\n" + dump_yaml(doc)
    report.extend(_against_the_project(project, text, rows, str(csv_path)))
    if report.has_errors():
        return report, ""
    write_new(project, relpath, text, report)
    return report, f"wrote {relpath} with {len(awards)} award(s); run `badgekiln build` to publish"


_SLASHED_DATE = re.compile(r"'\d{1,2}[/.]\d{1,2}[/.]\d{4}'")
DATE_ORDER_HINT = ("if the roster writes the day first (13/04/2026), import it with --date-format day-first (or "
                   "set `date_order: day-first` in content/site.yaml); month first: --date-format month-first")


def _hint_date_order(report: Report) -> None:
    """A roster's 13/04/2026 dates: say how to read them all, not only how to rewrite each."""
    report.items[:] = [replace(d, hint=d.hint or DATE_ORDER_HINT)
                       if d.code == "E204" and _SLASHED_DATE.search(d.message) else d for d in report.items]


def _site_date_order(project: Path) -> str | None:
    """site.yaml's `date_order` (checked by `check`; here only a valid value counts)."""
    path = project / "content/site.yaml"
    doc = load_yaml(path.read_bytes(), "content/site.yaml", Report()) if path.is_file() else None
    order = doc.get("date_order") if isinstance(doc, YMap) else None
    return order if order in DATE_ORDERS else None


def _date_text(moment: datetime) -> str:
    """YYYY-MM-DD for a date, the full UTC timestamp when a time of day was given."""
    midnight = moment.astimezone(timezone.utc).time() == datetime.min.time()
    return moment.date().isoformat() if midnight else format_datetime(moment)


def _award(row: YMap, loc: Location, order: str | None, report: Report) -> dict | None:
    """One row as an awards-list entry in README's style, or None (reported)."""
    fields = schema.validate(row, schema.AWARD, report, loc, "roster row", date_order=order)
    if fields is None:
        return None
    if not fields.get("recipient") and not (fields.get("name") and fields.get("email")):
        if "name" not in row or "email" not in row:
            report.error("E202", "roster row needs a name and an email", loc, "fill both columns")
        return None
    own = [k for k in row.key_locs if k != "badge"]  # the row's own cells, not the command's defaults
    entry = {}
    for key in [k for k in _FIRST if k in own] + [k for k in own if k not in _FIRST]:
        value = fields.get(key)
        entry[key] = _date_text(value) if isinstance(value, datetime) else value if key == "email" else row[key]
    return entry


def _against_the_project(project: Path, text: str, rows: YList, csv_name: str) -> list[Diagnostic]:
    """What `check` would say about the new file, located at the roster's rows (content only: no signing)."""
    staged = f"{_STAGED_PREFIX}{slugify(Path(csv_name).stem) or 'roster'}.yaml"
    checked = api.check(project, api.BuildOptions(staged={staged: text.encode("utf-8")}, sign=False), render=False)
    awards = load_yaml(text.encode("utf-8"), staged, Report())["awards"]
    starts = [item.line for item in awards.item_locs]
    mentioned = re.compile(re.escape(staged) + r":(\d+)(?::\d+)?")

    def row_of(line: int) -> int | None:
        index = sum(1 for start in starts if start <= line) - 1
        return index if index >= 0 else None

    def where(line: int, key: str) -> Location:
        index = row_of(line)
        if index is None:
            return _WHERE  # a file-level value: the command's --badge or --issued-on
        field = key.rpartition(".")[2] if "." in key else ""
        cell = rows[index].key_locs.get(field)
        return Location(csv_name, rows.item_locs[index].line, cell.column if cell else 1, field)

    found = []
    for item in checked.diagnostics:
        if item.location.path != staged:
            continue
        message = mentioned.sub(lambda m: str(where(int(m.group(1)), "")), item.message)
        found.append(Diagnostic(item.severity, item.code, message, where(item.location.line, item.location.key),
                                item.hint))
    return found
