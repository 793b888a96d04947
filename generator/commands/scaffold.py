"""`new` and `import`: write starter content that passes `check`, never overwriting a file."""
from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import yaml

from ..diagnostics import Location, Report, did_you_mean
from ..load.roster import parse_roster
from ..validate import schema
from ..validate.values import normalise_email, parse_datetime, parse_slug, slugify

_PLACEHOLDER_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
<circle cx="256" cy="256" r="240" fill="{color}"/>
<circle cx="256" cy="256" r="200" fill="none" stroke="#ffffff" stroke-width="12"/>
</svg>
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", required=True)
    site = kinds.add_parser("site", help="content/site.yaml")
    site.add_argument("--title", default="Our Training Badges")
    site.add_argument("--base-url", default="https://badges.example.org/")
    issuer = kinds.add_parser("issuer", help="content/issuers/ID.yaml")
    issuer.add_argument("id")
    issuer.add_argument("--name")
    issuer.add_argument("--url", default="https://example.org/")
    issuer.add_argument("--email", default="badges@example.org")
    badge = kinds.add_parser("badge", help="content/badges/ID.yaml and a placeholder image")
    badge.add_argument("id")
    badge.add_argument("--name")
    badge.add_argument("--issuer")
    award = kinds.add_parser("award", help="content/awards/BADGE-DATE-NAME.yaml")
    award.add_argument("--badge", required=True)
    award.add_argument("--name", required=True)
    award.add_argument("--email", required=True)
    award.add_argument("--issued-on", default=None, help="YYYY-MM-DD (default: today)")


def _write(project: Path, relpath: str, text: str, report: Report) -> bool:
    path = project / relpath
    if path.exists():
        report.error("E302", f"{relpath} already exists; not overwriting it", Location(relpath),
                     "choose another id or edit the existing file")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _existing(project: Path, folder: str) -> list[str]:
    return sorted(p.stem for p in (project / "content" / folder).glob("*.y*ml"))


def run(project: Path, args) -> tuple[Report, str]:
    report = Report()
    where = Location("command line")
    if args.kind != "site" and not (project / "content/site.yaml").exists():
        report.error("E202", "content/site.yaml is missing", where, "run `badgekiln new site` first")
        return report, ""
    if args.kind == "site":
        text = _dump({"title": args.title, "base_url": args.base_url, "language": "en",
                      "description": "Digital badges issued by our training team.",
                      "footer": "Badges are verifiable Open Badges."})
        ok = _write(project, "content/site.yaml", text, report)
        return report, "wrote content/site.yaml: set base_url to the address you will publish at" if ok else ""
    try:
        slug = parse_slug(getattr(args, "id", None) or args.badge)
    except ValueError as exc:
        report.error("E208", str(exc), where)
        return report, ""
    if args.kind == "issuer":
        try:
            email = normalise_email(args.email)
        except ValueError as exc:
            report.error("E205", str(exc), where)
            return report, ""
        text = _dump({"name": args.name or slug.replace("-", " ").title(), "url": args.url, "email": email,
                      "description": "Who we are and what our badges mean."})
        ok = _write(project, f"content/issuers/{slug}.yaml", text, report)
        return report, f"wrote content/issuers/{slug}.yaml" if ok else ""
    if args.kind == "badge":
        issuers = _existing(project, "issuers")
        issuer = args.issuer or (issuers[0] if len(issuers) == 1 else None)
        if issuer not in issuers:
            report.error("E301", f"unknown issuer '{issuer}'", where,
                         did_you_mean(str(issuer), issuers) or "create one with `badgekiln new issuer ID`")
            return report, ""
        image = f"images/{slug}.svg"
        text = _dump({"name": args.name or slug.replace("-", " ").title(), "issuer": issuer,
                      "description": "What this badge recognises.", "image": image,
                      "criteria": "- Attended the full course\n- Passed the final assessment\n",
                      "tags": [], "valid_for": "none"})
        if _write(project, f"content/badges/{slug}.yaml", text, report):
            _write(project, f"content/{image}", _PLACEHOLDER_SVG.format(color="#1f4e79"), report)
        return report, f"wrote content/badges/{slug}.yaml and content/{image} (replace the image)"
    # award
    badges = _existing(project, "badges")
    if slug not in badges:
        report.error("E301", f"unknown badge '{slug}'", where, did_you_mean(slug, badges) or "create it first")
        return report, ""
    try:
        email = normalise_email(args.email)
        issued = parse_datetime(args.issued_on or date.today().isoformat()).date().isoformat()
    except ValueError as exc:
        report.error("E205" if "@" in str(exc) or "email" in str(exc) else "E204", str(exc), where)
        return report, ""
    name = args.name.strip()
    relpath = f"content/awards/{slug}-{issued}-{slugify(name) or 'award'}.yaml"
    text = _dump({"badge": slug, "issued_on": issued, "awards": [{"name": name, "email": email}]})
    ok = _write(project, relpath, text, report)
    return report, f"wrote {relpath}; run `badgekiln build` to publish it" if ok else ""


def import_roster(project: Path, csv_path: Path, badge: str, issued_on: str | None) -> tuple[Report, str]:
    """Validate a spreadsheet export completely, then write it as one awards YAML file."""
    report = Report()
    where = Location(str(csv_path))
    if not csv_path.is_file():
        report.error("E105", f"{csv_path} not found", where)
        return report, ""
    badges = _existing(project, "badges")
    if badge not in badges:
        report.error("E301", f"unknown badge '{badge}'", where, did_you_mean(badge, badges) or "create it first")
        return report, ""
    defaults = {"badge": badge}
    if issued_on:
        defaults["issued_on"] = issued_on
    rows = parse_roster(csv_path.read_bytes(), str(csv_path), report, defaults)
    if rows is None:
        return report, ""
    awards = []
    for row, loc in zip(rows, rows.item_locs):
        fields = schema.validate(row, schema.AWARD, report, loc, "roster row")
        if fields is None:
            continue
        if not fields.get("recipient") and not (fields.get("name") and fields.get("email")):
            if "name" not in row or "email" not in row:
                report.error("E202", "roster row needs a name and an email", loc, "fill both columns")
            continue
        entry = {k: v for k, v in row.items() if k not in ("badge",) and not (k == "issued_on" and issued_on)}
        entry["email"] = fields.get("email")
        if "issued_on" in entry:
            issued = fields.get("issued_on")
            entry["issued_on"] = issued.date().isoformat() if issued else entry["issued_on"]
        awards.append(entry)
    if report.has_errors():
        return report, ""
    if not awards:
        report.error("E105", "the roster has no rows", where)
        return report, ""
    doc = {"badge": badge, **({"issued_on": issued_on} if issued_on else {}), "awards": awards}
    relpath = f"content/awards/{badge}-{slugify(csv_path.stem) or 'roster'}.yaml"
    header = f"# Imported from {csv_path.name} by `badgekiln import`.\n"
    ok = _write(project, relpath, header + _dump(doc), report)
    return report, f"wrote {relpath} with {len(awards)} award(s); run `badgekiln build` to publish" if ok else ""
