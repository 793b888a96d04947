"""One award's files, made from its declared sources and nothing else.

`AwardSources` names everything an award's files are made from: the award, its badge and
issuer, the site settings and its signing facts. The renderer receives only that (plus tools
that hold no content), and the build cache's digest is the digest of that same object, so
an input cannot be used without also being part of the digest. Code, templates and library
versions are covered by the cache's fingerprint.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jinja2

from .. import bake, canonical
from ..artifacts import Artifact
from ..credentials import ob2, ob2_revocation
from ..credentials.signing import AwardSigning, award_files
from ..diagnostics import Diagnostic, Report
from ..model.domain import Award, Badge, Endorsement, Issuer, Site
from ..model.routes import Routes
from ..render import pages
from ..render.i18n import Catalogue
from ..render.templates import page


@dataclass(frozen=True)
class AwardSources:
    """Everything one award's files are made from (and so what its cache digest covers)."""

    site: Site
    issuer: Issuer
    badge: Badge
    award: Award
    signing: AwardSigning | None
    endorsements: tuple[Endorsement, ...] = ()  # of its badge, issuer and the award, current at this build

    @functools.cached_property
    def digest(self) -> str:
        return canonical.digest(self)


@dataclass
class AwardRenderer:
    """The tools every award shares (no content of its own), built once and inherited by workers."""

    routes: Routes
    strings: Catalogue
    env: jinja2.Environment
    badge_art: dict[str, tuple[bytes, bytes]]  # badge slug -> (PNG, SVG) to bake, derived from the badge image

    def render(self, sources: AwardSources) -> tuple[list[Artifact], list[Diagnostic]]:
        """All files of one award: independent of every other award, so it runs in any process."""
        site, issuer, badge, award = sources.site, sources.issuer, sources.badge, sources.award
        routes, report = self.routes, Report()
        png, svg = self.badge_art[badge.slug]
        own = [e.url for e in sources.endorsements if e.version == "ob2" and e.endorses("award", award.key)]
        assertion = ob2.assertion(award, badge, routes, own)
        payload = canonical.dumps(assertion)
        files = [Artifact(routes.award_json(award),
                          canonical.json_bytes(ob2_revocation.hosted_assertion(award, assertion)))]
        signed = list(award_files(sources.signing, award, badge, issuer, site, routes,
                                  bake.bake(png, payload, version="ob2"), svg, assertion))
        files += signed
        files.append(Artifact(routes.award_svg(award), bake.bake(svg, payload, version="ob2", verify=assertion["id"])))
        files += page(self.env, site, routes, routes.award_page(award), "award.html", report, **pages.award_context(
            award, badge, issuer, assertion, site, routes, self.strings, published={a.path for a in signed},
            endorsements=sources.endorsements))
        files += page(self.env, site, routes, routes.award_certificate(award), "certificate.html", report,
                      **pages.certificate_context(award, badge, issuer, assertion, site, routes, self.strings))
        return files, report.items
