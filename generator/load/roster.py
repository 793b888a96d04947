"""CSV rosters as spreadsheets export them: BOM, `;` or tab separators, loose header names.

Each data row becomes a positioned mapping (row line, column number, column name) so that
the ordinary award schema validates it and errors read `roster.csv:14:3: ... email: ...`.
"""
from __future__ import annotations

import csv
import io

from ..diagnostics import Location, Report, did_you_mean
from .positioned_yaml import YList, YMap, decode_limited

MAX_CSV_BYTES = 20 * 1024 * 1024
UTF8_HINT = ("save it as UTF-8: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'; in LibreOffice, "
             "tick 'Edit filter settings' and choose 'Unicode (UTF-8)'")

# Header spellings people use, mapped to award field names.
_HEADERS = {
    "badge": "badge", "badge id": "badge", "badge slug": "badge",
    "id": "id", "award id": "id",
    "recipient": "recipient", "recipient id": "recipient",
    "name": "name", "full name": "name", "recipient name": "name", "participant": "name",
    "email": "email", "e-mail": "email", "email address": "email", "e-mail address": "email", "mail": "email",
    "previous email": "previous_email",
    "issued on": "issued_on", "issued_on": "issued_on", "issued": "issued_on", "issue date": "issued_on",
    "date": "issued_on", "date issued": "issued_on", "completed": "issued_on", "completion date": "issued_on",
    "date completed": "issued_on", "completed on": "issued_on", "date of completion": "issued_on",
    "awarded": "issued_on", "awarded on": "issued_on", "date awarded": "issued_on", "award date": "issued_on",
    "expires": "expires", "expiry": "expires", "expiry date": "expires", "expiration date": "expires",
    "evidence": "evidence", "evidence url": "evidence", "evidence link": "evidence",
    "narrative": "narrative", "notes on achievement": "narrative",
    "show name": "show_name", "show_name": "show_name",
}


def _normalise_header(text: str) -> str:
    return " ".join(text.strip().strip('"').lower().replace("_", " ").split())


def _cell(text: str) -> object:
    value = text.strip().replace("\r\n", "\n")  # a multi-line cell from Excel has Windows line breaks
    if value.lower() in ("true", "yes"):
        return True
    if value.lower() in ("false", "no"):
        return False
    return value or None


def parse_roster(data: bytes, path: str, report: Report, defaults: dict | None = None) -> YList | None:
    """Rows of a roster CSV as positioned mappings (empty rows skipped), or None if unreadable."""
    text = decode_limited(data, path, report, limit=MAX_CSV_BYTES, what="CSV",
                          hint="split the roster into several files", encoding_hint=UTF8_HINT)
    if text is None:
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, lines = [], []  # lines: where each row starts (a quoted cell may span several)
    end = 0
    try:
        for row in reader:
            rows.append(row)
            lines.append(end + 1)
            end = reader.line_num
    except csv.Error as exc:
        report.error("E105", f"CSV cannot be parsed: {exc}", Location(path, reader.line_num),
                     "check for an unbalanced double quote on this line")
        return None
    if not rows or not any(c.strip() for c in rows[0]):
        report.error("E105", "CSV has no header row", Location(path, 1),
                     "the first row must name the columns, e.g. name,email,issued_on")
        return None
    columns: list[str | None] = []
    for index, raw in enumerate(rows[0]):
        name = _HEADERS.get(_normalise_header(raw))
        if name is None and raw.strip():
            report.error("E201", f"unknown column '{raw.strip()}'", Location(path, 1, index + 1),
                         did_you_mean(_normalise_header(raw), _HEADERS) or
                         "known columns: badge, name, email, issued_on, expires, evidence, id")
        columns.append(name)
    result = YList()
    result.loc, result.item_locs = Location(path, 1, 1), []
    for line, row in zip(lines[1:], rows[1:]):
        if not any(c.strip() for c in row):
            continue
        mapping = YMap()
        mapping.loc = Location(path, line, 1, f"row {line}")
        mapping.key_locs, mapping.value_locs = {}, {}
        for key, value in (defaults or {}).items():
            mapping[key] = value
        if len(row) > len(columns):
            report.error("E105", f"row has {len(row)} cells but the header has {len(columns)}",
                         Location(path, line, len(columns) + 1), "quote cells that contain the separator")
        for index, (name, cell) in enumerate(zip(columns, row)):
            if name is None:
                continue
            value = _cell(cell)
            if value is None:
                continue
            mapping[name] = value
            mapping.key_locs[name] = mapping.value_locs[name] = Location(path, line, index + 1, name)
        result.append(mapping)
        result.item_locs.append(mapping.loc)
    return result
