"""Command line: the only module that prints and chooses exit codes (0 ok, 1 content, 2 usage)."""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from . import __version__, api
from .clock import now_from_env
from .commands import (
    check_live,
    correct_email,
    due,
    editing,
    endorsements,
    key_commands,
    notify,
    roster_import,
    scaffold,
    serve,
)
from .crypto import keys
from .diagnostics import Report, Severity, format_json, format_text
from .model import ledger
from .project_lock import project_lock
from .validate.values import parse_base_url
from .verify.report import UNVERIFIED
from .verify.report import format_json as verification_json
from .verify.report import format_text as verification_text

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2
EXIT_UNVERIFIED = 3  # verify: could not check (no network, the issuer's site down)


def _base_url(text: str) -> str:
    try:
        return parse_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="badgekiln", description="Compile Open Badges content into a static site.")
    parser.add_argument("--version", action="version", version=f"badgekiln {__version__}")
    parser.add_argument(*PROJECT_OPTION, type=Path, default=None, help=PROJECT_HELP)
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", type=_base_url, help="override site.yaml base_url (e.g. for a preview)")
        p.add_argument("--strict", action="store_true", help="treat warnings as errors")
        p.add_argument("--frozen", action="store_true", help="fail if the issuance ledger would change (CI)")
        p.add_argument("--reissue", action="store_true",
                       help="sign new versions of issued credentials whose content changed (else an error)")

    build = sub.add_parser("build", help="build the site (the default command)")
    common(build)
    build.add_argument("--out", type=Path, default=None, help="output folder (default: _site)")
    build.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                       help="build only shard I of N (a CI matrix job; implies --frozen; join them with merge)")
    merge = sub.add_parser("merge", help="join the shards of a build (build --shard I/N) into one site")
    merge.add_argument("shards", type=Path, nargs="+", help="the shard folders")
    merge.add_argument("--out", type=Path, default=None, help="output folder (default: _site)")
    check = sub.add_parser("check", help="validate content without writing anything")
    common(check)
    check.add_argument("--json", action="store_true", help="machine-readable report")
    srv = sub.add_parser("serve", help="preview on 127.0.0.1, rebuilding when content changes")
    srv.add_argument("--port", type=int, default=8000)
    new = sub.add_parser("new", help="scaffold a site, issuer, badge or award that passes check")
    scaffold.add_arguments(new)
    roster_import.add_arguments(sub.add_parser("import", help="import a CSV roster as an awards file"))
    key_commands.add_arguments(sub.add_parser("keys", help="create, rotate, revoke or list signing keys (keys/)"))
    ver = sub.add_parser("verify", help="check a badge: credential JSON, JWT, baked PNG/SVG, or URL",
                         description="Check a badge the way an employer would.",
                         epilog="exit codes: 0 valid, 1 invalid, 2 unreadable input, 3 could not check "
                                "(UNVERIFIED: the issuer's documents could not be fetched; try again later)")
    ver.add_argument("thing", help="file, https:// URL or compact JWT")
    ver.add_argument("--email", help="also check that it was issued to this address")
    ver.add_argument("--site", type=Path, help="built site folder to read the issuer's documents from")
    ver.add_argument("--json", action="store_true", help="machine-readable report")
    editing.add_arguments(sub)  # revoke, suspend, reinstate
    endorsements.add_arguments(sub)  # endorsements fetch|add, endorse
    correct_email.add_arguments(sub)
    due.add_arguments(sub)
    notify.add_arguments(sub)
    check_live.add_arguments(sub)
    _project_option_everywhere(parser)
    return parser


PROJECT_OPTION = ("-C", "--project")
PROJECT_HELP = "project folder (default: the current folder)"


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [p for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for p in action.choices.values()]


def _project_option_everywhere(parser: argparse.ArgumentParser) -> None:
    """`-C DIR` / `--project DIR` after any command too (`badgekiln check -C site`), as before it."""
    for sub in _subparsers(parser):
        sub.add_argument(*PROJECT_OPTION, type=Path, default=argparse.SUPPRESS, help=PROJECT_HELP)
        _project_option_everywhere(sub)


