"""`check-live`: after a deploy, is the live site this build, and is it served the way verifiers need?

It fetches the published files from base_url (or a URL given) and compares each with the local
build byte for byte: every shared file (pages, issuer and badge documents, the DID document,
the status lists, assets) and the files of a sample of awards (the newest, and every revoked
or suspended one, whose files changed). It reports, with the fix for each host (README,
"Checking a deploy"):

- a missing or unreachable file, a missing DID document, unreachable status lists;
- a file that differs from the local build: a CDN's stale copy when a cache-busting fetch gets
  the new one, else a deploy that did not happen (or a host that rewrites files);
- a wrong Content-Type (JSON as application/json, SVG as image/svg+xml, PNG as image/png ...);
- JSON without Access-Control-Allow-Origin, which other sites' verifiers need to read it.

When every compared file is the local build's, the build's record of what each award shows
(written by `build`, model/published.py) is recorded as live in .badgekiln-cache/live.json,
and `notify` announces only what that record shows. Otherwise the record is removed.
"""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from .. import api
from ..atomic_write import write_file_atomic
from ..diagnostics import Report
from ..model.domain import Award, SiteModel
from ..model.routes import Routes
from ..validate.values import format_datetime, parse_base_url
from ..verify.fetch import FetchError, Response, http_get

DEFAULT_SAMPLE = 20
WORKERS = 8
ORIGIN = "https://verifier.example"  # a foreign site asking, so the host answers with its CORS header
GUIDE = "README.md#checking-a-deploy"
# markers for the writer and GitHub Pages, and hosts' own settings (Netlify, Cloudflare Pages): never served
NOT_COMPARED = {".badgekiln-site", ".nojekyll", "_headers", "_redirects"}
CONTENT_TYPES = {".json": ("application/json", "application/ld+json"), ".svg": ("image/svg+xml",),
                 ".png": ("image/png",), ".html": ("text/html",), ".css": ("text/css",),
                 ".js": ("text/javascript", "application/javascript")}


class CheckLiveError(Exception):
    """check-live cannot start (no local build, a bad URL); the message says what to do."""


# What to do about each kind of problem, per host; README's "Checking a deploy" has the details.
FIXES = {
    "missing": "deploy the whole built folder: GitHub Pages, upload all of _site/ (the README workflow); Netlify "
               "and Cloudflare Pages, publish directory _site; S3, `aws s3 sync _site s3://BUCKET --delete`; "
               "nginx, copy _site/ to the web root",
    "did": "GitHub Pages skips dot-folders without .nojekyll (Badgekiln writes it: deploy it too, and let the "
           "upload step include hidden files); nginx, allow `location /.well-known/` before any `location ~ /\\.` "
           "deny rule; S3 and Netlify publish it as is",
    "status": "verifiers read revocation and suspension here: deploy status/ with the rest (a sync that "
              "excludes or deletes it breaks every credential's status check)",
    "stale": "a cache in front of the host serves an old copy: CloudFront, `aws cloudfront create-invalidation "
             "--distribution-id ID --paths '/*'`; Cloudflare, Caching > Purge Everything; GitHub Pages and "
             "Netlify, wait a few minutes and run check-live again",
    "differs": "the host serves another file than this build: deploy again (check the deploy job's log), or "
               "turn off what rewrites files (Cloudflare Auto Minify or Email Obfuscation)",
    "type": "GitHub Pages, Netlify and Cloudflare Pages type files by extension (remove any custom header rule "
            "that overrides it); S3, upload with `aws s3 sync` (it sets types from extensions) or "
            "`--content-type`; nginx, `include mime.types;` with `application/json json;`",
    "cors": "GitHub Pages sends it already; Netlify, add `[[headers]] for = \"/*\"` with "
            "`Access-Control-Allow-Origin = \"*\"` to netlify.toml; Cloudflare Pages, a `_headers` file; "
            "S3, a CORS rule allowing GET from *; nginx, `add_header Access-Control-Allow-Origin *;`",
    "unreachable": "check the URL and that the site is up (and reachable from here); then run check-live again",
}


@dataclass
class Problem:
    kind: str  # a key of FIXES
    severity: str  # "error" | "warning"
    message: str
    paths: list[str] = field(default_factory=list)

    @property
    def fix(self) -> str:
        return FIXES[self.kind]


