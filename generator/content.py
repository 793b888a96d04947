"""Load and validate content/ into the domain model.

Stage one reads every file under content/ (the only disk access); stage two validates each
document against its schema; stage three resolves references (issuer, badge, recipient,
image), consults the ledger and returns a `SiteModel`. Every stage reports all it finds.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from . import images, ledger, lifecycle, schema
from .diagnostics import Location, Report, did_you_mean
from .fsio import walk
from .model import Alignment, Award, Badge, Evidence, Issuer, Site, SiteModel, Theme
from .roster import parse_roster
from .schema import Validated
from .yamlload import YList, YMap, load_yaml

CONTENT = "content"
_YAML = (".yaml", ".yml")


@dataclass(frozen=True)
class Sources:
    """Every file under content/, as bytes keyed by project-relative path."""

    files: dict[str, bytes]

    def under(self, folder: str, suffixes: tuple[str, ...]) -> list[tuple[str, bytes]]:
        prefix = f"{CONTENT}/{folder}/"
        return [(p, d) for p, d in sorted(self.files.items())
                if p.startswith(prefix) and p.lower().endswith(suffixes)]


def read_sources(project: Path) -> Sources:
    files = walk(project, CONTENT, (".yaml", ".yml", ".csv", ".png", ".svg", ".json", ".jpg", ".jpeg",
                                    ".gif", ".webp"))
    return Sources({f.path: f.data for f in files})


@dataclass
class _RawAward:
    fields: Validated
    recipient_name: str
    email: str
    show_name: bool
    listed: bool


def _slug_from_path(path: str, report: Report) -> str | None:
    stem = PurePosixPath(path).stem
    try:
        from .values import parse_slug

        return parse_slug(stem)
    except ValueError as exc:
        report.error("E208", f"file name: {exc}", Location(path), "rename the file; its name is the id in URLs")
        return None


def _load_entities(sources: Sources, folder: str, spec: schema.Schema, what: str,
                   report: Report) -> tuple[dict[str, Validated], set[str]]:
    """Valid entities by slug, and every slug that has a file (valid or not, to avoid cascades)."""
    found: dict[str, Validated] = {}
    known: set[str] = set()
    for path, data in sources.under(folder, _YAML):
        slug = _slug_from_path(path, report)
        known.add(slug or PurePosixPath(path).stem)
        errors_before = report.error_count()
        doc = load_yaml(data, path, report)
        if doc is None:
            if report.error_count() == errors_before:
                report.error("E106", f"{what} file is empty", Location(path, 1), "add the fields or delete the file")
            continue
        result = schema.validate(doc, spec, report, Location(path, 1), what)
        if result is None or slug is None:
            continue
        if slug in found:
            report.error("E302", f"{what} '{slug}' is defined twice (also in {found[slug].loc.path})",
                         Location(path, 1), "rename one of the files")
            continue
        found[slug] = result
    return found, known


def _load_recipients(sources: Sources, report: Report) -> tuple[dict[str, Validated], set[str]]:
    people: dict[str, Validated] = {}
    known: set[str] = set()
    for path, data in sources.under("recipients", _YAML):
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
            person = schema.validate(item, schema.RECIPIENT, report, loc, "recipient")
            if person is None:
                continue
            rid = person["id"]
            if rid in people:
                report.error("E302", f"recipient id '{rid}' is used twice (first at {people[rid].loc})",
                             person.at("id"), "give each person a different id")
                continue
            people[rid] = person
    return people, known


def _award_docs(sources: Sources, report: Report) -> list[tuple[YMap, Location]]:
    """Every award mapping in awards/*.yaml and awards/*.csv, with file-level defaults applied."""
    docs: list[tuple[YMap, Location]] = []
    for path, data in sources.under("awards", _YAML + (".csv",)):
        if path.lower().endswith(".csv"):
            rows = parse_roster(data, path, report)
            docs.extend(zip(rows or [], (rows.item_locs if rows else [])))
            continue
        doc = load_yaml(data, path, report)
        if doc is None:
            continue
        top = schema.validate(doc, schema.AWARDS_FILE, report, Location(path, 1), "awards file")
        if top is None or "awards" not in top.values:
            continue
        entries = doc["awards"]
        if not isinstance(entries, YList):
            report.error("E203", "'awards' must be a list", top.at("awards"), "start each award with `- `")
            continue
        for item, loc in zip(entries, entries.item_locs):
            if not isinstance(item, YMap):
                report.error("E106", "each award must be a mapping of keys", loc, "e.g. `- recipient: ada`")
                continue
            merged = YMap({k: v for k, v in doc.items() if k != "awards"})
            merged.update(item)
            merged.loc = item.loc
            merged.key_locs = {**doc.key_locs, **item.key_locs}
            merged.value_locs = {**doc.value_locs, **item.value_locs}
            docs.append((merged, loc))
    return docs


def _validate_awards(sources: Sources, people: dict[str, Validated], known_people: set[str],
                     report: Report) -> list[_RawAward]:
    awards = []
    for doc, loc in _award_docs(sources, report):
        fields = schema.validate(doc, schema.AWARD, report, loc, "award")
        if fields is None:
            continue
        rid, name, email = fields.get("recipient"), fields.get("name"), fields.get("email")
        if rid is not None:
            if name or email:
                report.error("E207", "give either 'recipient' or 'name' and 'email', not both", fields.at("recipient"),
                             "remove name/email: they come from content/recipients/")
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
        else:
            if not name or not email:
                missing = "name" if not name else "email"
                report.error("E202", f"award needs '{missing}' (or 'recipient')", fields.loc,
                             "add `name:` and `email:`, or `recipient: ID` from content/recipients/")
                continue
            show, listed = True, False
        if fields.get("show_name") is not None:
            show = fields["show_name"]
        if fields.get("listed") is not None:
            listed = fields["listed"]
        awards.append(_RawAward(fields, name, email, show, listed))
    return awards


def award_key(badge: str, email: str, award_id: str | None) -> str:
    """Stable ledger key of an award; the email enters only as a hash."""
    person = hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]
    return f"{badge}/{person}" + (f"/{award_id}" if award_id else "")


def _image(sources: Sources, ref: str | None, where: Location, report: Report):
    if ref is None:
        return None
    rel = PurePosixPath(ref)
    if rel.is_absolute() or ".." in rel.parts or "\\" in ref:
        report.error("E401", f"image path '{ref}' must be relative to content/ and stay inside it", where,
                     "write it like images/first-aid.png")
        return None
    path = f"{CONTENT}/{rel.as_posix()}"
    data = sources.files.get(path)
    if data is None:
        candidates = [p[len(CONTENT) + 1:] for p in sources.files if p.lower().endswith((".png", ".svg"))]
        report.error("E401", f"image '{ref}' not found (looked for {path})", where,
                     did_you_mean(ref, candidates) or "put the image under content/images/")
        return None
    return images.inspect(data, path, report, where)


def build_model(sources: Sources, old_ledger: dict[str, ledger.Entry], minter: ledger.Minter,
                now: datetime, report: Report) -> tuple[SiteModel | None, dict[str, ledger.Entry]]:
    """Validate and resolve everything; None (with errors in `report`) when content is unusable."""
    site_path = f"{CONTENT}/site.yaml"
    site_doc = None
    if site_path in sources.files:
        site_doc = load_yaml(sources.files[site_path], site_path, report)
        site_fields = schema.validate(site_doc, schema.SITE, report, Location(site_path, 1), "site.yaml")
    else:
        report.error("E202", "content/site.yaml is missing", Location(site_path),
                     "create it with `python build.py new site` (title and base_url are required)")
        site_fields = None
    issuers_raw, known_issuers = _load_entities(sources, "issuers", schema.ISSUER, "issuer", report)
    badges_raw, known_badges = _load_entities(sources, "badges", schema.BADGE, "badge", report)
    people, known_people = _load_recipients(sources, report)
    awards_raw = _validate_awards(sources, people, known_people, report)

    issuers = []
    for slug, f in sorted(issuers_raw.items()):
        img = _image(sources, f.get("image"), f.at("image"), report)
        if _has(f, "name", "url", "email"):
            issuers.append(Issuer(slug, f["name"], f["url"], f["email"], f["description"], img,
                                  f.get("telephone"), f.loc,
                                  linkedin_organization_id=f.get("linkedin_organization_id")))

    badges = []
    for slug, f in sorted(badges_raw.items()):
        issuer = f.get("issuer")
        if issuer is None:
            if len(known_issuers) == 1:
                issuer = next(iter(known_issuers))
                issuer = issuer if issuer in issuers_raw else None
            else:
                report.error("E202", f"badge '{slug}' needs 'issuer' (there are {len(known_issuers)} issuers)",
                             f.loc, f"add `issuer: {next(iter(sorted(issuers_raw)), 'ID')}`")
        elif issuer not in issuers_raw:
            if issuer not in known_issuers:
                    report.error("E301", f"unknown issuer '{issuer}'", f.at("issuer"),
                             did_you_mean(issuer, issuers_raw) or "add a file content/issuers/<id>.yaml")
            issuer = None
        img = _image(sources, f.get("image"), f.at("image"), report)
        if img is not None and img.width != img.height:
            report.warning("W202", f"badge image is {img.width}x{img.height}, not square", f.at("image"),
                           "badge displays crop to a square; use a square image")
        if issuer is None or img is None or not _has(f, "name", "description", "criteria"):
            continue
        alignments = tuple(Alignment(a["name"], a["url"], a.get("description"), a.get("framework"), a.get("code"))
                           for a in f["alignments"])
        renewal = lifecycle.rule_of(f, report)  # CPD renewal rule (None if absent or broken)
        badges.append(Badge(slug, f["name"], issuer, f["description"], img, f["criteria"], f.get("criteria_url"),
                            tuple(f["tags"]), alignments, f.get("credits"), f["achievement_type"],
                            f.get("valid_for"), f.loc, renewal))
    badge_by_slug = {b.slug: b for b in badges}

    wanted: list[ledger.Wanted] = []
    keyed: dict[str, _RawAward] = {}
    lifecycles: dict[str, lifecycle.Lifecycle] = {}  # revocation, suspension, CPD log
    for raw in awards_raw:
        f = raw.fields
        slug = f.get("badge")
        if slug not in badge_by_slug:
            if slug not in known_badges:
                report.error("E301", f"unknown badge '{slug}'", f.at("badge"),
                             did_you_mean(slug, badges_raw) or "add a file content/badges/<id>.yaml")
            continue
        if "issued_on" not in f.values:
            continue
        key = award_key(slug, raw.email, f.get("id"))
        if key in keyed:
            first = keyed[key].fields.loc
            report.error("E302", f"{raw.recipient_name} has badge '{slug}' twice (first at {first})", f.loc,
                         "remove the duplicate, or give each award a distinct `id:` if both are real")
            continue
        issued = f["issued_on"]
        if issued > now:
            report.error("E204", f"issued_on {issued.date()} is in the future", f.at("issued_on"),
                         "validators reject badges issued in the future; use the completion date")
            continue
        badge = badge_by_slug[slug]
        explicit = f.get("expires")
        policy = badge.valid_for or (badge.renewal.every if badge.renewal else None)  # renewal implies expiry
        expires = explicit if explicit is not None else (policy.after(issued) if policy else None)
        if expires is not None and expires <= issued:
            report.error("E307", "expires is not after issued_on", f.at("expires") if explicit else f.loc,
                         "an award must be valid for some time after it is issued")
            continue
        keyed[key] = raw
        wanted.append(ledger.Wanted(key, slug, issued, expires, explicit is not None, f.loc))
        lifecycles[key] = lifecycle.parse(f, badge, issued, now, report)
    plans, renewals = lifecycle.renewal_wants(wanted, lifecycles, badge_by_slug, old_ledger)
    wanted.extend(renewals)  # each CPD renewal is its own ledger entry (own slug, salt, status index)

    if site_fields is not None and site_fields.get("public_repository") and any(
            p.startswith((f"{CONTENT}/recipients/", f"{CONTENT}/awards/")) for p in sources.files):
        report.warning("W101", "site.yaml says the source repository is public, but content/ holds recipient "
                       "names and emails", site_fields.at("public_repository"),
                       "make the repository private (see README: Deploying without publishing emails)")

    new_ledger = ledger.reconcile(old_ledger, wanted, minter, report, check_removed=not report.has_errors())
    if report.has_errors() or site_fields is None:
        return None, new_ledger

    theme_f = site_fields.get("theme")
    theme = Theme(
        theme_f["primary_color"] if theme_f else "#1f4e79", theme_f["accent_color"] if theme_f else "#c8102e",
        _image(sources, theme_f.get("logo"), theme_f.at("logo"), report) if theme_f else None)
    site = Site(site_fields["title"], site_fields["base_url"], site_fields["language"], site_fields["description"],
                theme, site_fields["footer"], site_fields.get("contact_email"), site_fields.get("privacy_url"),
                site_fields["public_repository"],
                **_signing_options(site_fields.get("signing")))
    awards = []
    for key, raw in keyed.items():
        entry = new_ledger[key]
        f = raw.fields
        evidence = tuple(Evidence(e.get("url"), e.get("name"), e.get("description")) for e in f["evidence"])
        award = Award(key, f["badge"], raw.recipient_name, raw.email, raw.show_name, raw.listed, evidence,
                      f.get("narrative"), f.loc, entry.slug, entry.salt, entry.issued_on, entry.expires)
        awards.extend(lifecycle.chain(award, lifecycles.get(key), plans.get(key), badge_by_slug[award.badge],
                                      new_ledger))
    awards.sort(key=lambda a: (a.issued_on, a.slug))
    if report.has_errors():
        return None, new_ledger
    return SiteModel(site, tuple(issuers), tuple(badges), tuple(awards)), new_ledger


def _signing_options(signing: Validated | None) -> dict:
    if not signing:
        return {}
    return {"vc_jwt": bool(signing["vc_jwt"]), "ob2_signed": bool(signing["ob2_signed"]),
            "credential_status": signing["credential_status"]}


def _has(fields: Validated, *names: str) -> bool:
    return all(fields.get(n) is not None for n in names)
