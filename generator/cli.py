"""Command line: the only module that prints and chooses exit codes (0 ok, 1 content, 2 usage)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, ledger, pipeline, scaffold, serve
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
    return EXIT_USAGE


def _print_diagnostics(report_items, stream=sys.stderr) -> None:
    if report_items:
        print(format_text(report_items), file=stream)


def _summary(items) -> str:
    errors = sum(d.severity is Severity.ERROR for d in items)
    warnings = len(items) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def _options(args) -> pipeline.Options:
    return pipeline.Options(base_url=args.base_url, frozen=args.frozen, strict=args.strict)


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
        ok = not prepared.report.has_errors(args.strict)
        print(("ok: " if ok else "failed: ") + _summary(items), file=sys.stderr)
    return EXIT_OK if not prepared.report.has_errors(args.strict) else EXIT_CONTENT


def _build(project: Path, args) -> int:
    out = (args.out or project / "_site").resolve()
    prepared = pipeline.prepare(project, _options(args))
    if prepared.model is None:
        _print_diagnostics(prepared.diagnostics)
        print(f"build failed: {_summary(prepared.diagnostics)}; nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    try:
        if prepared.ledger_changed:  # first, so a site never shows slugs the ledger forgot
            write_file_atomic(project / ledger.LEDGER_PATH, prepared.ledger_after)
        count = write_site(out, pipeline.artifacts(prepared), project,
                           should_commit=lambda: not prepared.report.has_errors(args.strict))
    except WriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_diagnostics(prepared.diagnostics)
    if not count:
        print(f"build failed: {_summary(prepared.diagnostics)}; {out} was left as it was", file=sys.stderr)
        return EXIT_CONTENT
    model = prepared.model
    print(f"Built {count} files into {out}: {len(model.badges)} badges, {len(model.awards)} awards"
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