@dataclass
class LiveCheck:
    """What check-live found; `live` is True when every compared file is the local build's."""

    url: str
    site: Path
    compared: int = 0
    shared: int = 0
    awards: int = 0
    problems: list[Problem] = field(default_factory=list)
    recorded: Path | None = None  # the live record written for notify
    unrecorded_why: str = ""

    @property
    def live(self) -> bool:
        return not any(p.kind in ("missing", "did", "status", "stale", "differs", "unreachable")
                       for p in self.problems)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def add_arguments(sub) -> None:
    p = sub.add_parser("check-live", help="after a deploy: compare the live site with this build, record it for notify",
                       description="Fetch the published site and compare it with the local build, byte for byte.",
                       epilog=f"exit codes: 0 the live site is this build, 1 problems found, 2 usage. See {GUIDE}.")
    p.add_argument("url", nargs="?", help="where the site is served (default: base_url in site.yaml)")
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N",
                   help=f"also compare N awards' files, newest first (default {DEFAULT_SAMPLE}); "
                        "revoked and suspended awards are always compared")
    p.add_argument("--site", type=Path, default=None, help="the local build (default: _site)")


def run(project: Path, url: str | None = None, sample: int = DEFAULT_SAMPLE, site: Path | None = None,
        fetch: Callable[[str, dict[str, str]], Response] = http_get) -> tuple[Report, LiveCheck | None]:
    """Compare the live site with the local build; record it as live for notify when they agree."""
    report = Report()
    checked = api.check(project, render=False)
    if checked.model is None:
        report.extend(checked.diagnostics)
        return report, None
    model = checked.model
    folder = (site or project / "_site").resolve()
    if not folder.is_dir():
        raise CheckLiveError(f"there is no local build in {folder}: run `badgekiln build`, deploy, then check-live")
    if sample < 0:
        raise CheckLiveError("--sample must be 0 or more")
    try:
        base = parse_base_url(url) if url else model.site.base_url
    except ValueError as exc:
        raise CheckLiveError(f"{url}: {exc}") from None
    base = base if base.endswith("/") else base + "/"
    result = LiveCheck(base, folder)
    routes = Routes(model.site.base_url)
    files = _local_files(folder)
    award_files = {a.key: [p for p in routes.award_paths(a) if p in files] for a in model.awards}
    owned = {p for paths in award_files.values() for p in paths}
    shared = sorted(p for p in files if p not in owned)
    sampled = _sample(model, sample)
    chosen = [p for a in sampled for p in award_files[a.key]]
    result.shared, result.awards = len(shared), len(sampled)
    targets = shared + chosen
    result.compared = len(targets)
    outcomes = _fetch_all(base, targets, fetch)
    _judge(result, folder, routes, outcomes, fetch)
    _record(project, folder, result, checked.model)
    return report, result


def _local_files(folder: Path) -> set[str]:
    found = set()
    for root, _dirs, names in os.walk(folder):
        for name in names:
            rel = Path(root, name).relative_to(folder).as_posix()
            if rel not in NOT_COMPARED:
                found.add(rel)
    return found


def _sample(model: SiteModel, size: int) -> list[Award]:
    """The newest `size` awards, and every withdrawn one (its files changed when it was withdrawn)."""
    newest = sorted(model.awards, key=lambda a: (a.issued_on, a.slug), reverse=True)[:size]
    withdrawn = [a for a in model.awards if a.revocation is not None or a.suspension is not None]
    return list({a.key: a for a in [*newest, *withdrawn]}.values())


def _url(base: str, path: str) -> str:
    """The URL a static host serves an output path at (x/index.html at x/)."""
    return Routes(base).url(path)


def _fetch_all(base: str, paths: list[str], fetch) -> dict[str, Response | FetchError]:
    def one(path: str) -> tuple[str, Response | FetchError]:
        try:
            return path, fetch(_url(base, path), {"Origin": ORIGIN, "Accept": "*/*"})
        except FetchError as exc:
            return path, exc

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, paths))


