"""Validate every content file against its field specs: issuers, badges, recipients, awards.

Each file is parsed (positioned YAML or a CSV roster) and checked on its own; references
between files (a badge's issuer, an award's recipient) are resolved later, in model/resolve.py.
Every problem is reported, and a broken file is remembered by name so that references to it
do not cascade into "unknown ..." errors.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..diagnostics import Location, Report, did_you_mean
from ..load.files import Sources
from ..load.positioned_yaml import YList, YMap, load_yaml
from ..load.roster import parse_roster
from .schema import AWARD, AWARDS_FILE, RECIPIENT, Schema, Validated, validate
from .values import parse_slug

YAML_SUFFIXES = (".yaml", ".yml")
_FILE_KEYS = {f.name for f in AWARDS_FILE}


@dataclass(slots=True)
class AwardFields:
    """An award's validated fields, its recipient looked up (content/recipients/ or inline)."""

    fields: Validated
    recipient_name: str
    email: str
    show_name: bool
    listed: bool
    previous_email: str | None = None  # the published address `email` corrects (recipient's or award's own)
    previous_email_at: Location | None = None


def _slug_from_path(path: str, report: Report) -> str | None:
    stem = PurePosixPath(path).stem
    try:
        return parse_slug(stem)
    except ValueError as exc:
        report.error("E208", f"file name: {exc}", Location(path), "rename the file; its name is the id in URLs")
        return None


def load_entities(sources: Sources, folder: str, spec: Schema, what: str,
                   report: Report) -> tuple[dict[str, Validated], set[str]]:
    """Valid entities by slug, and every slug that has a file (valid or not, to avoid cascades)."""
    found: dict[str, Validated] = {}
    known: set[str] = set()
    for path, data in sources.under(folder, YAML_SUFFIXES):
        slug = _slug_from_path(path, report)
        known.add(slug or PurePosixPath(path).stem)
        errors_before = report.error_count()
        doc = load_yaml(data, path, report)
        if doc is None:
            if report.error_count() == errors_before:
                report.error("E106", f"{what} file is empty", Location(path, 1), "add the fields or delete the file")
            continue
        result = validate(doc, spec, report, Location(path, 1), what)
        if result is None or slug is None:
            continue
        if slug in found:
            report.error("E302", f"{what} '{slug}' is defined twice (also in {found[slug].loc.path})",
                         Location(path, 1), "rename one of the files")
            continue
        found[slug] = result
    return found, known


def load_recipients(sources: Sources, report: Report) -> tuple[dict[str, Validated], set[str]]:
    people: dict[str, Validated] = {}
    known: set[str] = set()
    for path, data in sources.under("recipients", YAML_SUFFIXES):
        doc = load_yaml(data, path, report)
        if doc is None:
            continue
        if not isinstance(doc, YList):
            report.error("E106", "a recipients file must be a list of people (lines starting with '- ')",
                         Location(path, 1), "start each person with `- id: ...`")
            known.add("*")  # some ids are unreadable: do not report references to them as unknown
            continue
        for item, loc in zip(doc, doc.item_locs):
            if isinstance(item, YMap) and isinstance(item.get("id"), str):
                known.add(item["id"])
            person = validate(item, RECIPIENT, report, loc, "recipient")
            if person is None:
                continue
            rid = person["id"]
            if rid in people:
                report.error("E302", f"recipient id '{rid}' is used twice (first at {people[rid].loc})",
                             person.at("id"), "give each person a different id")
                continue
            people[rid] = person
    return people, known


def award_files(sources: Sources) -> Iterator[tuple[str, bytes]]:
    """The awards files (awards/*.yaml and awards/*.csv), in path order."""
    return sources.under("awards", YAML_SUFFIXES + (".csv",))


