"""The public API: `check` a project, or `build` it into a site. The only build sequence.

The command line, `serve`, the tests and the benchmark all call these two functions, so there
is one way to build: check (load -> validate -> model -> sign), then stream the artifacts to
the atomic writer, recording the ledger first so that a published page never shows a link
the ledger forgot.
"""
from __future__ import annotations

import gc
import json
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filelock

from .artifacts import Artifact
from .atomic_write import write_file_atomic
from .credentials.published import ExpectedFiles
from .diagnostics import Location
from .model import ledger, published
from .model.routes import shard_of_path
from .pipeline.check import BuildOptions, CheckResult, check_project
from .pipeline.hosts import PROFILES, HostLimitError, HostProfile, SiteSize
from .pipeline.merge import MergeError, ShardRecorder, Shards
from .pipeline.parallel import jobs_from_env
from .pipeline.site_state import CACHE_DIR, SiteState, input_stamp, shown_path, stamp_digest, state_path
from .pipeline.writer import WriteError, finish_interrupted, update_site, write_site
from .project_lock import project_lock


@dataclass
class BuildResult:
    """What a build did. `written` is False when nothing was published (see `checked.diagnostics`)."""

    checked: CheckResult | None  # None when nothing changed since the last build (`unchanged`)
    out: Path
    files: int = 0  # files in the published site
    reused: int = 0  # awards whose files were kept from the previous build
    size: SiteSize | None = None  # the site measured against its host profile (site.yaml `host:`)
    unchanged: bool = False  # inputs and site exactly as the last build left them: nothing was done
    summary: dict | None = None  # badge and award counts of an unchanged site

    @classmethod
    def up_to_date(cls, out: Path, summary: dict, files: int) -> "BuildResult":
        return cls(None, out, files=files, unchanged=True, summary=summary)

    @property
    def host(self) -> HostProfile | None:
        model = self.checked.model if self.checked is not None else None
        return PROFILES[model.site.host] if model is not None else None

    def size_report(self) -> str:
        """The site against its host's limits: files, bytes, fullest folder, largest file, room left."""
        return self.size.report(self.host, len(self.checked.model.awards)) if self.size and self.host else ""

    @property
    def written(self) -> bool:
        return self.files > 0

    @property
    def ok(self) -> bool:
        return self.written and (self.unchanged or self.checked.ok)


def check(project: Path, options: BuildOptions | None = None, *, render: bool = True) -> CheckResult:
    """Check everything a build would, writing nothing.

    With `render`, every page is rendered too (and discarded), so template errors count.
    """
    with _few_collections():
        checked = check_project(Path(project), options or BuildOptions())
        if render and checked.model is not None:
            from .pipeline.assemble import all_artifacts  # (see _publish)

            for _ in all_artifacts(checked, jobs=checked.options.jobs):
                pass
            if checked.report.has_errors(checked.options.strict):
                checked.model = None
    return checked


def build(project: Path, options: BuildOptions | None = None, *, checked: CheckResult | None = None) -> BuildResult:
    """Check the project and publish it atomically (pass `checked` to reuse a `check(render=False)`).

    Incremental by default: a build whose inputs are all as the last build read them, and whose
    site is as it left it, does nothing; otherwise only the files that differ are written
    (pipeline/writer.py explains how that stays atomic). Holds the project lock from the check to
    the swap (project_lock.py), so a concurrent run never sees a ledger this build has not
    published; a `checked` passed in must have been made under the same lock. Raises WriteError
    when the output folder cannot be used.
    """
    project = Path(project)
    with project_lock(project), _few_collections():
        return _build(project, options or BuildOptions(), checked)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, run less often while a build runs.

    A build makes a few objects per award that live until it ends (the model, the ledger), and
    at the default thresholds the collector walks them again and again: a fifth of an add-one at
    10^5 awards. A build makes few reference cycles, so collecting after 200,000 allocations
    instead of 700 costs little memory (an add-one at 10^5 peaked the same; a first build at
    10^4, 9 MB more). mypy does the same."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _build(project: Path, options: BuildOptions, checked: CheckResult | None) -> BuildResult:
    out = (options.out or project / "_site").resolve()
    state = SiteState(project, out) if options.incremental else None
    stamp = None
    try:
        if state is not None:
            finish_interrupted(state)  # a build killed after its commit point: finish it first
        if state is not None and checked is None:  # a check made by the caller read inputs we did not stamp
            stamp = input_stamp(project, options.stamp_settings())
            if _up_to_date(state, stamp, options.now):
                return BuildResult.up_to_date(out, json.loads(state.meta("summary") or "{}"), state.file_count())
        if state is not None:  # the stat of every published file, on another core while the inputs are checked
            state.start_survey(options.jobs or jobs_from_env())
        checked = checked or check_project(project, options)
        return _publish(project, out, checked, options, state, stamp)
    finally:
        if state is not None:
            state.close()


