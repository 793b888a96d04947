"""`new`: write starter content that passes `check`, never overwriting a file (roster_import.py: `import`)."""
from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import yaml

from ..diagnostics import Location, Report, did_you_mean
from ..validate.schema import HOSTS
from ..validate.values import normalise_email, parse_base_url, parse_datetime, parse_slug, slugify
from . import site_skeleton

_EXAMPLE_BASE_URL = "https://badges.example.org/"

_PLACEHOLDER_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
<circle cx="256" cy="256" r="240" fill="{color}"/>
<circle cx="256" cy="256" r="200" fill="none" stroke="#ffffff" stroke-width="12"/>
</svg>
"""


DEFAULT_HOST = "github-pages"  # free, and what most small providers already use
_HOST_LINES = """\
# Where the site is published: every build checks it against that host's limits.
host: %(host)s  # %(hosts)s
# outputs: full  # also publish baked PNG/SVG files per award (default: baked in the browser)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", required=True)
    site = kinds.add_parser("site", help="a new project: content/site.yaml, .gitignore, keys/README.md, a GitHub "
                            "Actions publish workflow and README.md")
    site.add_argument("--title", default="Our Training Badges")
    site.add_argument("--base-url", default=None, help="where the site will be published, e.g. "
                      f"{_EXAMPLE_BASE_URL} (you can set it later in content/site.yaml)")
    site.add_argument("--host", choices=HOSTS, default=None, help="where you will publish it: every build checks "
                      "the site against the host's limits, and the host's deploy file is written (asked on a "
                      f"terminal; default {DEFAULT_HOST})")
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


def _new_site(project: Path, args, report: Report) -> str:
    """A complete project in an empty folder (site_skeleton.py); an existing file is kept, and said."""
    if args.base_url is not None:
        try:
            args.base_url = parse_base_url(args.base_url)
        except ValueError as exc:
            report.error("E206", f"--base-url: {exc}", Location("command line"))
            return ""
    host = args.host or DEFAULT_HOST
    site = dump_yaml({"title": args.title, "base_url": args.base_url or _EXAMPLE_BASE_URL, "language": "en",
                      "description": "Digital badges issued by our training team.",
                      "footer": "Badges are verifiable Open Badges."}) + _HOST_LINES % {
        "host": host, "hosts": " | ".join(HOSTS)}
    wanted = {"content/site.yaml": site,
              **site_skeleton.files(args.title, args.base_url is not None, host, slugify(args.title) or "badges")}
    kept = [path for path in wanted if (project / path).exists()]
    written = [path for path, text in wanted.items() if path not in kept and write_new(project, path, text, report)]
    if not written:
        report.error("E302", "every file of a new site is already there; nothing was written", Location(kept[0]),
                     "to start a new site, run `badgekiln new site` in an empty folder")
        return ""
    lines = [f"wrote {', '.join(written)}"]
    if kept:
        lines.append(f"kept (already there, not overwritten): {', '.join(kept)}")
    if ".gitignore" in kept and (missing := site_skeleton.missing_ignores((project / ".gitignore").read_text())):
        lines.append(f"add these lines to .gitignore (keys/ and learners' emails must stay out of git): "
                     f"{' '.join(missing)}")
    lines.append("The repository holds your learners' emails: keep it private (see README.md). Next:")
    if args.base_url is None:
        lines.append("  set base_url in content/site.yaml to the address you will publish at")
    lines += ["  badgekiln new issuer ID   and   badgekiln new badge ID",
              "  badgekiln keys new        (the signing key, git-ignored; see keys/README.md)",
              "  badgekiln build"]
    return "\n".join(lines)


def write_new(project: Path, relpath: str, text: str, report: Report) -> bool:
    """Write a new file; E302 (and False) if it exists: scaffolding never overwrites anything."""
    path = project / relpath
    if path.exists():
        report.error("E302", f"{relpath} already exists; not overwriting it", Location(relpath),
                     "choose another id or edit the existing file")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


class _ReadmeStyle(yaml.SafeDumper):
    """YAML as README writes it: `  - name:` indented under its key, Markdown as a `|` block, plain dates.

    A file written this way takes an award appended in README's style without a YAML error.
    """

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value.strip() else None)


_ReadmeStyle.add_representer(str, _text)
# dates stay plain (2026-03-02, not '2026-03-02'): content keeps them as text anyway (positioned_yaml.py)
_ReadmeStyle.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()}


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_ReadmeStyle, sort_keys=False, allow_unicode=True, width=100)


def existing_ids(project: Path, folder: str) -> list[str]:
    return sorted(p.stem for p in (project / "content" / folder).glob("*.y*ml"))


def run(project: Path, args) -> tuple[Report, str]:
    report = Report()
    where = Location("command line")
    if args.kind != "site" and not (project / "content/site.yaml").exists():
        report.error("E202", "content/site.yaml is missing", where, "run `badgekiln new site` first")
        return report, ""
    if args.kind == "site":
        return report, _new_site(project, args, report)
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
        text = dump_yaml({"name": args.name or slug.replace("-", " ").title(), "url": args.url, "email": email,
                      "description": "Who we are and what our badges mean."})
        ok = write_new(project, f"content/issuers/{slug}.yaml", text, report)
        return report, f"wrote content/issuers/{slug}.yaml" if ok else ""
    if args.kind == "badge":
        issuers = existing_ids(project, "issuers")
        issuer = args.issuer or (issuers[0] if len(issuers) == 1 else None)
        if issuer not in issuers:
            report.error("E301", f"unknown issuer '{issuer}'", where,
                         did_you_mean(str(issuer), issuers) or "create one with `badgekiln new issuer ID`")
            return report, ""
        image = f"images/{slug}.svg"
        text = dump_yaml({"name": args.name or slug.replace("-", " ").title(), "issuer": issuer,
                      "description": "What this badge recognises.", "image": image,
                      "criteria": "- Attended the full course\n- Passed the final assessment\n",
                      "tags": [], "valid_for": "none"})
        if write_new(project, f"content/badges/{slug}.yaml", text, report):
            write_new(project, f"content/{image}", _PLACEHOLDER_SVG.format(color="#1f4e79"), report)
        return report, f"wrote content/badges/{slug}.yaml and content/{image} (replace the image)"
    # award
    badges = existing_ids(project, "badges")
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
    text = dump_yaml({"badge": slug, "issued_on": issued, "awards": [{"name": name, "email": email}]})
    ok = write_new(project, relpath, text, report)
    return report, f"wrote {relpath}; run `badgekiln build` to publish it" if ok else ""
