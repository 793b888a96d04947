"""Safe YAML with positions: every mapping, key and value remembers its line and column.

Composed by libyaml (PyYAML's C binding, when installed: about 8x faster, which is most of
reading a big roster) and by PyYAML's own SafeLoader for any file libyaml refuses or that
uses aliases, so that every error is reported in one wording. Values are constructed here so that
- dates stay strings (the schema parses them, so `31/12/2026` gets a proper error),
- only `true`/`false` are booleans (no YAML 1.1 `yes`/`no`/`on` surprises),
- duplicate keys, aliases, merge keys and custom tags are errors, not silent behaviour.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from ..diagnostics import Location, Report
from . import characters

MAX_YAML_BYTES = 5 * 1024 * 1024

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_NULL = {"", "~", "null", "Null", "NULL"}


class YMap(dict):
    """A dict that knows where it and each of its keys and values are in the file."""

    loc: Location
    key_locs: dict[str, Location]
    value_locs: dict[str, Location]

    def key_loc(self, key: str) -> Location:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: str) -> Location:
        return self.value_locs.get(key, self.loc)


class YList(list):
    """A list that knows where it and each item are in the file."""

    loc: Location
    item_locs: list[Location]


def location_of(value: Any, default: Location) -> Location:
    return getattr(value, "loc", default)


def _mark(path: str, node: yaml.Node, key: str = "") -> Location:
    return Location(path, node.start_mark.line + 1, node.start_mark.column + 1, key)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style:  # quoted or block scalar: always a string (plain is None, or "" from libyaml)
        return text
    if text in _NULL:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


class _Builder:
    def __init__(self, path: str, report: Report, numbered_from: dict[str, int] | None = None):
        self.path = path
        self.report = report
        self.numbered_from = numbered_from or {}  # keypath -> index of its list's first item

    def build(self, node: yaml.Node, keypath: str) -> Any:
        if node.tag not in (
            "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary",
            "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value",
        ):
            self.report.error("E107", f"custom YAML tag {node.tag!r} is not supported",
                              _mark(self.path, node, keypath), "remove the tag; write a plain value")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, keypath)
        if isinstance(node, yaml.SequenceNode):
            result = YList()
            result.loc = _mark(self.path, node, keypath)
            result.item_locs = []
            # A roster's node tree is as big as what is built from it: the tree is read once, so
            # each item's nodes are let go as soon as the item is built (never both trees at once).
            items, node.value = node.value, []
            start = self.numbered_from.get(keypath, 0)
            for index, item in enumerate(items):
                path = f"{keypath}[{start + index}]"
                result.append(self.build(item, path))
                result.item_locs.append(_mark(self.path, item, path))
                items[index] = None
            return result
        value = _scalar(node)
        if isinstance(value, str) and node.style == '"':  # escapes (\x00, \u202e) exist only in double quotes
            value = characters.refuse_in_value(value, _mark(self.path, node, keypath), self.report)
        return value

    def _mapping(self, node: yaml.MappingNode, keypath: str) -> YMap:
        result = YMap()
        result.loc = _mark(self.path, node, keypath)
        result.key_locs, result.value_locs = {}, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.report.error("E107", "merge keys (<<) are not supported",
                                  _mark(self.path, key_node, keypath), "write the keys out in full")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.report.error("E203", "a mapping key must be a plain word",
                                  _mark(self.path, key_node, keypath))
                continue
            key = str(key_node.value)
            if key_node.style == '"':
                key = characters.refuse_in_value(key, _mark(self.path, key_node, keypath), self.report)
            child = f"{keypath}.{key}" if keypath else key
            if key in result:
                first = result.key_locs[key]
                self.report.error("E103", f"duplicate key '{key}' (first defined on line {first.line})",
                                  _mark(self.path, key_node, child), "keep one of the two; YAML keeps only the last")
                continue
            result[key] = self.build(value_node, child)
            result.key_locs[key] = _mark(self.path, key_node, child)
            result.value_locs[key] = _mark(self.path, value_node, child)
        return result


class _ScalarsAsWritten:
    """Tags plain scalars as strings (`_scalar` types them), or `<<` as a merge key (refused).

    YAML's implicit resolvers, a list of regular expressions tried on every scalar, are a
    third of composing a roster, and their answer was never used: dates stay strings here."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _STR
        return super().resolve(kind, value, implicit)


_MERGE, _STR = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"


class _NoAliasComposer(_ScalarsAsWritten, yaml.SafeLoader):
    """SafeLoader whose composer refuses aliases (no billion-laughs expansion, no surprises)."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not supported; write the value out", event.start_mark)
        return super().compose_node(parent, index)


_FAST_LOADER = type("_FastComposer", (_ScalarsAsWritten, yaml.CSafeLoader), {}) if hasattr(yaml, "CSafeLoader") \
    else None


def _compose(text: str) -> yaml.Node | None:
    """The node tree of one document, by libyaml when it can; errors and aliases by PyYAML's composer."""
    if _FAST_LOADER is not None:
        try:
            node = yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            node = False  # reported below, in the Python composer's words
        # an alias needs an anchor (`&name`): a text without "&" composes no node twice
        if node is None or (node is not False and ("&" not in text or not _shares_nodes(node))):
            return node
    loader = _NoAliasComposer(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _shares_nodes(root: yaml.Node) -> bool:
    """Whether a node appears twice in the tree: libyaml composes an alias (*name) as the anchored node."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False


def decode_text(data: bytes, path: str, report: Report, encoding_hint: str | None = None) -> str | None:
    """UTF-8 (a BOM is tolerated) or a located E101."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error("E101", f"file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                     Location(path, line), encoding_hint or "save the file as UTF-8 in your editor")
        return None


def decode_limited(data: bytes, path: str, report: Report, *, limit: int, what: str, hint: str,
                   encoding_hint: str | None = None) -> str | None:
    """The file's text, or None with E104 (too large) or the decoding error.

    Invisible controls and bidirectional overrides are reported here (E210, characters.py) and
    replaced by a placeholder, so that the rest of the file is still checked.
    """
    if len(data) > limit:
        report.error("E104", f"{what} is {len(data)} bytes; the limit is {limit}", Location(path), hint)
        return None
    text = decode_text(data, path, report, encoding_hint)
    return None if text is None else characters.refuse_in_file(text, path, report)


def load_yaml(data: bytes, path: str, report: Report, numbered_from: dict[str, int] | None = None) -> Any:
    """Parse one YAML document into YMap/YList/scalars, reporting every problem to `report`.

    `numbered_from` numbers the items of a list from other than 0 (keypath -> first index): the
    tail of a file read on its own (load/appended.py) is placed where the whole file puts it."""
    text = decode_limited(data, path, report, limit=MAX_YAML_BYTES, what="file", hint="split it into several files")
    if text is None:
        return None
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        if "alias" in str(exc.problem):
            report.error("E107", str(exc.problem), Location(path, line, col),
                         "YAML anchors and aliases are not supported in content")
        else:
            report.error("E102", f"{exc.problem or exc.context}", Location(path, line, col),
                         "check indentation and quoting around this line; quote values containing ': ' or '#'")
        return None
    except yaml.YAMLError as exc:
        report.error("E102", str(exc), Location(path))
        return None
    if node is None:
        return None
    return _Builder(path, report, numbered_from).build(node, "")