def _up_to_date(state: SiteState, stamp: dict, now) -> bool:
    valid_until = state.meta("valid_until")
    return (state.awards_valid  # the same Badgekiln (code, templates, libraries) made it
            and state.meta("stamp") == stamp_digest(stamp) and (not valid_until or now.isoformat() < valid_until)
            and state.intact())


def _publish(project: Path, out: Path, checked: CheckResult, options: BuildOptions, state: SiteState | None,
             stamp: dict | None) -> BuildResult:
    # rendering and signing (Jinja, PyLD): imported here, so a build that finds nothing to do never loads them
    from .pipeline.assemble import all_artifacts

    result = BuildResult(checked, out)
    if checked.model is None:
        if state is not None:
            state.forget_stamp()
        return result
    if checked.ledger_changed and options.record_ledger and not options.frozen:  # first: a site never shows
        for path, data in checked.ledger.files():  # slugs the ledger forgot
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            write_file_atomic(project / path, data)
            if stamp is not None:  # what it wrote is what the next build reads
                stat = (project / path).stat()
                stamp["files"][path] = [stat.st_size, stat.st_mtime_ns]
        for path in checked.ledger.emptied:
            (project / path).unlink(missing_ok=True)
            if stamp is not None:
                stamp["files"].pop(path, None)
        if checked.memo is not None:  # the ledger files the next build reads are these
            checked.memo.settle(checked.ledger.file_digests(), checked.ledger.rewritten_keys())
    # the signed files the ledger records, each struck off as it goes by or is kept
    expected = checked.signing.expected if checked.signing is not None else ExpectedFiles()
    shard = options.shard

    def in_shard(path: str) -> bool:
        return shard is None or shard_of_path(path, shard[1]) in (None, shard[0])
    site_state = state if state is not None and state.has_site else None

    def tracked() -> Iterator[Artifact]:
        for artifact in all_artifacts(checked, site_state, options.jobs):
            expected.strike(artifact.path)
            yield artifact

    def complete() -> bool:
        """Never publish fewer verification files than the ledger records (the last line of defence)."""
        missing = expected.missing(in_shard)
        if missing:
            checked.report.error("E507", f"{len(missing)} signed file(s) the ledger records as published would be "
                                 f"missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})",
                                 Location(ledger.LEDGER_PATH, 1), "build with the signing key (badgekiln keys list)")
        return not checked.report.has_errors(options.strict)

    result.size = SiteSize()
    host = result.host if shard is None else None  # a shard is part of a site: merge checks the whole

    def with_shard_record() -> Iterator[Artifact]:
        if shard is None:
            yield from tracked()
            return
        recorder = ShardRecorder(*shard, checked.ledger.digest, checked.model.site.host)
        yield from map(recorder.observe, tracked())
        yield recorder.artifact()

    try:
        if site_state is not None:
            result.files = update_site(out, with_shard_record(), project, site_state, should_commit=complete,
                                       size=result.size, host=host, stamp=stamp and stamp_digest(stamp),
                                       kept=expected.strike)  # the files of unchanged awards stay
        else:
            result.files = write_site(out, with_shard_record(), project, should_commit=complete, size=result.size,
                                      host=host, state=state, stamp=stamp and stamp_digest(stamp))
    except HostLimitError as exc:
        checked.report.error("E801", f"{exc}; {out} was left as it was", Location("content/site.yaml"),
                             "publish fewer files per award (`outputs: minimal`), choose a host or plan with "
                             "higher limits (`host:`), or build in shards (README: Deploying)")
    if state is not None:
        if result.files:
            result.reused = state.hits
            model = checked.model
            state.set_meta("summary", json.dumps({"badges": len(model.badges), "awards": len(model.awards)}))
            state.set_meta("valid_until", min((e.expires.isoformat() for e in model.endorsements if e.expires),
                                              default=""))
        else:
            state.forget_stamp()
    if result.files and options.record_ledger:  # what this site shows, for check-live and notify
        record = shown_path(project, out)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(record, published.site_record(checked.model, checked.ledger.digest))
    return result


