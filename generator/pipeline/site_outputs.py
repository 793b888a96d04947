"""The site's shared files: assets, index, issuers, badges, keys and status lists.

Unlike an award's files these read the whole model (the index lists every badge, a status
list covers every award of its issuer), so they are made fresh on every build; only those drawn
from images (slow to draw) are kept while what they are drawn from is the same.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import jinja2

from .. import canonical
from ..artifacts import SHARED, Artifact, Reused
from ..credentials import ob2, ob2_revocation, signing, status_lists
from ..diagnostics import Report
from ..load import images
from ..model.domain import SiteModel
from ..model.routes import Routes
from ..render import pages, templates
from ..render.i18n import Catalogue
from . import hosts
from .site_state import SiteState


def site_artifacts(project: Path, model: SiteModel, state: signing.SigningState | None, routes: Routes,
                   strings: Catalogue, env: jinja2.Environment, report: Report,
                   site_state: SiteState | None = None) -> Iterator[Artifact]:
    """Every file that is not one award's, in a fixed order. Template errors go to `report`.

    The link-preview images (slow to draw) are kept from the last build when what they are
    drawn from is unchanged (`site_state`); everything else here is cheap and made afresh.
    """
    site = model.site

    def page(path: str, template: str, **context) -> Iterator[Artifact]:
        return templates.page(env, site, routes, path, template, report, **context)

    yield Artifact(".nojekyll", b"")
    if hosts.PROFILES[site.host].headers_file:
        yield Artifact("_headers", hosts.headers_file(routes.did_document()))
    yield from static_assets(project)
    yield from pages.site_files(site, routes)
    yield Artifact(routes.script_strings, pages.strings_script(strings))
    if site.theme.logo:
        yield Artifact(f"{routes.site_logo}.{site.theme.logo.format}", site.theme.logo.data)
    counts = pages.holder_counts(model)
    yield from page(routes.index, "index.html", model=model, **pages.index_context(model, routes, counts))
    yield from page(routes.not_found, "404.html")
    yield from page(routes.verify_page, "verify.html", **pages.verify_context(routes))
    yield from signing.site_files(state, model, routes)
    given = list(signing.given_endorsement_files(state, model, routes))
    yield from given
    if model.given:
        yield from page(routes.given_endorsements_page, "endorsements.html",
                        **pages.given_context(model, routes, {a.path for a in given}))
    for issuer in model.issuers:
        profile = ob2.issuer_profile(issuer, routes, ob2.endorsement_urls(model, "issuer", issuer.slug))
        yield Artifact(routes.issuer_json(issuer), canonical.json_bytes(
            signing.ob2_issuer_profile(state, issuer, profile, routes)))
        if issuer.image:
            yield Artifact(routes.issuer_image(issuer), issuer.image.data)
        yield from page(routes.issuer_page(issuer), "issuer.html",
                        **pages.issuer_context(issuer, model, routes, counts))
        yield Artifact(routes.ob2_revocation_list(issuer), canonical.json_bytes(ob2_revocation.revocation_list(
            issuer, [a for a in model.awards if model.badge(a.badge).issuer == issuer.slug], routes)))
    yield from status_lists.status_files(state, model, routes)
    for badge in model.badges:
        issuer = model.issuer(badge.issuer)
        yield Artifact(routes.badge_json(badge), canonical.json_bytes(ob2.badge_class(badge, model, routes)))
        yield Artifact(routes.badge_image(badge), badge.image.data)
        if badge.image.format != "png":  # the raster the award page bakes the PNG download into
            yield from _kept_or_made(site_state, SHARED + canonical.digest(["raster", badge.image]), lambda b=badge: [
                Artifact(routes.badge_bake_png(b), images.png_for(b.image))])
        yield from page(routes.badge_page(badge), "badge.html", **pages.badge_context(
            badge, issuer, model.awards_of(badge.slug), site, routes, strings,
            model.endorsements_of("badge", badge.slug)), **pages.pathway_context(badge, model, routes, strings))
        yield from _share_image(badge, issuer, site, routes, strings, site_state)


def static_assets(project: Path) -> Iterator[Artifact]:
    """templates/assets/* (the project's copy first), published under /assets/."""
    seen: dict[str, bytes] = {}
    for folder in (templates.BUILTIN_TEMPLATES / "assets", project / "templates" / "assets"):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    seen[f"assets/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    yield from (Artifact(path, data) for path, data in sorted(seen.items()))


def _share_image(badge, issuer, site, routes: Routes, strings: Catalogue,
                 site_state: SiteState | None) -> Iterator[Artifact]:
    owner = SHARED + canonical.digest([badge.image, pages.share_image_inputs(badge, issuer, site, strings)])
    yield from _kept_or_made(site_state, owner, lambda: pages.badge_files(badge, issuer, site, routes, strings))


def _kept_or_made(site_state: SiteState | None, owner: str, make: Callable[[], Iterable[Artifact]]
                  ) -> Iterator[Artifact]:
    """Shared files drawn from images (slow to make): as the last build made them, when their
    inputs (digested in `owner`) are the same and the files untouched; else made."""
    if site_state is not None and site_state.reusable(owner):
        for path, size in next(site_state.files_each([owner])):
            yield Artifact(path, Reused(os.path.join(site_state.root, path), size), owner)
        return
    yield from (Artifact(a.path, a.data, owner) for a in make())
