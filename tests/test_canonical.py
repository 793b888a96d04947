"""The ledger is written item by item (canonical.json_bytes_streamed): the bytes must be those of
the one-piece encoding, whatever the values, or a rebuild would change the committed ledger."""
from __future__ import annotations

from badgekiln import canonical
from hypothesis import given
from hypothesis import strategies as st

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_json = st.recursive(st.none() | st.booleans() | st.integers() | _text,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                     max_leaves=20)


@given(st.dictionaries(_text, _json, max_size=4), st.dictionaries(_text, _json, max_size=6))
def test_streamed_bytes_equal_the_one_piece_encoding(doc, mapping):
    doc.pop("awards", None)
    items = sorted(mapping.items())
    assert canonical.json_bytes_streamed(doc, "awards", iter(items)) == canonical.json_bytes({**doc, "awards": mapping})


def test_a_document_holding_the_marker_is_still_encoded_exactly():
    doc = {"keys": ["\x00streamed\x00"]}
    items = [("a", {"b": 1})]
    expected = canonical.json_bytes({**doc, "awards": dict(items)})
    assert canonical.json_bytes_streamed(doc, "awards", iter(items)) == expected
