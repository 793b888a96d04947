"""The ledger is written a batch of items at a time (canonical.json_bytes_streamed): the bytes must be those of
the one-piece encoding, whatever the values, or a rebuild would change the committed ledger."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from badgekiln import canonical
from hypothesis import given
from hypothesis import strategies as st

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_json = st.recursive(st.none() | st.booleans() | st.integers() | _text,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                     max_leaves=20)


@given(st.dictionaries(_text, _json, max_size=4), st.dictionaries(_text, _json, max_size=6), st.integers(1, 4))
def test_streamed_bytes_equal_the_one_piece_encoding(doc, mapping, batch):
    """Whatever the values, and however the items fall into the encoder's batches."""
    doc.pop("awards", None)
    items = sorted(mapping.items())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(canonical, "_STREAMED_BATCH", batch)
        streamed = canonical.json_bytes_streamed(doc, "awards", iter(items))
    assert streamed == canonical.json_bytes({**doc, "awards": mapping})


def test_a_document_holding_the_marker_is_still_encoded_exactly():
    doc = {"keys": ["\x00streamed\x00"]}
    items = [("a", {"b": 1})]
    expected = canonical.json_bytes({**doc, "awards": dict(items)})
    assert canonical.json_bytes_streamed(doc, "awards", iter(items)) == expected


@given(_json)
def test_the_digest_of_plain_json_is_the_digest_of_its_canonical_text(value):
    """The ledger's credential digest (committed) is this: the model-value hook must never change it."""
    assert canonical.digest(value) == hashlib.sha256(canonical.dumps(value).encode("utf-8")).hexdigest()


def test_model_values_digest_by_their_fields_and_never_by_their_location():
    from dataclasses import dataclass, replace

    @dataclass(frozen=True)
    class Thing:
        name: str
        on: date
        art: bytes
        tags: frozenset
        location: str

    thing = Thing("a", date(2026, 12, 1), b"png", frozenset({"y", "x"}), "content/a.yaml:3")
    art = {"sha256": hashlib.sha256(b"png").hexdigest()}
    assert canonical.digest(thing) == canonical.digest(["a", "2026-12-01", art, ["x", "y"]])  # its values, in order
    assert canonical.digest(replace(thing, location="content/b.yaml:9")) == canonical.digest(thing)
    assert canonical.digest(replace(thing, on=date(2026, 12, 2))) != canonical.digest(thing)
