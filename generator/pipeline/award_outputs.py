"""One award's files, made from its declared sources and nothing else.

`AwardSources` names everything an award's files are made from: the award, its badge and
issuer, the site settings and its signing facts. The renderer receives only that (plus tools
that hold no content), and the build cache's digest is the digest of that same object, so
an input cannot be used without also being part of the digest (for a frozen credential's award,
its site, issuer, badge and award by the digest they were checked under). Code, templates and
library versions are covered by the cache's fingerprint.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jinja2

from .. import bake, canonical
from ..artifacts import Artifact
from ..credentials import ob2, ob2_revocation
from ..credentials.signing import AwardSigning, rs256_forms
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
        if self.signing is not None and self.signing.inputs is not None:
            # the inputs its credential was checked against digest the site, issuer, badge and award
            # already (signing._memo_inputs): those need not be walked again, 10^5 times
            return canonical.digest([self.signing.digest_form(), self.endorsements])
        return canonical.digest(self)


@dataclass
class AwardRenderer:
    """The tools every award shares (no content of its own), built once and inherited by workers."""

    routes: Routes
    strings: Catalogue
    env: jinja2.Environment
    bake_png: dict[str, bytes]  # badge slug -> the PNG its awards are baked into (`outputs: full`)

    def render(self, sources: AwardSources) -> tuple[list[Artifact], list[Diagnostic]]:
        """All files of one award: independent of every other award, so it runs in any process.

        By default that is its page, its OB 2.0 assertion and its OB 3.0 credential; images are
        baked in the browser from the class art. `outputs: full` adds the baked images.
        """
        site, issuer, badge, award, signing = (sources.site, sources.issuer, sources.badge, sources.award,
                                               sources.signing)
        routes, report = self.routes, Report()
        full = site.outputs == "full"
        own = [e.url for e in sources.endorsements if e.version == "ob2" and e.endorses("award", award.key)]
        assertion = ob2.assertion(award, badge, routes, own, baked_image=full)
        credential = signing.credential(award, badge, issuer, site, routes) if signing is not None else None
        files = [Artifact(routes.award_json(award),
                          canonical.json_bytes(ob2_revocation.hosted_assertion(award, assertion)))]
        if credential is not None:
            files.append(Artifact(routes.award_credential_json(award), canonical.json_bytes(credential)))
        if full:
            files += self._baked_images(award, badge, assertion, credential)
        files += rs256_forms(signing, award, issuer, routes, credential, assertion)
        files += page(self.env, site, routes, routes.award_page(award), "award.html", report, **pages.award_context(
            award, badge, issuer, assertion, site, routes, self.strings, published={a.path for a in files},
            endorsements=sources.endorsements))
        return [Artifact(a.path, a.data, sources.digest) for a in files], report.items

    def _baked_images(self, award: Award, badge: Badge, assertion: dict, credential: dict | None) -> list[Artifact]:
        """`outputs: full`: the baked PNG (both assertions), and for SVG art the two baked SVGs.

        PNG art gets no SVG: a PNG wrapped in an SVG is the same picture again, base64 inflated.
        """
        routes = self.routes
        ob2_payload = canonical.dumps(assertion)
        png = bake.badge_png(self.bake_png[badge.slug], ob2_payload, credential and canonical.dumps(credential))
        files = [Artifact(routes.award_png(award), png)]
        if badge.image.format == "svg":
            svg = badge.image.data
            files.append(Artifact(routes.award_svg(award),
                                  bake.bake(svg, ob2_payload, version="ob2", verify=assertion["id"])))
            if credential is not None:
                files.append(Artifact(routes.award_credential_svg(award),
                                      bake.bake(svg, canonical.dumps(credential), version="ob3")))
        return files
