"""Every output file of a checked project, in a fixed order, one at a time.

Shared files first, then each award's files in model order: left as the previous build made
them when its sources are unchanged (one `Kept` item for all of them; site_state.py),
otherwise rendered, in parallel across the cores (parallel.py). Files are yielded as they are
made, so the writer streams the site to disk and a 100k-award site is never held in memory whole.
"""
from __future__ import annotations

from typing import Iterator

from ..artifacts import Artifact, Kept
from ..load import images
from ..model.routes import Routes, shard_of
from ..render import i18n, templates
from . import parallel
from .award_outputs import AwardRenderer, AwardSources
from .check import CheckResult
from .site_outputs import site_artifacts
from .site_state import CACHE_DIR, SiteState

SITE_FILES = "site pages and status lists"


def all_artifacts(checked: CheckResult, state: SiteState | None = None, jobs: int | None = None) -> Iterator[Artifact]:
    """The whole site. Template errors go to the report (the writer then aborts)."""
    model, report = checked.model, checked.report
    assert model is not None, "all_artifacts() needs a project that checked without errors"
    routes = Routes(model.site.base_url)
    checked.options.report_progress(SITE_FILES, 0, 0)
    strings = i18n.for_site(checked.project, model.site.language, report)
    env = templates.environment(checked.project, strings,  # compiled once per template source (when incremental)
                                compiled=checked.project / CACHE_DIR / "templates" if checked.options.incremental
                                else None)
    yield from site_artifacts(checked.project, model, checked.signing, routes, strings, env, report, state)
    checked.options.report_progress(SITE_FILES, 1, 1)
    bake_png = {b.slug: images.png_for(b.image) for b in model.badges} if model.site.outputs == "full" else {}
    renderer = AwardRenderer(routes, strings, env, bake_png)
    yield from _award_artifacts(checked, renderer, state, jobs)


class AwardSourcing:
    """What each award's files are made from (`AwardSources`), by its position among the awards
    this build publishes (every award in model order, or its shard's): made when asked for, so a
    build holds their digests, not 10^5 sources at once (a tenth of a first build's memory)."""

    def __init__(self, checked: CheckResult):
        model = self.model = checked.model
        self.signing = checked.signing
        self.awards = model.awards
        if checked.options.shard is not None:  # a CI matrix job: only this shard's awards (merge.py joins them)
            index, count = checked.options.shard
            self.awards = tuple(a for a in model.awards if shard_of(a.slug, count) == index)
        # each badge with its issuer and the endorsements every award of it shares, found once
        self.shared = {b.slug: (b, issuer, model.endorsements_of("badge", b.slug)
                                + model.endorsements_of("issuer", issuer.slug))
                       for b in model.badges for issuer in [model.issuer(b.issuer)]}

    def __len__(self) -> int:
        return len(self.awards)

    def __getitem__(self, index: int) -> AwardSources:
        award = self.awards[index]
        badge, issuer, endorsements = self.shared[award.badge]
        if own := self.model.endorsements_of("award", award.key):
            endorsements += own
        signing = self.signing.for_award(award, issuer) if self.signing is not None else None
        return AwardSources(self.model.site, issuer, badge, award, signing, endorsements)


class _AwardJob:
    """What forked workers inherit: the renderer and the awards' sources (indexes are the items)."""

    def __init__(self, renderer: AwardRenderer, sources: AwardSourcing):
        self.renderer, self.sources = renderer, sources

    @staticmethod
    def run(job: "_AwardJob", index: int):
        return job.renderer.render(job.sources[index])


AWARD_FILES = "award files"


def _award_artifacts(checked: CheckResult, renderer: AwardRenderer, state: SiteState | None,
                     jobs: int | None) -> Iterator[Artifact]:
    report = checked.report
    sources = AwardSourcing(checked)
    total = len(sources)
    checked.options.report_progress(AWARD_FILES, 0, total)
    if state is not None:  # how many files each unchanged award has (0: render it); the writer leaves them be
        digests = [sources[index].digest for index in range(total)]
        kept = state.kept_counts(digests)
    else:
        digests, kept = [], [0] * total
    rendered = parallel.map_ordered(_AwardJob.run, _AwardJob(renderer, sources),
                                    [i for i, k in enumerate(kept) if not k], jobs)
    for index in range(total):
        if kept[index]:
            award = sources.awards[index]
            files, diagnostics = [Artifact(renderer.routes.award_page(award), Kept(kept[index]), digests[index])], []
        else:
            files, diagnostics = next(rendered)
        report.extend(diagnostics)
        yield from files
        checked.options.report_progress(AWARD_FILES, index + 1, total)
