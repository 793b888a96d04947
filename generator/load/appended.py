"""An awards file that only grew by awards written at its end, read from its new part alone.

The commonest change to a big roster is one more award at its end, and reading the whole
file again costs about half a second at 10^4 awards. What a build took of the file before is
remembered (pipeline/build_memo.py), so only the new awards need reading, if they mean alone
what they mean in the whole file. In block YAML they do when
- everything after the top-level `awards:` line is its list: each line blank, a comment, an
  item (`-` at the items' indent) or indented deeper;
- the new part is such lines too, and its first line that is not blank or a comment is an item;
- no line ends but at LF (YAML also ends lines at CR, NEL, LS and PS) and no block scalar keeps
  its trailing blank lines (`|+`, `>+`: blank lines appended after one would join it).
The new part is read as a document of its own: the file's head (its defaults, `awards:`), the
earlier lines left blank so that every line keeps its number, then the new awards, numbered
after the earlier ones, so that every place a diagnostic names is the place a whole read names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .positioned_yaml import MAX_YAML_BYTES

_AWARDS_LINE = re.compile(rb"^awards:[ ]*(?:#[^\n]*)?\n", re.M)
_FIRST_ITEM = re.compile(rb"^(?:[ ]*(?:#[^\n]*)?\n)*([ ]*)-(?:[ ][^\n]*)?\n", re.A)
_OTHER_BREAKS = (b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())
_KEEPS_BLANKS = re.compile(rb"[|>][1-9]?\+|[|>]\+[1-9]")


@dataclass(frozen=True)
class Shape:
    """Where an awards file's list is, as a build read it: what reading an appended part needs."""

    size: int  # bytes of the file when read
    head: int  # bytes up to the end of its `awards:` line
    indent: int  # spaces before each item's `-`


def _list_lines(indent: int) -> re.Pattern[bytes]:
    """A run of lines each blank, a comment, an item at `indent`, or indented deeper (no line fits
    two of these, so a long file that does not match fails in one pass, not by backtracking)."""
    return re.compile(rb"(?:(?:[ ]*(?:#[^\n]*)?|[ ]{%d}-(?:[ ][^\n]*)?|[ ]{%d,}[^ \n#][^\n]*)\n)*\Z"
                      % (indent, indent + 1))


def shape(data: bytes, items: int) -> Shape | None:
    """The shape of a YAML awards file of `items` awards that more may be appended to and read
    alone; None when not (its list must start a line for each award: a quoted text that runs over
    lines could hold one that looks like an item)."""
    if not data.endswith(b"\n") or any(b in data for b in _OTHER_BREAKS):
        return None
    found = list(_AWARDS_LINE.finditer(data))
    if len(found) != 1:
        return None
    head = found[0].end()
    body = data[head:]
    first = _FIRST_ITEM.match(body)
    if first is None or _KEEPS_BLANKS.search(body):
        return None
    indent = len(first.group(1))
    if not _list_lines(indent).match(body) or len(_items(indent).findall(body)) != items:
        return None
    return Shape(len(data), head, indent)


def _items(indent: int) -> re.Pattern[bytes]:
    return re.compile(rb"^[ ]{%d}-(?:[ ]|$)" % indent, re.M)


def tail_document(data: bytes, earlier: Shape) -> bytes | None:
    """The file read as its new awards alone (see the module docstring); None when `data` did not
    only grow by whole awards at the end of the file `earlier` describes (the caller checks that
    its first `earlier.size` bytes are that file's)."""
    if len(data) <= earlier.size or len(data) > MAX_YAML_BYTES:
        return None
    tail = data[earlier.size:]
    lines = tail if tail.endswith(b"\n") else tail + b"\n"  # (the last line need not end)
    first = _FIRST_ITEM.match(lines)
    if first is None or len(first.group(1)) != earlier.indent or not _list_lines(earlier.indent).match(lines):
        return None
    return data[:earlier.head] + b"\n" * data.count(b"\n", earlier.head, earlier.size) + tail
