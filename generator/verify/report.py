"""What `verify` found, as data, and how it is shown (text for people, JSON for programs)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not checked / informational
    message: str

    def as_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "message": self.message}


@dataclass
class Finding:
    """One badge found in the input and what was checked about it."""

    kind: str  # e.g. "Open Badges 3.0 credential (Data Integrity proof)"
    checks: list[Check] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok is not False for c in self.checks)

    def add(self, name: str, ok: bool | None, message: str) -> bool | None:
        self.checks.append(Check(name, ok, message))
        return ok

    def as_json(self) -> dict:
        return {"format": self.kind, "valid": self.valid, "summary": self.summary,
                "checks": [c.as_json() for c in self.checks]}


@dataclass
class VerificationResult:
    source: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None and bool(self.findings) and all(f.valid for f in self.findings)

    def as_json(self) -> dict:
        return {"input": self.source, "valid": self.valid, "error": self.error,
                "badges": [f.as_json() for f in self.findings]}


_MARK = {True: "[ok]  ", False: "[FAIL]", None: "[--]  "}


def format_text(result: VerificationResult, email: str | None = None) -> str:
    """The verdict a person reads first, then one line per check."""
    if result.error:
        return f"INVALID: {result.error}"
    lines = []
    for finding in result.findings:
        s = finding.summary
        verdict = "VALID" if finding.valid else "INVALID"
        failed = next((c for c in finding.checks if c.ok is False), None)
        lines.append(f"{verdict}: {finding.kind}" + (f" -- {failed.name}: {failed.message}" if failed else ""))
        if s.get("name") or s.get("issuer"):
            lines.append(f"  {s.get('name') or '(unnamed badge)'}, issued by {s.get('issuer') or s.get('issuerId')}")
        for check in finding.checks:
            lines.append(f"  {_MARK[check.ok]} {check.name:<17} {check.message}")
        if email is None and finding.valid:
            lines.append("  (add --email ADDRESS to check who it was issued to)")
    return "\n".join(lines)


def format_json(result: VerificationResult) -> str:
    return json.dumps(result.as_json(), indent=2, sort_keys=True, ensure_ascii=False)