def _judge(result: LiveCheck, folder: Path, routes: Routes, outcomes: dict, fetch) -> None:
    """Sort every fetched file into the problems it shows (grouped by kind)."""
    groups: dict[str, list[str]] = {}
    details: dict[str, list[str]] = {}
    did = routes.did_document()
    for path in sorted(outcomes):
        answer = outcomes[path]
        local = (folder / path).read_bytes()
        if isinstance(answer, FetchError):
            groups.setdefault("unreachable", []).append(path)
            details.setdefault("unreachable", []).append(str(answer))
            continue
        if answer.status != 200:
            kind = "did" if path == did else "status" if path.startswith("status/") else "missing"
            groups.setdefault(kind, []).append(f"{path} (HTTP {answer.status})")
            continue
        if answer.body != local:
            kind = "stale" if _fresh_copy_matches(result.url, path, local, fetch) else "differs"
            groups.setdefault(kind, []).append(path)
        expected = CONTENT_TYPES.get(Path(path).suffix)
        served = answer.header("Content-Type").split(";")[0].strip().lower()
        if expected and served not in expected:
            groups.setdefault("type", []).append(f"{path} as {served or 'no type'} (expected {expected[0]})")
        if path.endswith(".json") and not answer.header("Access-Control-Allow-Origin"):
            groups.setdefault("cors", []).append(path)
    messages = {
        "unreachable": lambda n: f"{n} file(s) could not be fetched ({(details['unreachable'] or [''])[0]})",
        "missing": lambda n: f"{n} file(s) of the local build are missing on the live site",
        "did": lambda n: f"the DID document /{did} is missing: no signed credential of this site verifies",
        "status": lambda n: f"{n} status list(s) cannot be fetched: verifiers cannot check revocation",
        "stale": lambda n: f"{n} file(s) are stale copies: the host has this build's files, a cache serves old ones",
        "differs": lambda n: f"{n} file(s) differ from the local build: this build is not (all) deployed",
        "type": lambda n: f"{n} file(s) are served with the wrong Content-Type",
        "cors": lambda n: f"{n} JSON file(s) are served without Access-Control-Allow-Origin, so verifiers on other "
                          "sites (wallets, the 1EdTech validator in a browser) cannot read them",
    }
    for kind in ("unreachable", "did", "status", "missing", "stale", "differs", "type", "cors"):
        if kind in groups:
            severity = "warning" if kind == "cors" else "error"
            result.problems.append(Problem(kind, severity, messages[kind](len(groups[kind])), groups[kind]))


def _fresh_copy_matches(base: str, path: str, local: bytes, fetch) -> bool:
    """Whether the host itself has the local file (asked past any cache), so the old one is a cache's."""
    url = _url(base, path)
    url += ("&" if urlsplit(url).query else "?") + f"badgekiln-check-live={secrets.token_hex(6)}"
    try:
        answer = fetch(url, {"Cache-Control": "no-cache", "Pragma": "no-cache", "Origin": ORIGIN})
    except FetchError:
        return False
    return answer.status == 200 and answer.body == local


def _record(project: Path, folder: Path, result: LiveCheck, model: SiteModel) -> None:
    """Record the build as live for notify (what each award shows), or remove an older record."""
    path = api.live_record_path(project)
    built = api.site_record(project, folder)
    if result.live and built is not None and built.get("base_url") == model.site.base_url:
        record = {**built, "url": result.url, "checked": format_datetime(datetime.now(timezone.utc)),
                  "site": str(folder)}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, json.dumps(record, indent=1, sort_keys=True).encode("utf-8") + b"\n")
        result.recorded = path
        return
    path.unlink(missing_ok=True)
    if not result.live:
        result.unrecorded_why = "the live site is not this build"
    elif built is None:
        result.unrecorded_why = f"{folder} has no record of what it shows (build it again with `badgekiln build`)"
    else:
        result.unrecorded_why = (f"{folder} was built for {built.get('base_url')}, not for base_url "
                                 f"{model.site.base_url} (a preview?); build it with `badgekiln build`")


def load_live(project: Path) -> dict | None:
    """The build check-live last found live (see _record), or None."""
    try:
        record = json.loads(api.live_record_path(project).read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("awards"), dict) else None


def format_text(result: LiveCheck) -> str:
    """The report a person reads: what was compared, each problem with its files and fix, the outcome."""
    lines = [f"check-live: {result.url} against {result.site} ({result.shared} shared file(s) and "
             f"{result.awards} award(s)' files: {result.compared} file(s) compared)"]
    for problem in result.problems:
        lines.append(f"{problem.severity}: {problem.message}")
        lines += [f"  {path}" for path in problem.paths[:5]]
        if len(problem.paths) > 5:
            lines.append(f"  ... and {len(problem.paths) - 5} more")
        lines.append(f"  fix: {problem.fix} ({GUIDE})")
    if result.recorded is not None:
        lines.append(f"The live site is this build: recorded for notify in {result.recorded.name} "
                     "(.badgekiln-cache/).")
    else:
        lines.append(f"Not recorded as live: {result.unrecorded_why}; notify will not announce changes until "
                     "check-live finds them online.")
    return "\n".join(lines)
