"""Where a member of a JSON document is: the line a diagnostic about a JSON file points at.

The standard `json` module returns values without positions, so errors about a received
endorsement (a JSON file made by someone else's tool) would all point at line 1. This walks
the text once along one key path and returns the line of that key, nothing more.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from json.decoder import scanstring

_WHITESPACE = " \t\r\n"
_DECODER = json.JSONDecoder()


def line_of(text: str, path: Sequence[str | int]) -> int:
    """1-based line of the member at `path` (e.g. ["credentialSubject", "id"]); 1 if not found."""
    try:
        position = _find(text, _skip(text, 0), list(path))
    except (ValueError, IndexError):
        return 1
    return text.count("\n", 0, position) + 1 if position is not None else 1


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _find(text: str, index: int, path: list[str | int]) -> int | None:
    if not path:
        return index
    opening = text[index]
    if opening not in "{[":
        return None
    index = _skip(text, index + 1)
    position = 0
    while text[index] not in "}]":
        start = index
        if opening == "{":
            key, index = scanstring(text, index + 1)
            index = _skip(text, index)
            if text[index] != ":":
                return None
            index = _skip(text, index + 1)
        else:
            key = position
        if key == path[0]:
            return start if len(path) == 1 else _find(text, index, path[1:])
        _, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index] == ",":
            index = _skip(text, index + 1)
        position += 1
    return None
