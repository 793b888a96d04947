"""The checking stages: load -> validate -> model -> sign, as data, writing nothing.

`check_project()` reads content/, the ledger and the keys, and returns everything the output
stages need (`CheckResult`): the model, the ledger as it will be after this build, the
signing state and every diagnostic. Disk is read here and nowhere later in the pipeline.
"""
from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import now_from_env
from ..crypto import keys
from ..diagnostics import Diagnostic, Location, Report
from ..load.files import Sources, read_sources
from ..model import ledger, resolve
from ..model.domain import SiteModel
from .build_memo import BuildMemo
from .ledger_records import LedgerRecords
from .parallel import JOBS_ENV, Background, jobs_from_env, unusable_jobs
from .site_state import fingerprint

if TYPE_CHECKING:
    from ..credentials import signing


@dataclass
class BuildOptions:
    """How to check and build a project; the defaults are `badgekiln build` on a terminal."""

    base_url: str | None = None  # overrides site.yaml (local previews)
    frozen: bool = False  # CI: the ledger must not change
    strict: bool = False  # warnings count as errors
    reissue: bool = False  # re-sign issued credentials whose content changed (else E502)
    now: datetime = field(default_factory=now_from_env)
    minter: ledger.Minter = field(default_factory=ledger.SecretsMinter)
    keyring: keys.Keyring | None = None  # None: keys/ and $BADGEKILN_SIGNING_KEYS
    out: Path | None = None  # output folder (default: <project>/_site)
    incremental: bool = True  # change only what differs from the previous build (pipeline/site_state.py)
    record_ledger: bool = True  # write the ledger (content/ledger.json, content/ledger/; a preview never does)
    jobs: int | None = None  # worker processes (default: $BADGEKILN_JOBS or every core)
    shard: tuple[int, int] | None = None  # (index, count), 0-based: build only this shard's awards (merge joins them)
    sign: bool = True  # False: only check content (commands that edit or read it); nothing is signed, no key needed
    staged: dict[str, bytes] = field(default_factory=dict)  # content files not yet written, checked as if they
    # were (path -> bytes): `import` checks a roster against the whole project before writing it
    # told progress(phase, done, total) as a long build goes (total 0: not known); the CLI draws it
    progress: Callable[[str, int, int], None] | None = None

    def __post_init__(self) -> None:
        if self.shard is not None:
            index, count = self.shard
            if not 0 <= index < count:
                raise ValueError(f"shard {self.shard}: want (index, count) with 0 <= index < count")
            self.frozen = True  # shards are built in parallel from one ledger, minted before the matrix

    def report_progress(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def stamp_settings(self) -> dict:
        """The settings that change what a build makes (for the nothing-changed check)."""
        keyring = None if self.keyring is None else sorted(k.id for k in self.keyring.keys)
        return {"base_url": self.base_url, "frozen": self.frozen, "strict": self.strict, "reissue": self.reissue,
                "record_ledger": self.record_ledger, "keyring": keyring, "minter": type(self.minter).__name__,
                "sign": self.sign, "shard": self.shard}


@dataclass
class CheckResult:
    """The project as checked: the model (None when content is unusable) and the ledger after."""

    project: Path
    options: BuildOptions
    model: SiteModel | None
    ledger_read: ledger.Ledger  # as this build found it
    ledger: ledger.Update  # as it will be after this build
    report: Report
    signing: signing.SigningState | None = None
    memo: BuildMemo | None = None  # saved; `settle` it once the ledger after is written

    @property
    def ledger_changed(self) -> bool:
        return self.ledger.changed

    @property
    def ledger_minted(self) -> bool:
        """Whether this build adds awards, credential signatures or keys to the ledger (what --frozen refuses)."""
        return self.ledger.minted

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.report.sorted()

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.report.has_errors(self.options.strict)

    @property
    def notices(self) -> list[str]:
        """Console notes (what was signed, what could not be): never part of the output."""
        return list(self.signing.notices) if self.signing else []


CHECKING = "checking content"
READ_ASIDE_FROM = 32 * 1024  # bytes of awards files to read; below this a fork costs more than it saves


def _read_awards_aside(sources: Sources, memo: BuildMemo, options: BuildOptions) -> Background | None:
    """The awards files the memo lacks (one a provider just added to, say), read in a forked process
    while the ledger is read here: at 10^4 awards each takes about 0.1 s, and both are needed
    before the model. None when all are remembered, they are few, there is no ledger of awards
    to read meanwhile (a first build would only wait), or there is no other core."""
    if not sources.on_disk or not Background.possible(options.jobs or jobs_from_env()):
        return None
    unknown = resolve.awards_files_to_read(sources, memo, options.now)
    if sum(len(data) for _, data in unknown) < READ_ASIDE_FROM:
        return None
    return Background(resolve.read_awards_files, sources, [path for path, _ in unknown], options.now)


def check_project(project: Path, options: BuildOptions) -> CheckResult:
    report = Report()
    options.report_progress(CHECKING, 0, 0)
    sources = read_sources(project, on_disk=ledger.AWARDS_DIR)  # read one at a time by ledger.read
    if options.staged:
        sources = Sources({**sources.files, **options.staged}, sources.on_disk)
    memo = BuildMemo(project, fingerprint(project, templates=False)) if options.incremental else None
    reading = _read_awards_aside(sources, memo, options) if memo is not None else None
    try:
        # an incremental build leaves the ledger's credential records in an index beside the project
        records = LedgerRecords(project) if memo is not None else None
        before = ledger.read(ChainMap(sources.files, sources.on_disk), report, memo.checked_files() if memo else (),
                             records)
    except BaseException:
        if reading is not None:
            reading.cancel()
        raise
    if reading is not None:
        memo.offer(reading.result() or {})
    if memo is not None:
        memo.note_checked_files(before.checked)
        memo.note_ledger(before.digests)
    sources.files.pop(ledger.LEDGER_PATH, None)  # read (the model reads no ledger file)
    endorsements = ledger.parse_endorsements(before.sections, report)
    model, entries = resolve.build_model(sources, before.entries, options.minter, options.now, report,
                                         endorsements.given, rosters=memo)
    preview = model is not None and options.base_url not in (None, model.site.base_url)
    published = model.site if model is not None else None
    if model is not None and options.base_url:
        model = replace(model, site=replace(model.site, base_url=options.base_url))
    options.report_progress(CHECKING, 1, 1)
    from ..credentials import signing  # (PyLD: imported once there is a model to sign)

    if options.jobs is None and (unusable := unusable_jobs()) is not None:
        report.warning("W801", f"{JOBS_ENV}={unusable!r} is not a number of processes: using one per core "
                       f"({jobs_from_env()})", Location(f"${JOBS_ENV}"),
                       "set it to a whole number of 1 or more (1: the whole build in one process), or unset it")
    signed = signing.prepare(project, model, entries, before.sections, options, report, preview=preview,
                             endorsements=endorsements, published_site=published, memo=memo,
                             jobs=options.jobs or jobs_from_env(), records_index=records)
    if memo is not None:
        memo.save()
    after = ledger.update(before, signed.entries, signed.registry, signed.endorsements, signed.issuers)
    if options.frozen and after.minted and not report.has_errors():
        added = sorted(set(entries) - set(before.entries))
        what = (f"add {len(added)} award(s) to the ledger ({', '.join(added[:3])}{', ...' if len(added) > 3 else ''})"
                if added else "record new credential signatures or signing keys in the ledger")
        flag = "--frozen" if options.shard is None else "--shard (builds with --frozen)"
        report.error("E304", f"{flag}: this build would {what}", Location(ledger.LEDGER_PATH),
                     "run `badgekiln build` locally and commit content/ledger.json and content/ledger/"
                     + ("" if options.shard is None else ", then build every shard from that commit"))
    if options.frozen and signed.state is not None and before.outdated:
        signed.state.notices.append(f"{ledger.LEDGER_PATH} was written by an older Badgekiln (in one file, or without "
                                    "integrity checks): run `badgekiln build` once and commit content/ledger.json and "
                                    "content/ledger/ (--frozen leaves it as is)")
    if report.has_errors(options.strict):
        model = None
    return CheckResult(project, options, model, before, after, report, signed.state, memo)
