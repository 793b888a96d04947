"""Characters no content may hold: invisible controls and bidirectional overrides.

A name with U+0000 breaks readers of the JSON and the baked image; one with U+202E
(RIGHT-TO-LEFT OVERRIDE) shows on the award page and the certificate as text other than the
one stored (a "Trojan Source" trick). Both are refused where content is read, before any
field is parsed, with the code point and its line and column:

- C0 controls (U+0000-U+001F) except tab, line feed and carriage return (line breaks of the
  file; whether a field may hold a tab or a line break is the schema's rule: only multi-line
  Markdown fields may), DEL (U+007F) and the C1 controls (U+0080-U+009F);
- the bidirectional embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069,
  which reorder the text after them. The marks U+200E and U+200F (and U+061C) are allowed:
  they have no scope, reorder nothing beyond a neighbouring digit or punctuation mark, and
  appear in real Hebrew and Arabic names pasted from word processors.

The same rule applies to text written as an escape in a double-quoted YAML string.
"""
from __future__ import annotations

import re
import unicodedata

from ..diagnostics import Location, Report

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HINT = ("delete the invisible character (retype the text, or look for \\x, \\u or \\b escapes in quoted YAML); "
        "it could hide or reorder what the page shows")


def describe(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`, or `U+0000 (a control character)`."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name or 'a control character'})"


def forbidden_in(text: str) -> list[tuple[int, str]]:
    """(index, character) of every refused character in `text`."""
    return [(match.start(), match.group()) for match in _FORBIDDEN.finditer(text)]


def refuse_in_file(text: str, path: str, report: Report) -> str:
    """Report E210 at each refused character of a file's text; return the text without them.

    Parsing then goes on, so every other problem is reported in the same run, and none of
    them is a mere echo of the refused character (an "invalid email" for a stray U+0000).
    """
    found = forbidden_in(text)
    for index, char in found:
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        report.error("E210", f"{describe(char)} is not allowed in content", Location(path, line, column), HINT)
    return _FORBIDDEN.sub("", text) if found else text


def refuse_in_value(value: str, where: Location, report: Report) -> str:
    """E210 for a refused character that a YAML escape put into a value (its file text is clean)."""
    found = forbidden_in(value)
    if found:
        index, char = found[0]
        report.error("E210", f"{describe(char)}, written as an escape at character {index + 1} of the text, "
                     "is not allowed in content", where, HINT)
        return _FORBIDDEN.sub("", value)
    return value
