"""Diagnostics are data: every problem found in content is collected, located and explained.

A stage never prints and never stops at the first problem; it returns diagnostics, and the
CLI renders them as `path:line:col: error[CODE]: message` plus an optional `hint:` line.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


# The code registry: one line per code, so every code has one meaning and a test fixture.
CODES: dict[str, str] = {
    # E1xx: reading files
    "E101": "file is not valid UTF-8",
    "E102": "YAML syntax error",
    "E103": "duplicate key in a YAML mapping",
    "E104": "file is too large",
    "E105": "CSV file cannot be read",
    "E106": "file has the wrong top-level shape",
    "E107": "unsupported YAML feature (anchors, tags or merge keys)",
    # E2xx: fields
    "E201": "unknown key",
    "E202": "missing required field",
    "E203": "wrong type",
    "E204": "invalid date",
    "E205": "invalid email address",
    "E206": "invalid URL",
    "E207": "invalid value",
    "E208": "invalid slug",
    "E209": "invalid duration",
    "E210": "invisible control or bidirectional character in text",
    # E3xx: references and the ledger
    "E301": "unknown reference",
    "E302": "duplicate id",
    "E303": "published award removed from content",
    "E304": "ledger would change in --frozen mode",
    "E305": "ledger file is damaged",
    "E307": "date out of order",
    "E308": "pathway badges require each other",
    "E309": "award status change refused (revoke/suspend/reinstate)",
    "E310": "award reference matches several awards",
    "E311": "email correction refused (correct-email)",
    # E4xx: images
    "E401": "image file missing",
    "E402": "image cannot be read",
    "E403": "image format not allowed",
    "E404": "image too large",
    "E405": "unsafe SVG content",
    "E406": "image cannot be baked",
    # E5xx keys and signing, E6xx templates
    "E501": "signing key cannot be used",
    "E502": "an issued credential would change",
    "E503": "credential cannot be signed",
    "E504": "retired signing key still supplied",
    "E505": "revoked signing key still supplied",
    "E506": "credentials signed with a revoked key need a new key",
    "E507": "no signing key for signed files this build must publish",
    "E601": "template error",
    "E801": "the site would break a limit of its host (site.yaml `host:`)",
    # E7xx: endorsements (received in content/endorsements/, given in content/given-endorsements.yaml)
    "E701": "endorsement cannot be read",
    "E702": "endorsement proof does not verify",
    "E703": "endorsement expired or not yet valid",
    "E704": "endorsement revoked by its endorser",
    "E705": "endorsement names nothing on this site",
    "E706": "endorsement not fetched, or its endorser's key not recorded",
    "E707": "published endorsement removed from content",
    # warnings
    "W101": "recipient roster in a repository that may be public",
    "W202": "image is not square",
    "W203": "published date differs from content",
    "W501": "signed outputs missing: no usable signing key",
    "W204": "CPD activity outside every renewal period",
    "W701": "endorsement revocation status not checked",
    "W801": "BADGEKILN_JOBS is not a number of processes",
}


@dataclass(frozen=True, order=True, slots=True)  # several per award in the positioned YAML: slots save 40 bytes each
class Location:
    """Where in the input a problem is: project-relative path, 1-based line/column, key path."""

    path: str
    line: int = 0
    column: int = 0
    key: str = ""

    def __reduce__(self):  # unpickled through __init__: faster than a slotted dataclass's __setstate__ (the
        return Location, (self.path, self.line, self.column, self.key)  # build memo holds two per award)

    def __str__(self) -> str:
        text = self.path
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    location: Location
    hint: str = ""

    def sort_key(self) -> tuple:
        return (self.location.path, self.location.line, self.location.column, self.code, self.message)

    def format(self) -> str:
        key = f"{self.location.key}: " if self.location.key else ""
        text = f"{self.location}: {self.severity.value}[{self.code}]: {key}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_json(self) -> dict:
        loc = self.location
        return {
            "severity": self.severity.value, "code": self.code, "message": self.message,
            "hint": self.hint, "path": loc.path, "line": loc.line, "column": loc.column, "key": loc.key,
        }


def error(code: str, message: str, location: Location, hint: str = "") -> Diagnostic:
    assert code in CODES, code
    return Diagnostic(Severity.ERROR, code, message, location, hint)


def warning(code: str, message: str, location: Location, hint: str = "") -> Diagnostic:
    assert code in CODES, code
    return Diagnostic(Severity.WARNING, code, message, location, hint)


@dataclass
class Report:
    """An accumulating list of diagnostics, shared by one stage."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def error(self, code: str, message: str, location: Location, hint: str = "") -> None:
        self.add(error(code, message, location, hint))

    def warning(self, code: str, message: str, location: Location, hint: str = "") -> None:
        self.add(warning(code, message, location, hint))

    def error_count(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.items)

    def has_errors(self, strict: bool = False) -> bool:
        return any(d.severity is Severity.ERROR or strict for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        unique = {(d.sort_key(), d.severity, d.hint): d for d in self.items}
        return [unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1].value, k[2]))]


class ContentError(Exception):
    """Raised by a stage that cannot go on; carries every diagnostic found so far."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} problem(s) in content")
        self.diagnostics = diagnostics


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A `did you mean 'x'?` hint, or an empty string when nothing is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else ""


def format_text(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(d.format() for d in diagnostics)


def format_json(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    report = {
        "valid": errors == 0,
        "errorCount": errors,
        "warningCount": len(diagnostics) - errors,
        "messages": [d.as_json() for d in diagnostics],
    }
    return json.dumps(report, indent=2, sort_keys=True)