def _with_command(argv: list[str]) -> list[str]:
    """`badgekiln`, `badgekiln --frozen`, `badgekiln -C DIR`: the command is `build` when none is named."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in PROJECT_OPTION:
            index += 2
        elif arg.startswith("--project=") or (arg.startswith("-C") and len(arg) > 2):
            index += 1
        elif arg in ("-h", "--help", "--version") or not arg.startswith("-"):
            return argv  # help, or a command (argparse reports a misspelt one)
        else:
            return [*argv[:index], "build", *argv[index:]]  # an option of build
    return [*argv, "build"]


class _SaysCommandAsRun(io.TextIOBase):
    """Messages name the command `badgekiln ...`; this stream says it as the user ran it.

    Hints and next steps are written once, with the installed command's name. Someone who ran
    `python build.py` in a clone reads `python build.py keys new` instead.
    """

    _NAME = re.compile(r"(?<![\w/.-])badgekiln(?=\s[a-z-]|[`'\")]|\s*$)")

    def __init__(self, stream: TextIO, command: str):
        self.stream, self.command = stream, command

    def said(self, text: str) -> str:
        return self._NAME.sub(lambda _: self.command, text)

    def write(self, text: str) -> int:
        self.stream.write(self.said(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


def _as_run(stream: TextIO) -> Callable[[str], str]:
    """Text that names `badgekiln` said as the user ran it (for output that is not printed: a page)."""
    return stream.said if isinstance(stream, _SaysCommandAsRun) else (lambda text: text)


def _invoked_as(clone: Path | None) -> str:
    """How the user started Badgekiln: a clone's `python build.py` (by its path from elsewhere), else `badgekiln`."""
    if clone is not None:
        script = clone.resolve() / "build.py"
        here = Path.cwd().resolve()
        return f"python {script.relative_to(here) if script.is_relative_to(here) else script}"
    return "python -m badgekiln" if Path(sys.argv[0]).name == "__main__.py" else "badgekiln"


def _default_project(clone: Path | None, command: str | None) -> Path:
    """The current folder, unless a clone's build.py runs where there is no project: then its example."""
    here = Path.cwd()
    if clone is None or command == "new" or (here / "content").is_dir():
        return here
    return clone


def main(argv: list[str] | None = None, *, default_project: Path | None = None) -> int:
    try:
        code = _said_as_run(argv, default_project)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return code
    except BrokenPipeError:  # `badgekiln due | head -1`: the reader has all it wanted
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    finally:
        os.close(devnull)