def _award_docs(path: str, data: bytes, report: Report, date_order: str | None,
                first: int = 0) -> Iterator[tuple[YMap, Location]]:
    """Every award mapping of one awards file, with file-level defaults applied (`first`: the
    index of its first award, when `data` is the tail of a YAML file: load/appended.py).

    One at a time: the positioned form of a big roster is several times the size of its fields."""
    if path.lower().endswith(".csv"):
        rows = parse_roster(data, path, report)
        yield from zip(rows or [], (rows.item_locs if rows else []))
        return
    doc = load_yaml(data, path, report, {"awards": first} if first else None)
    if doc is None:
        return
    # A bad file-level value (issued_on: 03/04/2026) is reported once, here; the awards are
    # still checked (each reports that value again at the same place, which `Report.sorted`
    # folds into one), so every other problem in the file shows in the same run.
    validate(doc, AWARDS_FILE, report, Location(path, 1), "awards file", date_order=date_order)
    if not isinstance(doc, YMap) or "awards" not in doc:
        return
    entries = doc["awards"]
    if not isinstance(entries, YList):
        report.error("E203", "'awards' must be a list", doc.value_loc("awards"), "start each award with `- `")
        return
    defaults = {k: v for k, v in doc.items() if k != "awards" and k in _FILE_KEYS}  # unknown keys: reported above
    for item, loc in zip(entries, entries.item_locs):
        if not isinstance(item, YMap):
            report.error("E106", "each award must be a mapping of keys", loc, "e.g. `- recipient: ada`")
            continue
        merged = YMap(defaults)
        merged.update(item)
        merged.loc = item.loc
        merged.key_locs = {**doc.key_locs, **item.key_locs}
        merged.value_locs = {**doc.value_locs, **item.value_locs}
        yield merged, loc


def validate_awards(path: str, data: bytes, people: dict[str, Validated], known_people: set[str],
                    report: Report, date_order: str | None = None, first: int = 0) -> Iterator[AwardFields]:
    """Every award of one awards file (YAML or CSV); `date_order` is site.yaml's (values.parse_datetime),
    `first` the index of its first award (see `_award_docs`).

    One at a time, like `_award_docs`: the model keeps a few of each award's fields, and 10^5 of
    them validated, each with the place of every value, would be most of a build's memory."""
    for doc, loc in _award_docs(path, data, report, date_order, first):
        fields = validate(doc, AWARD, report, loc, "award", date_order=date_order)
        if fields is None:
            continue
        rid, name, email = fields.get("recipient"), fields.get("name"), fields.get("email")
        if rid is not None:
            if name or email:
                report.error("E207", "give either 'recipient' or 'name' and 'email', not both", fields.at("recipient"),
                             "remove name/email: they come from content/recipients/")
                continue
            if fields.get("previous_email"):
                report.error("E207", "'previous_email' goes next to the email it corrects, on the recipient",
                             fields.at("previous_email"), f"move it to recipient '{rid}' in content/recipients/")
                continue
            person = people.get(rid)
            if person is None:
                if rid in known_people or "*" in known_people:  # its own errors are already reported
                    continue
                report.error("E301", f"unknown recipient '{rid}'", fields.at("recipient"),
                             did_you_mean(rid, people) or "add the person to content/recipients/")
                continue
            name, email = person["name"], person["email"]
            show, listed = person["show_name"], person["listed"]
            previous, previous_at = person.get("previous_email"), person.at("previous_email")
        else:
            if not name or not email:
                missing = "name" if not name else "email"
                report.error("E202", f"award needs '{missing}' (or 'recipient')", fields.loc,
                             "add `name:` and `email:`, or `recipient: ID` from content/recipients/")
                continue
            show, listed = True, False
            previous, previous_at = fields.get("previous_email"), fields.at("previous_email")
        if fields.get("show_name") is not None:
            show = fields["show_name"]
        if fields.get("listed") is not None:
            listed = fields["listed"]
        yield AwardFields(fields, name, email, show, listed, previous, previous_at if previous else None)
