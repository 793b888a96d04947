"""Page strings from a translation catalogue, one YAML file per language.

The shipped catalogues live in templates/i18n/<lang>.yaml; a provider's project may add
templates/i18n/<lang>.yaml with only the strings it wants to change (merged key by key), so
rewording a label never means copying a template. Strings use `{name}` placeholders; in
templates `t()` escapes the string and every plain-text argument, so an argument may be
markup (a link) without letting names or content inject HTML.

A missing key is an error, like a missing template variable: a page that silently shows
`award.title` to an employer is a bug, not a fallback.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import jinja2
from markupsafe import Markup, escape

from .. import resources
from ..diagnostics import Report
from ..load.positioned_yaml import load_yaml

BUILTIN = resources.TEMPLATES / "i18n"


class CatalogueError(ValueError):
    """A catalogue file is unreadable or a key is missing."""


def _flatten(doc: Any, prefix: str, out: dict[str, Any], where: str) -> None:
    if not isinstance(doc, dict):
        raise CatalogueError(f"{where}: expected a mapping of keys to strings")
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_plural(value):
            _flatten(value, name + ".", out, where)
        elif isinstance(value, list):
            out[name] = tuple(str(v) for v in value)
        elif isinstance(value, dict):
            out[name] = {k: str(v) for k, v in value.items()}
        elif value is None:
            raise CatalogueError(f"{where}: '{name}' has no text")
        else:
            out[name] = str(value)


def _is_plural(value: dict) -> bool:
    return bool(value) and set(value) <= {"zero", "one", "other"} and "other" in value


def _read(path: Path) -> dict[str, Any]:
    report = Report()
    doc = load_yaml(path.read_bytes(), path.as_posix(), report)
    if report.has_errors():
        raise CatalogueError("; ".join(f"{d.location}: {d.message}" for d in report.sorted()))
    out: dict[str, Any] = {}
    _flatten(doc or {}, "", out, path.as_posix())
    return out


def languages() -> tuple[str, ...]:
    """Languages with a shipped catalogue, sorted."""
    return tuple(sorted(p.stem for p in BUILTIN.glob("*.yaml")))


def _plain_fields(text: str) -> bool:
    """Every placeholder of `text` is a bare `{name}` (no index, attribute, conversion or format)."""
    try:
        return all(name is None or (name.isidentifier() and not spec and conversion is None)
                   for _, name, spec, conversion in string.Formatter().parse(text))
    except ValueError:  # unbalanced braces: Markup.format gives the error
        return False


@dataclass(frozen=True)
class Catalogue:
    language: str
    strings: Mapping[str, Any]
    # each string picked, escaped once (and whether its placeholders are all bare names): a page
    # asks for some fifty strings, and a site of 10^5 awards for millions
    _escaped: dict[str, tuple[Markup, bool]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def raw(self, key: str) -> Any:
        try:
            return self.strings[key]
        except KeyError:
            raise CatalogueError(f"no string '{key}' in the '{self.language}' catalogue "
                                 f"(templates/i18n/{self.language}.yaml)") from None

    def _pick(self, key: str, params: Mapping[str, Any]) -> str:
        value = self.raw(key)
        if isinstance(value, dict):  # plural forms
            try:
                count = float(params.get("count", 0))
            except (TypeError, ValueError):
                count = 0.0
            if count == 0 and "zero" in value:
                return value["zero"]
            one = 0 <= count < 2 if self.language == "fr" else count == 1
            return value.get("one", value["other"]) if one else value["other"]
        if not isinstance(value, str):
            raise CatalogueError(f"'{key}' in the '{self.language}' catalogue is a list, not a string")
        return value

    def text(self, key: str, /, **params: Any) -> str:
        """Plain text (for image captions, URLs, meta tags escaped later)."""
        return self._pick(key, params).format_map({k: str(v) for k, v in params.items()})

    def markup(self, key: str, /, **params: Any) -> Markup:
        """HTML-safe text: the string and every non-Markup argument are escaped.

        `Markup(escape(text)).format(**params)`, the same string for the same arguments, without
        a formatter made per call: a string without braces is itself, and bare `{name}`
        placeholders take each argument escaped (what Markup's formatter does with them)."""
        text = self._pick(key, params)
        found = self._escaped.get(text)
        if found is None:
            found = self._escaped[text] = (Markup(escape(text)), _plain_fields(text))
        template, plain = found
        if "{" not in text and "}" not in text:
            return template
        if plain:
            return Markup(str.format_map(template, {name: escape(value) for name, value in params.items()}))
        return template.format(**params)

    def date(self, value: datetime | None) -> str:
        """'13 March 2026' / '13 mars 2026' (UTC calendar date, as the credential states it)."""
        if value is None:
            return ""
        months = self.raw("date.months")
        day = self.text("date.first_day") if value.day == 1 and "date.first_day" in self.strings else str(value.day)
        return self.text("date.format", day=day, month=months[value.month - 1], year=value.year)

    def js(self) -> dict[str, str]:
        """The strings the browser scripts need (keys under `js.`), published as assets/strings.js."""
        strings = {k[3:]: v for k, v in sorted(self.strings.items()) if k.startswith("js.")}
        strings["months"] = list(self.raw("date.months"))
        strings["date_format"] = self.text("date.format", day="{day}", month="{month}", year="{year}")
        if "date.first_day" in self.strings:
            strings["first_day"] = self.text("date.first_day")
        return strings


def load(project: Path | None, language: str) -> Catalogue:
    """The shipped catalogue for `language`, with the project's overrides merged over it."""
    shipped = BUILTIN / f"{language}.yaml"
    strings = _read(shipped) if shipped.is_file() else _read(BUILTIN / "en.yaml")
    if project is not None:
        override = project / "templates" / "i18n" / f"{language}.yaml"
        if override.is_file():
            strings.update(_read(override))
    return Catalogue(language, strings)


def for_site(project: Path | None, language: str, report: Report) -> Catalogue:
    """The site's catalogue; a broken override is reported (E602) and the shipped one used."""
    try:
        return load(project, language)
    except CatalogueError as exc:
        from ..diagnostics import Location

        report.error("E602", str(exc), Location(f"templates/i18n/{language}.yaml"),
                     "fix the YAML; every string is `key: text`")
        return load(None, language)


def install(env: jinja2.Environment, strings: Catalogue) -> None:
    """Template helpers in the site's language: `t()` (HTML-safe), `tt()` (plain), `date`."""

    def t(key: str, /, **params: Any) -> Markup:
        try:
            return strings.markup(key, **params)
        except CatalogueError as exc:
            raise jinja2.UndefinedError(str(exc)) from None

    def tt(key: str, /, **params: Any) -> str:
        try:
            return strings.text(key, **params)
        except CatalogueError as exc:
            raise jinja2.UndefinedError(str(exc)) from None

    env.globals.update(t=t, tt=tt, language=strings.language)
    env.filters["date"] = strings.date
