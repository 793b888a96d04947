"""The public API: `check` a project, or `build` it into a site. The only build sequence.

The command line, `serve`, the tests and the benchmark all call these two functions, so there
is one way to build: check (load -> validate -> model -> sign), then stream the artifacts to
the atomic writer, recording the ledger first so that a published page never shows a link
the ledger forgot.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import canonical
from .atomic_write import write_file_atomic
from .diagnostics import Location
from .model import ledger, published
from .pipeline.assemble import all_artifacts
from .pipeline.cache import CACHE_DIR, Cache, shown_path
from .pipeline.check import BuildOptions, CheckResult, check_project
from .pipeline.hosts import PROFILES, HostLimitError, HostProfile, SiteSize
from .pipeline.writer import WriteError, write_site


@dataclass
class BuildResult:
    """What a build did. `written` is False when nothing was published (see `checked.diagnostics`)."""

    checked: CheckResult
    out: Path
    files: int = 0  # files in the published site
    reused: int = 0  # awards whose files were kept from the previous build
    size: SiteSize | None = None  # the site measured against its host profile (site.yaml `host:`)

    @property
    def host(self) -> HostProfile | None:
        return PROFILES[self.checked.model.site.host] if self.checked.model is not None else None

    def size_report(self) -> str:
        """The site against its host's limits: files, bytes, fullest folder, largest file, room left."""
        return self.size.report(self.host, len(self.checked.model.awards)) if self.size and self.host else ""

    @property
    def written(self) -> bool:
        return self.files > 0

    @property
    def ok(self) -> bool:
        return self.written and self.checked.ok


def check(project: Path, options: BuildOptions | None = None, *, render: bool = True) -> CheckResult:
    """Check everything a build would, writing nothing.

    With `render`, every page is rendered too (and discarded), so template errors count.
    """
    checked = check_project(Path(project), options or BuildOptions())
    if render and checked.model is not None:
        for _ in all_artifacts(checked, jobs=checked.options.jobs):
            pass
        if checked.report.has_errors(checked.options.strict):
            checked.model = None
    return checked


def build(project: Path, options: BuildOptions | None = None, *, checked: CheckResult | None = None) -> BuildResult:
    """Check the project and publish it atomically (pass `checked` to reuse a `check(render=False)`).

    Raises pipeline.writer.WriteError when the output folder cannot be used.
    """
    project = Path(project)
    options = options or BuildOptions()
    checked = checked or check_project(project, options)
    out = (options.out or project / "_site").resolve()
    result = BuildResult(checked, out)
    if checked.model is None:
        return result
    cache = Cache.load(project, out) if options.incremental else None
    if checked.ledger_changed and options.record_ledger:  # first: a site never shows slugs the ledger forgot
        write_file_atomic(project / ledger.LEDGER_PATH, checked.ledger_after)
    result.size = SiteSize()
    try:
        result.files = write_site(out, all_artifacts(checked, cache, options.jobs), project,
                                  should_commit=lambda: not checked.report.has_errors(options.strict),
                                  size=result.size, host=result.host)
    except HostLimitError as exc:
        checked.report.error("E801", f"{exc}; {out} was left as it was", Location("content/site.yaml"),
                             "publish fewer files per award (`outputs: minimal`), choose a host or plan with "
                             "higher limits (`host:`), or build in shards (README: Deploying)")
    if result.files and cache is not None:
        cache.save()
        result.reused = cache.hits
    if result.files and options.record_ledger:  # what this site shows, for check-live and notify
        record = shown_path(project, out)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(record, canonical.json_bytes(published.site_record(checked.model, checked.ledger_after)))
    return result


def site_record(project: Path, out: Path | None = None) -> dict | None:
    """What the site built into `out` (default _site/) shows of each award; None if not recorded."""
    path = shown_path(Path(project), (out or Path(project) / "_site").resolve())
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == published.FORMAT else None


def live_record_path(project: Path) -> Path:
    """Where check-live records the build it found live (read by notify); never in the output."""
    return Path(project) / CACHE_DIR / "live.json"


__all__ = ["BuildOptions", "BuildResult", "CheckResult", "WriteError", "build", "check", "live_record_path",
           "site_record"]
