"""Canonical JSON bytes: the one serialisation used for every JSON artifact.

Sorted keys, fixed separators, UTF-8, LF, trailing newline: the same value always gives the
same bytes, which is what byte-identical rebuilds (DESIGN.md invariant 3) rest on.
"""
from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """Compact, sorted JSON text without a trailing newline (used for embedding and signing)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def json_bytes(value: Any) -> bytes:
    """Pretty, sorted JSON file bytes with a trailing newline (used for published files)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "))
    return (text + "\n").encode("utf-8")
