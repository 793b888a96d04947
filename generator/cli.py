"""Command line: the only module that prints and chooses exit codes (0 ok, 1 content, 2 usage)."""
from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from typing import TextIO

from . import __version__, api
from .clock import now_from_env
from .commands import correct_email, due, editing, key_commands, notify, roster_import, scaffold, serve
from .crypto import keys
from .diagnostics import Report, Severity, format_json, format_text
from .project_lock import project_lock
from .validate.values import parse_base_url
from .verify import checker
from .verify.report import format_json as verification_json
from .verify.report import format_text as verification_text

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def _base_url(text: str) -> str:
    try:
        return parse_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="badgekiln", description="Compile Open Badges content into a static site.")
    parser.add_argument("--version", action="version", version=f"badgekiln {__version__}")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project folder (default: current)")
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
    check = sub.add_parser("check", help="validate content without writing anything")
    common(check)
    check.add_argument("--json", action="store_true", help="machine-readable report")
    srv = sub.add_parser("serve", help="preview on 127.0.0.1, rebuilding when content changes")
    srv.add_argument("--port", type=int, default=8000)
    new = sub.add_parser("new", help="scaffold a site, issuer, badge or award that passes check")
    scaffold.add_arguments(new)
    roster_import.add_arguments(sub.add_parser("import", help="import a CSV roster as an awards file"))
    key_commands.add_arguments(sub.add_parser("keys", help="create, rotate, revoke or list signing keys (keys/)"))
    ver = sub.add_parser("verify", help="check a badge: credential JSON, JWT, baked PNG/SVG, or URL")
    ver.add_argument("thing", help="file, https:// URL or compact JWT")
    ver.add_argument("--email", help="also check that it was issued to this address")
    ver.add_argument("--site", type=Path, help="built site folder to read the issuer's documents from")
    ver.add_argument("--json", action="store_true", help="machine-readable report")
    editing.add_arguments(sub)  # revoke, suspend, reinstate
    correct_email.add_arguments(sub)
    due.add_arguments(sub)
    notify.add_arguments(sub)
    return parser


class _SaysCommandAsRun(io.TextIOBase):
    """Messages name the command `badgekiln ...`; this stream says it as the user ran it.

    Hints and next steps are written once, with the installed command's name. Someone who ran
    `python build.py` in a clone reads `python build.py keys new` instead.
    """

    _NAME = re.compile(r"(?<![\w/.-])badgekiln(?=\s[a-z-]|[`'\")]|\s*$)")

    def __init__(self, stream: TextIO, command: str):
        self.stream, self.command = stream, command

    def write(self, text: str) -> int:
        self.stream.write(self._NAME.sub(self.command, text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


def _invoked_as(default_project: Path | None) -> str:
    """How the user started Badgekiln: `python build.py` in a clone, else `badgekiln`."""
    if default_project is not None:
        return "python build.py"
    return "python -m badgekiln" if Path(sys.argv[0]).name == "__main__.py" else "badgekiln"


def main(argv: list[str] | None = None, *, default_project: Path | None = None) -> int:
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
    if default_project is not None:
        parser.set_defaults(project=default_project)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version", "--project"):
        argv = ["build", *argv]
    elif argv[0] == "--project" and (len(argv) < 3 or argv[2].startswith("-")):
        argv = [*argv[:2], "build", *argv[2:]]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    project = args.project.resolve()
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "verify":  # works anywhere: an employer has no project
        return _verify(args)
    if not (project / "content").is_dir() and args.command not in ("new",):
        print(f"error: {project} has no content/ folder; run from a Badgekiln project or pass --project",
              file=sys.stderr)
        return EXIT_USAGE
    if args.command in _LOCKED:  # they read and write the ledger or the site: one run at a time
        with project_lock(project, on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
            return _run(project, args)
    return _run(project, args)


_LOCKED = {"build", "import", "keys", "notify", "correct-email", *editing.ACTIONS}


def _run(project: Path, args) -> int:
    if args.command == "build":
        return _build(project, args)
    if args.command == "check":
        return _check(project, args)
    if args.command == "serve":
        return serve.serve(project, args.port)
    if args.command == "new":
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
    return EXIT_USAGE


def _verify(args) -> int:
    """Exit 0 only for a valid badge; 1 for an invalid one; 2 when the input cannot be read."""
    result = checker.verify(args.thing, site=args.site, email=args.email, now=now_from_env())
    print(verification_json(result) if args.json else verification_text(result, args.email))
    if result.valid:
        return EXIT_OK
    return EXIT_USAGE if result.error and not result.findings and "no such file" in result.error else EXIT_CONTENT


def _print_notices(checked: api.CheckResult) -> None:
    for notice in checked.notices:
        print(f"note: {notice}", file=sys.stderr)


def _notify(project: Path, args) -> int:
    try:
        report, summary = notify.run(project, dry_run=args.dry_run, baseline=args.baseline, outbox=args.outbox,
                                     per_minute=args.per_minute, echo=lambda line: print(line, flush=True))
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
                            **more)


def _check(project: Path, args) -> int:
    checked = api.check(project, _options(args))
    items = checked.diagnostics
    if args.json:
        print(format_json(items))
    else:
        _print_diagnostics(items)
        _print_notices(checked)
        print(("ok: " if checked.ok else "failed: ") + _summary(items), file=sys.stderr)
    return EXIT_OK if checked.ok else EXIT_CONTENT


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
    checked = api.check(project, options, render=False)
    if _offer_key(project, checked, args):
        checked = None  # a key now exists: check again, with it
    try:
        result = api.build(project, options, checked=checked)
    except api.WriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
    reused = f", {result.reused} unchanged award(s) reused" if result.reused else ""
    print(f"Built {result.files} files into {result.out}: {len(model.badges)} badges, {len(model.awards)} awards"
          f"{reused}" + (" (ledger updated: commit content/ledger.json)" if checked.ledger_changed else ""))
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
