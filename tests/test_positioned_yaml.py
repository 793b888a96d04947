"""Content YAML is composed by libyaml (fast) or PyYAML's composer (errors, aliases): the two must agree.

Every value and every recorded position must be the same whichever composer read the file,
and what libyaml cannot express the way we report it (aliases, syntax errors) must come out
as the same located error as before.
"""
from __future__ import annotations

import pytest
import yaml
from badgekiln.diagnostics import Report
from badgekiln.load import positioned_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(positioned_yaml._FAST_LOADER is None, reason="PyYAML built without libyaml")

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_scalar = st.one_of(_text, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                    st.sampled_from(["2026-03-02", "31/12/2026", "yes", "no", "on", "1.5", "~", "null", "0x1F"]))
_documents = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=4)),
    max_leaves=25)


def _both(text: str) -> tuple[tuple, tuple]:
    results = []
    for fast in (positioned_yaml._FAST_LOADER, None):
        saved, positioned_yaml._FAST_LOADER = positioned_yaml._FAST_LOADER, fast
        try:
            report = Report()
            value = positioned_yaml.load_yaml(text.encode("utf-8"), "content/x.yaml", report)
        finally:
            positioned_yaml._FAST_LOADER = saved
        results.append((_with_positions(value), [d.format() for d in report.items]))
    return results[0], results[1]


def _with_positions(value):
    if isinstance(value, positioned_yaml.YMap):
        return ("map", str(value.loc), {k: (str(value.key_locs[k]), str(value.value_locs[k]), _with_positions(v))
                                         for k, v in value.items()})
    if isinstance(value, positioned_yaml.YList):
        return ("list", str(value.loc), [(str(loc), _with_positions(v)) for loc, v in zip(value.item_locs, value)])
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents, flow=st.booleans(), style=st.sampled_from([None, '"', "'"]))
def test_libyaml_and_pyyaml_read_the_same_values_at_the_same_places(document, flow, style):
    text = yaml.safe_dump({"awards": document, "badge": "x"}, default_flow_style=flow, default_style=style,
                          allow_unicode=True)
    fast, python = _both(text)
    assert fast == python


@pytest.mark.parametrize("text", [
    "badge: &b forklift\nawards:\n  - badge: *b\n",  # an alias
    "base: &base {a: 1}\nother:\n  <<: *base\n",  # a merge key through an alias
    "a: *nowhere\n",  # an alias without its anchor (the fast path looks for aliases only where a "&" is)
    "company: Smith & Sons\nb: &x 1\nc: *x\n",  # an "&" in text, and an alias
    "a: 1\nother:\n  <<: {b: 2}\n",  # a merge key (YAML resolves `<<` to one; only quoted it is text)
    "a: 1\na: 2\n",  # duplicate key
    "a: b: c\n",  # mapping values are not allowed here
    "a: [1, 2\n",  # unclosed flow sequence
    "a: 1\n---\nb: 2\n",  # two documents
    "a: !python/object {}\n",  # a custom tag
    "\tname: x\n",  # a tab as indentation
    "name: \"bad \\x07 bell\"\n",  # an escaped control character
])
def test_errors_are_reported_the_same_way(text):
    fast, python = _both(text)
    assert fast == python
    assert fast[1], "each of these is an error"