def _said_as_run(argv: list[str] | None, default_project: Path | None) -> int:
    command = _invoked_as(default_project)
    if command == "badgekiln":
        return _main(argv, default_project)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SaysCommandAsRun(out, command), _SaysCommandAsRun(err, command)
    try:
        return _main(argv, default_project)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None, default_project: Path | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    argv = _with_command(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    project = (args.project or _default_project(default_project, args.command)).resolve()
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "verify":  # works anywhere: an employer has no project
        return _verify(args)
    if not (project / "content").is_dir() and args.command not in ("new", "merge"):
        print(f"error: {project} has no content/ folder; run from a Badgekiln project or pass -C DIR",
              file=sys.stderr)
        return EXIT_USAGE
    if args.command in _LOCKED:  # they read and write the ledger or the site: one run at a time
        with project_lock(project, on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
            return _run(project, args)
    return _run(project, args)


_LOCKED = {"build", "merge", "import", "keys", "notify", "correct-email", *editing.ACTIONS}


def _run(project: Path, args) -> int:
    if args.command == "build":
        return _build(project, args)
    if args.command == "merge":
        return _merge(project, args)
    if args.command == "check":
        return _check(project, args)
    if args.command == "serve":
        return serve.serve(project, args.port, echo=lambda line: print(line, file=sys.stderr, flush=True),
                           as_run=_as_run(sys.stderr))
    if args.command == "new":
        if args.kind == "site" and args.host is None:
            args.host = _ask_host()
        return _report_only(scaffold.run(project, args))
    if args.command == "import":
        return _report_only(roster_import.import_roster(project, args.csv, args.badge, args.issued_on,
                                                        args.date_format))
    if args.command == "keys":
        try:
            print(key_commands.run(project, args, now_from_env()))
        except key_commands.CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    if args.command in editing.ACTIONS:
        return _report_only(editing.run(project, args.command, args.award, args.reason, args.on))
    if args.command == "endorsements":
        if args.endorsements_command == "fetch":
            return _report_only(endorsements.fetch(project, args.names, now_from_env()))
        return _report_only(endorsements.add(project, args.source, args.name, now_from_env()))
    if args.command == "endorse":
        return _report_only(endorsements.endorse(project, args.about, args.comment, args.valid_for, args.name,
                                                 args.ident, args.issuer, now_from_env()))
    if args.command == "correct-email":
        return _report_only(correct_email.run(project, args.award, args.to))
    if args.command == "due":
        report, text = due.run(project, args.within, args.csv)
        if report.has_errors():
            return _report_only((report, text))
        print(text)
        return EXIT_OK
    if args.command == "notify":
        return _notify(project, args)
    if args.command == "check-live":
        return _check_live(project, args)
    return EXIT_USAGE


def _check_live(project: Path, args) -> int:
    """0 when the live site is this build and served right, 1 with problems, 2 when it cannot start."""
    try:
        report, result = check_live.run(project, args.url, args.sample, args.site)
    except check_live.CheckLiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if result is None:  # the content does not check: nothing to compare the live site with
        _print_diagnostics(report.sorted())
        print(f"check-live needs content that checks: {_summary(report.sorted())}", file=sys.stderr)
        return EXIT_CONTENT
    print(check_live.format_text(result))
    return EXIT_OK if result.ok and result.live else EXIT_CONTENT


def _verify(args) -> int:
    """Exit 0 for a valid badge, 1 for an invalid one, 2 when the input cannot be read, 3 when unverified."""
    email = args.email.strip() if args.email is not None else None
    from .verify import checker  # (PyLD: imported by `verify`, not by every command)

    result = checker.verify(args.thing, site=args.site, email=email, now=now_from_env())
    print(verification_json(result) if args.json else verification_text(result, email))
    if result.valid:
        return EXIT_OK
    if result.verdict == UNVERIFIED:
        return EXIT_UNVERIFIED
    return EXIT_USAGE if result.error and not result.findings and "no such file" in result.error else EXIT_CONTENT


def _print_notices(checked: api.CheckResult) -> None:
    for notice in checked.notices:
        print(f"note: {notice}", file=sys.stderr)


def _notify(project: Path, args) -> int:
    try:
        report, summary = notify.run(project, dry_run=args.dry_run, baseline=args.baseline, outbox=args.outbox,
                                     per_minute=args.per_minute, echo=lambda line: print(line, flush=True),
                                     live_check=not args.skip_live_check)
    except notify.NotifyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # a second Ctrl-C: the register says what may need resending
        print("notify stopped; run it again to finish (nothing is sent twice)", file=sys.stderr)
        return 130
    _print_diagnostics(report.sorted())
    if summary is None:
        print(f"nothing was sent: {_summary(report.sorted())}", file=sys.stderr)
        return EXIT_CONTENT
    print(summary.text(args.dry_run))
    if summary.interrupted:
        return 130
    return EXIT_CONTENT if summary.failed or summary.uncertain or summary.pending else EXIT_OK


def _print_diagnostics(report_items) -> None:
    if report_items:
        print(format_text(report_items), file=sys.stderr)


def _summary(items) -> str:
    errors = sum(d.severity is Severity.ERROR for d in items)
    warnings = len(items) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def _options(args, **more) -> api.BuildOptions:
    return api.BuildOptions(base_url=args.base_url, frozen=args.frozen, strict=args.strict, reissue=args.reissue,
                            shard=getattr(args, "shard", None), **more)


def _shard(text: str) -> tuple[int, int]:
    """`I/N` (1-based on the command line) -> (I-1, N)."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shard: write I/N, e.g. 2/8 (1 <= I <= N)")
    return int(index) - 1, int(count)


def _merge(project: Path, args) -> int:
    try:
        result = api.merge(project, args.shards, args.out)
    except (api.MergeError, api.WriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONTENT if isinstance(exc, api.MergeError) else EXIT_USAGE
    print(f"Merged {result.summary['shards']} shards into {result.out}: {result.files} files")
    return EXIT_OK


class _TerminalProgress:
    """A long build's phases, each with a bar and an estimate, drawn on a terminal only.

    The pipeline reports (phase, done, total) through BuildOptions.progress; this draws it with
    rich on stderr. Never in CI or a pipe (`wanted`), where logs must stay plain.
    """

    def __init__(self) -> None:
        self._progress = None
        self._tasks: dict[str, int] = {}

    @staticmethod
    def wanted() -> bool:
        return sys.stderr.isatty() and not keys.in_ci()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self._progress is None:
            self._progress = _rich_progress()
            self._progress.start()
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total or None)
            self._progress.refresh()  # each phase is shown, however quick
        self._progress.update(task, completed=done, total=total or None)

    def close(self) -> None:
        """Stop drawing (before a message or a question); a later phase starts a new display."""
        if self._progress is not None:
            self._progress.stop()
        self._progress, self._tasks = None, {}


def _rich_progress():
    from datetime import timedelta

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class Estimate(ProgressColumn):
        def render(self, task) -> Text:
            if task.finished:
                return Text(f"done in {timedelta(seconds=round(task.finished_time or 0))}")
            if task.total is None or task.time_remaining is None:
                return Text("estimating…")
            return Text(f"about {timedelta(seconds=round(task.time_remaining))} left")

    return Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), Estimate(),
                    console=Console(file=sys.stderr))


def _with_progress(options: api.BuildOptions) -> _TerminalProgress | None:
    """Attach a terminal progress display to `options` when one is wanted; returns it (to close)."""
    if not _TerminalProgress.wanted():
        return None
    options.progress = _TerminalProgress()
    return options.progress


def _check(project: Path, args) -> int:
    options = _options(args)
    display = _with_progress(options) if not args.json else None
    try:
        checked = api.check(project, options)
    finally:
        if display is not None:
            display.close()
    items = checked.diagnostics
    if args.json:
        print(format_json(items))
    else:
        _print_diagnostics(items)
        _print_notices(checked)
        print(("ok: " if checked.ok else "failed: ") + _summary(items), file=sys.stderr)
    return EXIT_OK if checked.ok else EXIT_CONTENT


def _key_offer_possible(project: Path, args) -> bool:
    """Cheaply: could `_offer_key` ask? A terminal, not CI, and no signing key anywhere, ever."""
    if args.frozen or args.base_url or keys.in_ci() or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    ledger_file = project / ledger.LEDGER_PATH
    registry = ledger.parse_keys(ledger_file.read_bytes()) if ledger_file.is_file() else None
    return not registry and not os.environ.get(keys.ENV_VAR) and not list((project / "keys").glob("*.key.json"))


def _ask_host() -> str | None:
    """`new site` on a terminal: where will the site be published? (None: the default, as elsewhere.)"""
    if not (sys.stdin.isatty() and sys.stderr.isatty()) or keys.in_ci():
        return None
    profiles = api.PROFILES
    choices = list(profiles)
    print("Where will you publish the site? (site.yaml `host:`; every build checks the site against its limits)",
          file=sys.stderr)
    for number, name in enumerate(choices, 1):
        print(f"  {number}. {name:<22} {profiles[name].label}", file=sys.stderr)
    default = choices.index(scaffold.DEFAULT_HOST) + 1
    while True:
        try:
            answer = input(f"Host [1-{len(choices)}, default {default}]: ").strip().lower()
        except EOFError:
            return None
        if not answer:
            return scaffold.DEFAULT_HOST
        if answer in choices:
            return answer
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1]
        print(f"  type a number from 1 to {len(choices)} or a name, e.g. {scaffold.DEFAULT_HOST}", file=sys.stderr)


def _offer_key(project: Path, checked: api.CheckResult, args) -> bool:
    """On a developer's terminal (never in CI), offer to create the site's first signing key.

    Only when no key was ever used: a site that has signed before needs its own key back,
    not a new one. Returns True when a key was created (the caller checks again).
    """
    state = checked.signing
    if (state is None or state.published_keys or checked.model is None or not checked.model.awards
            or args.frozen or args.base_url or keys.in_ci()
            or not (sys.stdin.isatty() and sys.stderr.isatty())):
        return False
    print(f"No signing key yet, so the {len(checked.model.awards)} award(s) get no signed Open Badges 3.0 "
          "credential.", file=sys.stderr)
    try:
        answer = input("Create a signing key now (in keys/, git-ignored)? [y/N] ")
    except EOFError:
        return False
    if answer.strip().lower() not in ("y", "yes"):
        return False
    try:
        print(key_commands.run(project, argparse.Namespace(keys_command="new", issuer=None), now_from_env()))
    except key_commands.CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def _build(project: Path, args) -> int:
    options = _options(args, out=args.out)
    display = _with_progress(options)
    try:
        checked = None
        if _key_offer_possible(project, args):
            checked = api.check(project, options, render=False)
            if display is not None:
                display.close()  # before the question below
            if _offer_key(project, checked, args):
                checked = None  # a key now exists: check again, with it
        result = api.build(project, options, checked=checked)
    except api.WriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if display is not None:
            display.close()
    if result.unchanged:
        print(f"Up to date: {result.out} already holds this build ({result.files} files, "
              f"{result.summary.get('badges', 0)} badges, {result.summary.get('awards', 0)} awards); "
              "no input changed since the last build", file=sys.stderr)
        return EXIT_OK
    checked = result.checked
    _print_diagnostics(checked.diagnostics)
    _print_notices(checked)
    if checked.model is None:
        print(f"build failed: {_summary(checked.diagnostics)}; nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    if not result.written:
        print(f"build failed: {_summary(checked.diagnostics)}; {result.out} was left as it was", file=sys.stderr)
        return EXIT_CONTENT
    model = checked.model
    print(result.size_report(), file=sys.stderr)
    reused = f", {result.reused} unchanged award(s) reused" if result.reused else ""
    print(f"Built {result.files} files into {result.out}: {len(model.badges)} badges, {len(model.awards)} awards"
          f"{reused}" + (" (ledger updated: commit content/ledger.json and content/ledger/)"
                         if checked.ledger_changed else ""))
    print("Preview it with: badgekiln serve   (then open http://127.0.0.1:8000/)")
    return EXIT_OK


def _report_only(result: tuple[Report, str]) -> int:
    report, message = result
    items = report.sorted()
    _print_diagnostics(items)
    if report.has_errors():
        print(f"nothing was written: {_summary(items)}", file=sys.stderr)
        return EXIT_CONTENT
    print(message)
    return EXIT_OK
