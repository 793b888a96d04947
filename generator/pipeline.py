"""The build pipeline: load -> validate -> model -> bake -> render, as data, no disk writes.

`prepare()` runs the checking stages and returns the model and the ledger after this build;
`artifacts()` then yields `(output path, bytes)` one file at a time, in a fixed order, so the
writer can stream a 100k-award site to disk without holding it in memory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import jinja2

from . import revocation, statuslist
from . import bake, canonical, content, i18n, images, ledger, ob2, pages, parallel, render
from . import buildcache, keys, signing
from .diagnostics import Diagnostic, Location, Report
from .model import SiteModel
from .routes import Routes
from .writer import Reused


def now_from_env() -> datetime:
    """The one clock: SOURCE_DATE_EPOCH when set (reproducible builds), else the wall clock.

    It decides "is this date in the future?" and dates what is minted once into the ledger
    (a credential proof's `created`); it reaches the output only through the ledger.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    return datetime.now(timezone.utc)


@dataclass
class Options:
    base_url: str | None = None  # overrides site.yaml (local previews)
    frozen: bool = False  # CI: the ledger must not change
    strict: bool = False  # warnings count as errors
    now: datetime = field(default_factory=now_from_env)
    minter: ledger.Minter = field(default_factory=ledger.SecretsMinter)
    keyring: keys.Keyring | None = None  # None: keys/ and $BADGEKILN_SIGNING_KEYS
    reissue: bool = False  # re-sign issued credentials whose content changed (else E502)


@dataclass
class Prepared:
    project: Path
    model: SiteModel | None
    ledger_before: bytes | None
    ledger_after: bytes
    report: Report
    signing: signing.State | None = None

    @property
    def ledger_changed(self) -> bool:
        return self.ledger_before != self.ledger_after

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.report.sorted()


def prepare(project: Path, options: Options) -> Prepared:
    report = Report()
    sources = content.read_sources(project)
    before = sources.files.get(ledger.LEDGER_PATH)
    old = ledger.parse(before, report)
    model, entries = content.build_model(sources, old, options.minter, options.now, report)
    preview = model is not None and options.base_url not in (None, model.site.base_url)
    if model is not None and options.base_url:
        model = replace(model, site=replace(model.site, base_url=options.base_url))
    signed = signing.prepare(project, model, entries, before, options, report, preview=preview)
    after = ledger.serialise(signed.entries, signed.registry)
    if options.frozen and before != after and not report.has_errors():
        added = sorted(set(entries) - set(old))
        what = (f"add {len(added)} award(s) to the ledger ({', '.join(added[:3])}{', ...' if len(added) > 3 else ''})"
                if added else "record new credential signatures or signing keys in the ledger")
        report.error("E304", f"--frozen: this build would {what}", Location(ledger.LEDGER_PATH),
                     "run `python build.py` locally and commit content/ledger.json")
    if report.has_errors(options.strict):
        model = None
    return Prepared(project, model, before, after, report, signed.state)


@dataclass
class _Context:
    """What every page and file of one build needs; built once, shared with worker processes."""

    prepared: Prepared
    routes: Routes
    strings: i18n.Catalogue
    env: jinja2.Environment
    badge_images: dict[str, tuple[bytes, bytes]]  # badge slug -> (PNG, SVG) to bake

    def page(self, path: str, template: str, report: Report, **context) -> Iterator[tuple[str, bytes]]:
        # no `model` here: an award's pages may depend on that award's inputs only (buildcache.py)
        base = {"site": self.prepared.model.site, "routes": self.routes, "page_path": path}
        html = render.render(self.env, template, {**base, **context}, report)
        if html is not None:
            yield path, html


def artifacts(prepared: Prepared, jobs: int | None = None,
              cache: buildcache.Cache | None = None) -> Iterator[tuple[str, bytes | Reused]]:
    """Every output file of the site. Template errors go to the report (the writer then aborts).

    With a `cache`, an award whose inputs are unchanged yields its previous files as `Reused`.
    """
    model, report = prepared.model, prepared.report
    assert model is not None
    routes = Routes(model.site.base_url)
    strings = i18n.for_site(prepared.project, model.site.language, report)
    ctx = _Context(prepared, routes, strings, render.environment(prepared.project, strings),
                   {b.slug: (images.png_for(b.image), images.svg_for(b.image)) for b in model.badges})

    yield ".nojekyll", b""
    yield from _static_assets(prepared.project)
    yield from pages.site_files(model.site, routes)
    if model.site.theme.logo:
        yield f"{routes.site_logo}.{model.site.theme.logo.format}", model.site.theme.logo.data
    yield from ctx.page(routes.index, "index.html", report, model=model, **pages.index_context(model, routes))
    yield from ctx.page(routes.not_found, "404.html", report)
    yield from ctx.page(routes.verify_page, "verify.html", report, **pages.verify_context(routes))
    yield from signing.site_files(prepared.signing, model, routes)
    for issuer in model.issuers:
        yield routes.issuer_json(issuer), canonical.json_bytes(
            signing.ob2_issuer_profile(prepared.signing, issuer, ob2.issuer_profile(issuer, routes), routes))
        if issuer.image:
            yield routes.issuer_image(issuer), issuer.image.data
        yield from ctx.page(routes.issuer_page(issuer), "issuer.html", report,
                            **pages.issuer_context(issuer, model, routes))
        yield routes.ob2_revocation_list(issuer), canonical.json_bytes(revocation.revocation_list(
            issuer, [a for a in model.awards if model.badge(a.badge).issuer == issuer.slug], routes))
    yield from statuslist.status_files(prepared.signing, model, routes)
    for badge in model.badges:
        yield routes.badge_json(badge), canonical.json_bytes(ob2.badge_class(badge, model, routes))
        yield routes.badge_image(badge), badge.image.data
        yield from ctx.page(routes.badge_page(badge), "badge.html", report, **pages.badge_context(
            badge, model.issuer(badge.issuer), model.awards_of(badge.slug), model.site, routes, strings))
        yield from pages.badge_files(badge, model.issuer(badge.issuer), model.site, routes, strings)
    yield from _all_award_outputs(ctx, jobs, cache)


def _all_award_outputs(ctx: _Context, jobs: int | None, cache: buildcache.Cache | None):
    """Every award's files in model order: reused from the cache, or rendered (in parallel)."""
    model, report = ctx.prepared.model, ctx.prepared.report
    indexes = range(len(model.awards))
    if cache is None:
        for files, diagnostics in parallel.map_ordered(_award_outputs, ctx, indexes, jobs):
            report.extend(diagnostics)
            yield from files
        return
    inputs = _AwardInputs(ctx)
    keys = [inputs.digest(model.awards[i]) for i in indexes]
    reused = [cache.reusable(key) for key in keys]
    rendered = parallel.map_ordered(_award_outputs, ctx, [i for i in indexes if reused[i] is None], jobs)
    for index, key in enumerate(keys):
        files, diagnostics = (reused[index], []) if reused[index] is not None else next(rendered)
        report.extend(diagnostics)
        if not diagnostics:
            cache.record(key, [path for path, _ in files])
        yield from files


class _AwardInputs:
    """The digest of everything one award's files depend on (see buildcache.py)."""

    def __init__(self, ctx: _Context):
        model, self.state = ctx.prepared.model, ctx.prepared.signing
        self.shared = buildcache.digest([model.site, self.state and [self.state.did, self.state.preview,
                                                                     self.state.vc_jwt, self.state.ob2_signed]])
        self.badges = {b.slug: buildcache.digest(b) for b in model.badges}
        self.issuers = {i.slug: buildcache.digest(i) for i in model.issuers}
        self.badge_issuer = {b.slug: b.issuer for b in model.badges}

    def digest(self, award) -> str:
        issuer = self.badge_issuer[award.badge]
        signer = self.state.signer_for(issuer) if self.state else None
        record = self.state.records.get(award.key) if self.state else None
        return buildcache.digest([self.shared, self.badges[award.badge], self.issuers[issuer], award, record,
                                  signer.key_id if signer else None])


def _award_outputs(ctx: _Context, index: int) -> tuple[list[tuple[str, bytes]], list[Diagnostic]]:
    """All files of one award: independent of every other award, so it runs in any process."""
    model, routes, report = ctx.prepared.model, ctx.routes, Report()
    award = model.awards[index]
    badge = model.badge(award.badge)
    issuer = model.issuer(badge.issuer)
    png, svg = ctx.badge_images[badge.slug]
    assertion = ob2.assertion(award, badge, routes)
    payload = canonical.dumps(assertion)
    files = [(routes.award_json(award), canonical.json_bytes(revocation.hosted_assertion(award, assertion)))]
    signed = list(signing.award_files(ctx.prepared.signing, award, badge, model, routes,
                                      bake.bake(png, payload, version="ob2"), svg, assertion))
    files += signed
    files.append((routes.award_svg(award), bake.bake(svg, payload, version="ob2", verify=assertion["id"])))
    files += ctx.page(routes.award_page(award), "award.html", report, **pages.award_context(
        award, badge, issuer, assertion, model.site, routes, ctx.strings, published={p for p, _ in signed}))
    files += ctx.page(routes.award_certificate(award), "certificate.html", report, **pages.certificate_context(
        award, badge, issuer, assertion, model.site, routes, ctx.strings))
    return files, report.items


def _static_assets(project: Path) -> Iterator[tuple[str, bytes]]:
    """templates/assets/* (project copy first), published under /assets/."""
    seen: dict[str, bytes] = {}
    for folder in (render.BUILTIN_TEMPLATES / "assets", project / "templates" / "assets"):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    seen[f"assets/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    yield from sorted(seen.items())