def merge(project: Path, folders: list[Path], out: Path | None = None) -> BuildResult:
    """Join the shards of one build (`build --shard I/N` into each folder) into one site, atomically.

    Raises MergeError when the folders are not all the shards of one build, WriteError when the
    output folder cannot be used. The merged site is measured against the shards' host profile.
    """
    project = Path(project)
    out = (out or project / "_site").resolve()
    folders = [Path(f).resolve() for f in folders]
    with project_lock(project):
        shards = Shards(folders)
        result = BuildResult(None, out, size=SiteSize())
        try:
            result.files = write_site(out, shards.artifacts(), project, size=result.size,
                                      host=PROFILES.get(shards.host))
        except HostLimitError as exc:
            raise MergeError(f"{exc}; {out} was left as it was") from None
        result.summary = {"shards": shards.count, "host": shards.host}
        return result


def site_record(project: Path, out: Path | None = None) -> dict | None:
    """What the site built into `out` (default _site/) shows of each award; None if not recorded."""
    path = shown_path(Path(project), (out or Path(project) / "_site").resolve())
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == published.FORMAT else None


def preview_minter(project: Path) -> ledger.PreviewMinter:
    """How a preview (`serve`) mints the awards the ledger lacks: the same at every save, from a
    secret made once and kept in .badgekiln-cache/ (git-ignored, like everything there)."""
    path = Path(project) / CACHE_DIR / "preview-secret"
    try:
        secret = path.read_bytes()
    except OSError:
        secret = b""
    if len(secret) != 32:
        secret = secrets.token_bytes(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, secret)
    return ledger.PreviewMinter(secret)


@contextmanager
def preview_folder(project: Path) -> Iterator[Path]:
    """Where `serve` builds its preview while it runs: .badgekiln-cache/preview/, kept after it
    stops, so that the next session renders only what changed since (at 10^4 awards, a first
    preview renders every award: about 20 s). The base URL is in every file, so a session on
    another port renders everything again, in the same folder. A second session running at the
    same time gets a temporary folder (each would overwrite what the other serves), and its
    build state is deleted with it."""
    cache = Path(project) / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(cache / "preview.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        with tempfile.TemporaryDirectory(prefix="badgekiln-preview-") as tmp:
            out = Path(tmp) / "site"
            try:
                yield out
            finally:
                for path in (state_path(project, out), shown_path(project, out)):
                    path.unlink(missing_ok=True)
        return
    try:
        yield cache / "preview"
    finally:
        lock.release()


def live_record_path(project: Path) -> Path:
    """Where check-live records the build it found live (read by notify); never in the output."""
    return Path(project) / CACHE_DIR / "live.json"


__all__ = ["PROFILES", "BuildOptions", "BuildResult", "CheckResult", "MergeError", "WriteError", "build", "check",
           "live_record_path", "merge", "preview_folder", "preview_minter", "site_record"]
