"""HTML pages from Jinja2 templates: StrictUndefined, autoescape, pure context builders.

Templates come from the project's templates/ folder, falling back to the ones shipped with
Badgekiln, so a provider overrides any page by adding a file of the same name. A missing
variable is an error (never a silently empty string) and is reported as file:line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import jinja2

from .. import resources
from ..artifacts import Artifact
from ..diagnostics import Location, Report
from ..validate.values import format_datetime
from . import i18n, markdown

BUILTIN_TEMPLATES = resources.TEMPLATES


def environment(project: Path, strings: i18n.Catalogue | None = None,
                compiled: Path | None = None) -> jinja2.Environment:
    """The page environment; `strings` is the site's translation catalogue (English if None).

    With `compiled`, templates compiled by an earlier build are kept there (Jinja's bytecode
    cache, by template source): compiling them is a tenth of a build that renders one award."""
    folders = [project / "templates", BUILTIN_TEMPLATES]
    loader = jinja2.FileSystemLoader([str(f) for f in folders if f.is_dir()])
    cache = None
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(compiled))
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             bytecode_cache=cache, auto_reload=False)  # one build: no stat per page rendered
    env.filters["markdown"] = markdown.to_html
    env.filters["isodate"] = lambda d: format_datetime(d) if d else ""
    env.filters["quote"] = lambda v: quote(str(v), safe="")
    i18n.install(env, strings or i18n.load(project, "en"))
    return env


def render(env: jinja2.Environment, name: str, context: dict, report: Report) -> bytes | None:
    """Rendered page bytes, or None with a located E601 diagnostic."""
    try:
        return env.get_template(name).render(**context).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        report.error("E601", exc.message or "template syntax error",
                     Location(_rel(exc.filename or name), exc.lineno or 0), "fix the template syntax")
    except jinja2.UndefinedError as exc:
        report.error("E601", f"{name}: {exc.message}", Location(f"templates/{name}"),
                     "the template uses a variable the page does not provide")
    except jinja2.TemplateNotFound as exc:
        report.error("E601", f"template {exc.name} not found", Location(f"templates/{exc.name}"))
    return None


def _rel(filename: str) -> str:
    path = Path(filename)
    for parent in path.parents:
        if parent.name == "templates":
            return f"templates/{path.relative_to(parent).as_posix()}"
    return filename


def page(env: jinja2.Environment, site, routes, path: str, template: str, report: Report,
         **context) -> Iterator[Artifact]:
    """One page as an artifact (none when the template fails: the error is in `report`).

    Every page gets `site`, `routes` and its own `page_path`; nothing else is implicit, so a
    page depends only on what its builder passes (the build cache relies on that).
    """
    html = render(env, template, {"site": site, "routes": routes, "page_path": path, **context}, report)
    if html is not None:
        yield Artifact(path, html)
