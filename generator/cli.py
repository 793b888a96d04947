"""Command line: the only module that prints and chooses exit codes (0 ok, 1 content, 2 usage)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, buildcache, ledger, pipeline, scaffold, serve
from . import due, editing, notify  # lifecycle commands
from . import keycmd, keys, verify  # signing keys and the verifier
from .diagnostics import Report, Severity, format_json, format_text
from .values import parse_base_url
from .writer import WriteError, write_file_atomic, write_site

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
    imp = sub.add_parser("import", help="import a CSV roster as an awards file")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--badge", required=True, help="badge id the roster earned")
    imp.add_argument("--issued-on", help="issue date for rows without one (YYYY-MM-DD)")
    keycmd.add_arguments(sub.add_parser("keys", help="create, rotate, revoke or list signing keys (keys/)"))
    ver = sub.add_parser("verify", help="check a badge: credential JSON, JWT, baked PNG/SVG, or URL")
    ver.add_argument("thing", help="file, https:// URL or compact JWT")
    ver.add_argument("--email", help="also check that it was issued to this address")
    ver.add_argument("--site", type=Path, help="built site folder to read the issuer's documents from")
    ver.add_argument("--json", action="store_true", help="machine-readable report")
    editing.add_arguments(sub)  # revoke, suspend, reinstate
    due.add_arguments(sub)
    notify.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None, *, default_project: Path | None = None) -> int:
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
    if args.command == "build":
        return _build(project, args)
    if args.command == "check":
        return _check(project, args)
    if args.command == "serve":
        return serve.serve(project, args.port)
    if args.command == "new":
        return _report_only(scaffold.run(project, args))
    if args.command == "import":
        return _report_only(scaffold.import_roster(project, args.csv, args.badge, args.issued_on))
    if args.command == "keys":
        try:
            print(keycmd.run(project, args, pipeline.now_from_env()))
        except keycmd.CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    if args.command in editing.ACTIONS:
        return _report_only(editing.run(project, args.command, args.award, args.reason, args.on))
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
    result = verify.verify(args.thing, site=args.site, email=args.email, now=pipeline.now_from_env())
    print(verify.format_json(result) if args.json else verify.format_text(result, args.email))
    if result.valid:
        return EXIT_OK
    return EXIT_USAGE if result.error and not result.findings and "no such file" in result.error else EXIT_CONTENT


def _print_notices(prepared: pipeline.Prepared) -> None:
    for notice in (prepared.signing.notices if prepared.signing else []):
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


def _print_diagnostics(report_items, stream=sys.stderr) -> None:
    if report_items:
        print(format_text(report_items), file=stream)


def _summary(items) -> str:
    errors = sum(d.severity is Severity.ERROR for d in items)
    warnings = len(items) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def _options(args) -> pipeline.Options:
    return pipeline.Options(base_url=args.base_url, frozen=args.frozen, strict=args.strict, reissue=args.reissue)


def _check(project: Path, args) -> int:
    prepared = pipeline.prepare(project, _options(args))
    if prepared.model is not None:
        for _ in pipeline.artifacts(prepared):  # render everything: template errors count too
            pass
    items = prepared.diagnostics
    if args.json:
        print(format_json(items))
    else:
        _print_diagnostics(items)
        _print_notices(prepared)
        ok = not prepared.report.has_errors(args.strict)
        print(("ok: " if ok else "failed: ") + _summary(items), file=sys.stderr)
    return EXIT_OK if not prepared.report.has_errors(args.strict) else EXIT_CONTENT


def _offer_key(project: Path, prepared: pipeline.Prepared, args) -> bool:
    """On a developer's terminal (never in CI), offer to create the site's first signing key.

    Only when no key was ever used: a site that has signed before needs its own key back,
    not a new one. Returns True when a key was created (the caller prepares again).
    """
    state = prepared.signing
    if (state is None or state.published_keys or prepared.model is None or not prepared.model.awards
            or args.frozen or args.base_url or keys.in_ci()
            or not (sys.stdin.isatty() and sys.stderr.isatty())):
        return False
    print(f"No signing key yet, so the {len(prepared.model.awards)} award(s) get no signed Open Badges 3.0 "
          "credential.", file=sys.stderr)
    try:
        answer = input("Create a signing key now (in keys/, git-ignored)? [y/N] ")
    except EOFError:
        return False
    if answer.strip().lower() not in ("y", "yes"):
        return False
    try:
        print(keycmd.run(project, argparse.Namespace(keys_command="new", issuer=None), pipeline.now_from_env()))
    except keycmd.CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def _build(project: Path, args) -> int:
    out = (args.out or project / "_site").resolve()
    prepared = pipeline.prepare(project, _options(args))
    if _offer_key(project, prepared, args):
        prepared = pipeline.prepare(project, _options(args))
    if prepared.model is None:
        _print_diagnostics(prepared.diagnostics)
        print(f"build failed: {_summary(prepared.diagnostics)}; nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    cache = buildcache.Cache.load(project, out)
    try:
        if prepared.ledger_changed:  # first, so a site never shows slugs the ledger forgot
            write_file_atomic(project / ledger.LEDGER_PATH, prepared.ledger_after)
        count = write_site(out, pipeline.artifacts(prepared, cache=cache), project,
                           should_commit=lambda: not prepared.report.has_errors(args.strict))
        if count:
            cache.save()
    except WriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_diagnostics(prepared.diagnostics)
    _print_notices(prepared)
    if not count:
        print(f"build failed: {_summary(prepared.diagnostics)}; {out} was left as it was", file=sys.stderr)
        return EXIT_CONTENT
    model = prepared.model
    reused = f", {cache.hits} unchanged award(s) reused" if cache.hits else ""
    print(f"Built {count} files into {out}: {len(model.badges)} badges, {len(model.awards)} awards{reused}"
          + (" (ledger updated: commit content/ledger.json)" if prepared.ledger_changed else ""))
    print("Preview it with: python build.py serve   (then open http://127.0.0.1:8000/)")
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
