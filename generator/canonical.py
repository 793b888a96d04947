"""Canonical JSON bytes and digests: the one serialisation of every JSON artifact and hash.

Sorted keys, fixed separators, UTF-8, LF, trailing newline: the same value always gives the
same bytes, which is what byte-identical rebuilds (DESIGN.md invariant 3) rest on. Digests
(the ledger's frozen-credential digest, the build cache's input digest) hash the same form.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any


def dumps(value: Any) -> str:
    """Compact, sorted JSON text without a trailing newline (used for embedding and signing)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def json_bytes(value: Any) -> bytes:
    """Pretty, sorted JSON file bytes with a trailing newline (used for published files)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "))
    return (text + "\n").encode("utf-8")


def json_bytes_streamed(doc: dict, name: str, items: Iterable[tuple[str, Any]]) -> bytes:
    """`json_bytes({**doc, name: dict(items)})` for a huge mapping whose items come in key order.

    Encoded a batch of items at a time into one growing buffer, so neither the mapping nor a
    second copy of the text is ever held (the ledger of 10^5 awards is about 100 MB of JSON).
    In batches, not item by item: each call of the indenting encoder (pure Python) leaves a
    reference cycle of its closures, which a build, collecting rarely (api._few_collections),
    would leave lying for thousands of calls (6 MB as a first build of 10^4 writes its ledger)."""
    marker = "\u0000streamed\u0000"  # where the mapping goes: no content holds it (NUL is refused)
    parts = json_bytes({**doc, name: marker}).split(json.dumps(marker).encode("utf-8"))
    if len(parts) != 2:  # the marker is in `doc` after all: the same bytes the simple way
        return json_bytes({**doc, name: dict(items)})
    head, tail = parts
    out = io.BytesIO()
    out.write(head)
    separator = "{\n    "
    for batch in _batched(items):
        text = json.dumps(dict(batch), sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "))
        # '{\n  "k": v,\n  "l": w\n}': its items, two spaces deeper
        out.write(f"{separator}{text[4:-2].replace(chr(10), chr(10) + '  ')}".encode("utf-8"))
        separator = ",\n    "
    out.write(b"{}" if separator.startswith("{") else b"\n  }")
    out.write(tail)
    return out.getvalue()  # BytesIO hands over its buffer: no copy


_STREAMED_BATCH = 256


def _batched(items: Iterable[tuple[str, Any]]) -> Iterator[list[tuple[str, Any]]]:
    """itertools.batched (Python 3.12 and later)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, _STREAMED_BATCH)):
        yield batch


def _form(value: Any) -> Any:
    """The JSON-able form of a model value the encoder cannot write itself (its `default` hook).

    Dataclasses become the list of their field values in field order (less `location`, which
    only diagnostics read; the class's fields are part of the code a cache is keyed by), bytes
    their SHA-256, dates their ISO text. A value with a `digest_form()` method gives that
    instead: images by their cached hash, signers by their key id (never key material).
    The encoder recurses into what this returns, in C: a digest walks no Python per value.
    """
    if isinstance(value, (datetime, date)):  # the commonest, first
        return value.isoformat()
    form = getattr(value, "digest_form", None)
    if form is not None:
        return form()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _field_values(type(value))(value)
    if isinstance(value, (bytes, bytearray)):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return repr(value)


def _digest_encoder() -> Callable[[Any], str]:
    """`JSONEncoder(...).encode` with the digest's settings, its C encoder made once.

    `encode` makes a C encoder on every call (1 to 2 µs, and a build digests each award once or
    twice); this is what `encode` does inside, with the encoder kept. Without the circular-reference
    check: a model value is a tree (a cycle would end in RecursionError, not a digest)."""
    settings = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":"), "default": _form,
                "check_circular": False}
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another Python): the plain way
        return json.JSONEncoder(**settings).encode
    encoder = make(None, _form, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    return lambda value: "".join(encoder(value, 0))


_DIGEST_ENCODE = _digest_encoder()


class DigestOnce:
    """For frozen dataclasses that many digests share (the site, an issuer, a badge, an award):
    their digest form is computed once per object, not once per digest that refers to them.

    The digest is kept in `_digest_cache`: beside the fields of an ordinary dataclass, and in a
    field of its own (init=False, compare=False) in a slotted one, which `replace()` resets. The
    text only: 10^5 awards each keeping the form's dict too would be 6 MB more."""

    __slots__ = ()

    def digest_form(self) -> dict:
        cached = getattr(self, "_digest_cache", None)
        if cached is None:
            cached = digest(_field_values(type(self))(self))
            object.__setattr__(self, "_digest_cache", cached)  # frozen: never one of the inputs
        return {"sha256": cached}


def digest(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `value` (model values in their `_form`): equal values,
    equal digests. Of plain JSON it is the digest of `dumps(value)` (the ledger's credential digest)."""
    return hashlib.sha256(_DIGEST_ENCODE(value).encode("utf-8")).hexdigest()


_NOT_INPUTS = frozenset({"location", "loc", "_digest_cache"})  # where content came from, and the digest itself


@functools.lru_cache(maxsize=None)
def _field_values(cls: type) -> Callable[[Any], tuple]:
    """A function giving the tuple of a dataclass's digested field values (one C call: 10^5 awards)."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in _NOT_INPUTS]
    return operator.attrgetter(*names) if len(names) > 1 else lambda value: tuple(getattr(value, n) for n in names)
