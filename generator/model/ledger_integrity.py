"""Integrity checks of the ledger's records: a hand edit is found, and named, without any secret.

Each record of the ledger (an award, a signing key, an issuer's signed status lists)
carries `check`: one short SHA-256 piece per field, over the record's name, the field's name
and its value (`award_check`...). Badgekiln writes them with every ledger it writes. On reading,
a piece that no longer matches names the field that was changed (a salt, a slug, a date);
every piece wrong means the record was moved to another name or rewritten. This catches edits
by hand or by a careless script, which is the risk (the ledger is committed, and git holds the
good copy); it is no defence against someone who recomputes the checks on purpose, which
needs no secret by design: a build on any machine, or CI, must be able to check the ledger.

Ledgers written before the checks existed have none; they are accepted and sealed by the next
build that writes the ledger. Once any record of a ledger has a check, every record must.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from .. import canonical
from ..diagnostics import Location, Report

CHECK = "check"
_PIECE = 6  # hex digits per field: a random edit slips through one time in 16.7 million
# the fields each section's check covers, in order (adding one later means a new section version)
SECTIONS: dict[str, tuple[str, ...]] = {
    "awards": ("badge", "slug", "salt", "issued_on", "expires", "status_index", "credential"),
    "keys": ("id", "issuer", "created", "retired", "publicKeyMultibase", "publicKeyJwk", "revoked",
             "revocationReason"),
    "issuers": ("revocation", "suspension", "signed_forms"),
}
_WHAT = {"awards": "award", "keys": "signing key", "issuers": "issuer"}
HINT = ("restore the ledger from git (`git checkout content/ledger.json content/ledger/`; `git log -p content/` "
        "shows the change); only badgekiln writes it. To correct a recipient's email, use `badgekiln correct-email`")


def _piece(section: str, name: str, field: str, value: Any) -> str:
    text = f"s{value}" if isinstance(value, str) else f"j{canonical.dumps(value)}"  # most values are text: no JSON
    return hashlib.sha256(f"{section}\0{name}\0{field}\0{text}".encode("utf-8")).hexdigest()[:_PIECE]


def check_of(section: str, name: str, record: dict) -> str:
    return "".join(_piece(section, name, field, record.get(field)) for field in SECTIONS[section])


def sealed(section: str, name: str, record: dict) -> dict:
    """`record` with its check (any older check replaced)."""
    plain = {k: v for k, v in record.items() if k != CHECK}
    return {**plain, CHECK: check_of(section, name, plain)}


def seal(doc: dict) -> dict:
    """The ledger document with a check on every record of every section."""
    doc = dict(doc)
    for section in ("awards", "issuers"):
        if isinstance(doc.get(section), dict):
            doc[section] = {name: sealed(section, str(name), r) if isinstance(r, dict) else r
                            for name, r in doc[section].items()}
    if isinstance(doc.get("keys"), list):
        doc["keys"] = [sealed("keys", str(k.get("id")), k) if isinstance(k, dict) else k for k in doc["keys"]]
    return doc


def has_checks(doc: Any) -> bool:
    return any(CHECK in record for _, _, record in _records(doc))


def lacks_checks(doc: Any) -> bool:
    return any(CHECK not in record for _, _, record in _records(doc))


def verify(doc: dict, text: str, path: str, report: Report, required: bool = False) -> None:
    """E305 at the line of each record (or field) that no longer matches its check.

    Checks are `required` in files only a Badgekiln with checks writes; else once one record has one."""
    required = required or has_checks(doc)
    for section, name, record in _records(doc):
        check = record.get(CHECK)
        what = f"{_WHAT[section]} record '{name}'"
        if check is None:
            if required:
                report.error("E305", f"{what} has no integrity check, unlike the rest of the ledger (was it added or "
                             "copied by hand?)", locate(text, path, section, name), HINT)
            continue
        fields = SECTIONS[section]
        if not isinstance(check, str) or len(check) != _PIECE * len(fields):
            report.error("E305", f"{what}: its integrity check was edited", locate(text, path, section, name, CHECK),
                         HINT)
            continue
        changed = [f for i, f in enumerate(fields)
                   if check[i * _PIECE:(i + 1) * _PIECE] != _piece(section, name, f, record.get(f))]
        if len(changed) == len(fields):
            report.error("E305", f"{what} does not match its integrity check at all: it was renamed, moved or "
                         "rewritten by hand", locate(text, path, section, name), HINT)
        elif changed:
            names = ", ".join(f"'{f}'" for f in changed)
            report.error("E305", f"{what} was edited by hand: {names} no longer "
                         f"{'matches' if len(changed) == 1 else 'match'} its integrity check",
                         locate(text, path, section, name, changed[0]), HINT)


def _records(doc: Any) -> Iterator[tuple[str, str, dict]]:
    if not isinstance(doc, dict):
        return
    for section in ("awards", "issuers"):
        records = doc.get(section)
        if isinstance(records, dict):
            yield from ((section, str(n), r) for n, r in records.items() if isinstance(r, dict))
    if isinstance(doc.get("keys"), list):
        yield from (("keys", str(r.get("id")), r) for r in doc["keys"] if isinstance(r, dict))


def locate(text: str, path: str, section: str, name: str, field: str | None = None) -> Location:
    """Line and column of a record (or one of its fields) in the ledger as Badgekiln writes it.

    Found by reading the indented JSON line by line; in a file reformatted by hand that fails
    gracefully to line 1.
    """
    lines = text.split("\n")
    opening = f"{json.dumps(section)}: "
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(opening)), None)
    if start is None:
        return Location(path, 1)
    if section == "keys":
        anchor = next((i for i in range(start + 1, len(lines))
                       if lines[i].strip().rstrip(",") == f'"id": {json.dumps(name)}'), None)
        record = next((i for i in range(anchor, start, -1) if lines[i].strip() == "{"), None) if anchor else None
    else:
        key = f"{json.dumps(name, ensure_ascii=False)}: "
        record = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(key)), None)
    if record is None:
        return Location(path, 1)
    found = record
    if field is not None and record + 1 < len(lines):
        indent, child = _indent(lines[record]), _indent(lines[record + 1])
        for i in range(record + 1, len(lines)):
            if _indent(lines[i]) <= indent:
                break
            if _indent(lines[i]) == child and lines[i].strip().startswith(f"{json.dumps(field)}:"):
                found = i
                break
    return Location(path, found + 1, _indent(lines[found]) + 1)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
