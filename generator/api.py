"""The public API: `check` a project, or `build` it into a site. The only build sequence.

The command line, `serve`, the tests and the benchmark all call these two functions, so there
is one way to build: check (load -> validate -> model -> sign), then stream the artifacts to
the atomic writer, recording the ledger first so that a published page never shows a link
the ledger forgot.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .artifacts import Artifact
from .atomic_write import write_file_atomic
from .diagnostics import Location
from .model import ledger
from .pipeline.assemble import all_artifacts
from .pipeline.cache import Cache
from .pipeline.check import BuildOptions, CheckResult, check_project
from .pipeline.writer import WriteError, write_site
from .project_lock import project_lock


@dataclass
class BuildResult:
    """What a build did. `written` is False when nothing was published (see `checked.diagnostics`)."""

    checked: CheckResult
    out: Path
    files: int = 0  # files in the published site
    reused: int = 0  # awards whose files were kept from the previous build

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

    Holds the project lock from the check to the swap (project_lock.py), so a concurrent run
    never sees a ledger this build has not published. A `checked` passed in must have been made
    under the same lock. Raises pipeline.writer.WriteError when the output folder cannot be used.
    """
    project = Path(project)
    with project_lock(project):
        return _build(project, options or BuildOptions(), checked)


def _build(project: Path, options: BuildOptions, checked: CheckResult | None) -> BuildResult:
    checked = checked or check_project(project, options)
    out = (options.out or project / "_site").resolve()
    result = BuildResult(checked, out)
    if checked.model is None:
        return result
    cache = Cache.load(project, out) if options.incremental else None
    if checked.ledger_changed and options.record_ledger and not options.frozen:  # first: a site never shows
        write_file_atomic(project / ledger.LEDGER_PATH, checked.ledger_after)  # slugs the ledger forgot
    expected = set(checked.signing.expected) if checked.signing is not None else set()
    written: set[str] = set()

    def tracked() -> Iterator[Artifact]:
        for artifact in all_artifacts(checked, cache, options.jobs):
            written.add(artifact[0])  # (path, data): some stages yield plain pairs
            yield artifact

    def complete() -> bool:
        """Never publish fewer verification files than the ledger records (the last line of defence)."""
        missing = sorted(expected - written)
        if missing:
            checked.report.error("E507", f"{len(missing)} signed file(s) the ledger records as published would be "
                                 f"missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})",
                                 Location(ledger.LEDGER_PATH, 1), "build with the signing key (badgekiln keys list)")
        return not checked.report.has_errors(options.strict)

    result.files = write_site(out, tracked(), project, should_commit=complete)
    if result.files and cache is not None:
        cache.save()
        result.reused = cache.hits
    return result


__all__ = ["BuildOptions", "BuildResult", "CheckResult", "WriteError", "build", "check"]
