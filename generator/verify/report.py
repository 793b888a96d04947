"""What `verify` found, as data, and how it is shown (text for people, JSON for programs).

Three verdicts, as in the browser verifier: VALID; INVALID (a check gave a definite "no");
UNVERIFIED (something needed could not be fetched, so nothing is known either way).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

VALID, INVALID, UNVERIFIED = "valid", "invalid", "unverified"


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not checked / informational
    message: str
    unreachable: bool = False  # failed only because a document could not be fetched

    def as_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "message": self.message, "unreachable": self.unreachable}


def _worst(verdicts: list[str]) -> str:
    return INVALID if INVALID in verdicts else UNVERIFIED if UNVERIFIED in verdicts else VALID


@dataclass
class Finding:
    """One badge found in the input and what was checked about it."""

    kind: str  # e.g. "Open Badges 3.0 credential (Data Integrity proof)"
    checks: list[Check] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if not self.checks:
            return INVALID
        return _worst([(UNVERIFIED if c.unreachable else INVALID) for c in self.checks if c.ok is False])

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    def add(self, name: str, ok: bool | None, message: str, *, unreachable: bool = False) -> bool | None:
        self.checks.append(Check(name, ok, message, unreachable and ok is False))
        return ok

    def as_json(self) -> dict:
        return {"format": self.kind, "valid": self.valid, "verdict": self.verdict, "summary": self.summary,
                "checks": [c.as_json() for c in self.checks]}


@dataclass
class VerificationResult:
    source: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    unreachable: bool = False  # the error is that the input could not be fetched

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return UNVERIFIED if self.unreachable else INVALID
        return _worst([f.verdict for f in self.findings]) if self.findings else INVALID

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    def as_json(self) -> dict:
        return {"input": self.source, "valid": self.valid, "verdict": self.verdict, "error": self.error,
                "badges": [f.as_json() for f in self.findings]}


_MARK = {True: "[ok]  ", False: "[FAIL]", None: "[--]  "}


def _mark(check: Check) -> str:
    return "[??]  " if check.unreachable else _MARK[check.ok]


def format_text(result: VerificationResult, email: str | None = None) -> str:
    """The verdict a person reads first, then one line per check."""
    if result.error:
        return f"UNVERIFIED: could not check: {result.error}" if result.unreachable else f"INVALID: {result.error}"
    lines = []
    for finding in result.findings:
        s = finding.summary
        verdict = finding.verdict
        failed = next((c for c in finding.checks if c.ok is False and c.unreachable == (verdict == UNVERIFIED)), None)
        why = ("" if failed is None else f" -- could not check {failed.name}: {failed.message}"
               if verdict == UNVERIFIED else f" -- {failed.name}: {failed.message}")
        lines.append(f"{verdict.upper()}: {finding.kind}{why}")
        if s.get("name") or s.get("issuer"):
            lines.append(f"  {s.get('name') or '(unnamed badge)'}, issued by {s.get('issuer') or s.get('issuerId')}")
        for check in finding.checks:
            lines.append(f"  {_mark(check)} {check.name:<17} {check.message}")
        if verdict == UNVERIFIED:
            lines.append("  (nothing was found wrong, but not everything could be checked: try again when the "
                         "issuer's site can be reached)")
        if email is None and finding.valid:
            lines.append("  (add --email ADDRESS to check who it was issued to)")
    return "\n".join(lines)


def format_json(result: VerificationResult) -> str:
    return json.dumps(result.as_json(), indent=2, sort_keys=True, ensure_ascii=False)
