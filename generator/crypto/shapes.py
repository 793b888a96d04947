"""Canonical N-Quads of many similar documents, with one JSON-LD expansion per shape.

Signing a credential canonicalises it (RDFC-1.0), and almost all of that time is JSON-LD
expansion: about 3 ms a credential, most of it re-processing the contexts' scoped term
definitions. The credentials of one badge class differ only in a few strings (id, dates,
identity hash, salt, status entry), so each *shape* is expanded and turned into RDF once,
with a token in place of every distinct string, and a document of that shape is the shape's
RDF dataset with its own strings put back. PyLD's own URDNA2015 then canonicalises those real
quads: blank-node labels are computed from the document's values, never carried over.

Why putting the strings back gives exactly the dataset PyLD makes from the document:

* The shape holds everything expansion decides by: keys, array lengths, numbers, booleans,
  nulls, ``@context``, ``type`` and every other ``@`` keyword's value, and which positions
  hold equal strings. So the token document has the same terms, contexts and nesting, and
  its nodes merge (and its values deduplicate) exactly where the document's do.
* PyLD copies a string verbatim into a literal (unless the datatype is xsd:double or JSON,
  which rewrite it) and keeps a ``scheme://`` IRI as it is (``_expand_iri``; JSON-LD 1.1 lets
  a term named like one map only to itself or to null, and a document whose own context
  names one takes the plain path; no bundled context does). A token is a ``scheme://`` IRI
  when its string is one and a ``urn:`` IRI otherwise; a string whose token lands anywhere
  else (rewritten, dropped, or an IRI that is not ``scheme://``, such as ``did:web:…``) is
  *pinned*: its real value becomes part of the shape.
* A document whose strings contain the token marker, whose substituted value would equal a
  constant term of the template (a node or literal merge the tokens did not have), or which
  fails any check takes the plain path (``jsonld.canonize``), which also gives the errors.
* Each template is checked against the plain path on the first document that makes it; on a
  difference it is never used. tests/test_shapes.py compares every example credential and
  generated variations with plain PyLD.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from . import jsonld

MARKER = "bkslot-4c1f"  # in every token; a document that contains it takes the plain path
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
# PyLD's absolute-IRI pattern with a "//" after the scheme: _expand_iri returns these unchanged.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+,.-]*://[^\s]*")
_KEPT_KEYS = frozenset({"@id", "@value"})  # the only keywords whose string values may be slots
_SLOW = None  # a template or shape that must always take the plain path


def _url_token(slot: int) -> str:
    return f"https://{MARKER}.invalid/{slot}/"  # the closing "/": no token is part of another


def _text_token(slot: int) -> str:
    return f"urn:{MARKER}:{slot}:"


def _constant(key: str) -> bool:
    """Values of these keys are part of the shape (types and keywords steer expansion)."""
    return key == "type" or (key.startswith("@") and key not in _KEPT_KEYS)


class _Plain(ValueError):
    """The document contains the token marker, or a context of its own names a term like a URL."""


def _url_terms(context: Any) -> bool:
    """Whether an inline context (at any depth) defines a term named like a ``scheme://`` IRI."""
    if isinstance(context, list):
        return any(_url_terms(item) for item in context)
    if isinstance(context, dict):
        return any("://" in key or _url_terms(value) for key, value in context.items())
    return False


def _split(doc: dict) -> tuple[tuple, list[str]]:
    """The document's shape (hashable) and its distinct strings, in first-seen order.

    In the shape a string is the number of its slot, so equal strings share one slot.
    """
    slots: dict[str, int] = {}

    def constant(value: Any) -> tuple[str, str]:
        text = json.dumps(value)  # numbers, booleans, null: 1, 1.0 and true stay distinct
        if MARKER in text:
            raise _Plain
        return ("=", text)

    def visit(node: Any) -> Any:
        if isinstance(node, str):
            slot = slots.get(node)
            if slot is None:
                if MARKER in node:
                    raise _Plain
                slot = slots[node] = len(slots)
            return slot
        if isinstance(node, dict):
            if any(MARKER in key for key in node) or _url_terms(node.get("@context")):
                raise _Plain
            return ("{", *[(key, constant(value) if _constant(key) else visit(value)) for key, value in node.items()])
        if isinstance(node, list):
            return ("[", *[visit(item) for item in node])
        return constant(node)

    shape = visit(doc)
    return shape, list(slots)


def _build(shape: Any, strings: list[str]) -> Any:
    """The document a shape describes, with ``strings[slot]`` in each slot."""
    if isinstance(shape, int):
        return strings[shape]
    kind, *items = shape
    if kind == "=":
        return json.loads(items[0])
    if kind == "[":
        return [_build(item, strings) for item in items]
    return {key: _build(value, strings) for key, value in items}


@dataclass(frozen=True)
class _Landing:
    """Where each token landed in a token document's dataset."""

    iris: frozenset[int]  # slots found as a whole IRI (subject, object or graph name)
    literals: dict[int, frozenset[tuple[str, str | None]]]  # slot -> its literals' (datatype, language)
    bad: frozenset[int]  # slots not found whole, rewritten, or an IRI that is not scheme://

    @classmethod
    def of(cls, dataset: dict[str, list[dict]], tokens: dict[str, int], urls: list[bool]) -> _Landing:
        iris: set[int] = set()
        literals: dict[int, set] = {}
        bad: set[int] = set()
        for graph, triples in dataset.items():
            if graph in tokens:
                iris.add(tokens[graph])
            for triple in triples:
                for term in triple.values():
                    slot = tokens.get(term["value"])
                    if slot is None:
                        if MARKER in term["value"]:  # a token inside a longer (rewritten) term
                            bad.update(s for t, s in tokens.items() if t in term["value"])
                    elif term["type"] == "IRI":
                        iris.add(slot)
                    elif term["type"] == "literal" and term["datatype"] != _XSD_DOUBLE:
                        literals.setdefault(slot, set()).add((term["datatype"], term.get("language")))
                    else:
                        bad.add(slot)
        bad |= {slot for slot in iris if not urls[slot]}
        bad |= set(tokens.values()) - iris - set(literals)
        return cls(frozenset(iris), {s: frozenset(v) for s, v in literals.items()}, frozenset(bad))


@dataclass(frozen=True)
class _Template:
    """A shape's RDF dataset with slot numbers where the document's strings go."""

    graphs: tuple[tuple[str | int, tuple[tuple[tuple[dict, int | None], ...], ...]], ...]
    iri_slots: frozenset[int]
    literal_slots: dict[int, frozenset[tuple[str, str | None]]]
    constant_iris: frozenset[str]
    constant_literals: frozenset[tuple[str, str, str | None]]

    @classmethod
    def of(cls, dataset: dict[str, list[dict]], tokens: dict[str, int], landing: _Landing) -> _Template:
        graphs = []
        iris: set[str] = set()
        literals: set[tuple] = set()
        for graph, triples in dataset.items():
            rows = []
            for triple in triples:
                row = []
                for position in ("subject", "predicate", "object"):
                    term = triple[position]
                    slot = tokens.get(term["value"])
                    row.append((term, slot))
                    if slot is None and term["type"] == "IRI":
                        iris.add(term["value"])
                    elif slot is None and term["type"] == "literal":
                        literals.add((term["value"], term["datatype"], term.get("language")))
                rows.append(tuple(row))
            name = tokens.get(graph, graph)
            if isinstance(name, str) and name != "@default" and not name.startswith("_:"):
                iris.add(name)
            graphs.append((name, tuple(rows)))
        return cls(tuple(graphs), landing.iris, landing.literals, frozenset(iris), frozenset(literals))

    def dataset(self, strings: list[str]) -> dict[str, list[dict]] | None:
        """The document's dataset, or None when a string would merge with a constant term."""
        if any(strings[slot] in self.constant_iris for slot in self.iri_slots):
            return None
        for slot, kinds in self.literal_slots.items():
            if any((strings[slot], datatype, language) in self.constant_literals for datatype, language in kinds):
                return None
        out: dict[str, list[dict]] = {}
        for name, rows in self.graphs:
            triples = out.setdefault(strings[name] if isinstance(name, int) else name, [])
            for row in rows:
                triple = {}
                for position, (term, slot) in zip(("subject", "predicate", "object"), row):
                    if slot is not None:
                        term = {**term, "value": strings[slot]}
                    elif term["type"] == "blank node":  # URDNA2015 relabels these in place
                        term = dict(term)
                    triple[position] = term
                triples.append(triple)
        return out


class ShapeCanonicalizer:
    """``jsonld.canonize`` for many documents of few shapes; counts which path each one took."""

    def __init__(self, *, allow_examples: bool = False, size: int = 256) -> None:
        self.allow_examples = allow_examples
        self._pins: LRUCache = LRUCache(maxsize=size)  # shape -> pinned slots, or _SLOW
        self._templates: LRUCache = LRUCache(maxsize=size)  # (shape, pinned values) -> _Template or _SLOW
        self.fast = 0  # documents canonicalised from a template
        self.slow = 0  # documents that took the plain path

    @property
    def templates(self) -> int:
        """How many shape templates are cached."""
        return len(self._templates)

    def canonize(self, doc: dict) -> str:
        """RDFC-1.0 canonical N-Quads of ``doc``: equal to ``jsonld.canonize``, same errors."""
        nquads = self._from_template(doc) if isinstance(doc, dict) else None
        if nquads is not None:
            self.fast += 1
            return nquads
        self.slow += 1
        return jsonld.canonize(doc, allow_examples=self.allow_examples)

    def _from_template(self, doc: dict) -> str | None:
        try:
            jsonld.check_strings(doc)
            shape, strings = _split(doc)
        except (jsonld.JsonLdError, TypeError, ValueError, RecursionError):
            return None  # the plain path reports it (or see _Plain)
        urls = [_URL.fullmatch(s) is not None for s in strings]
        key = (shape, tuple(urls))
        pins = self._pins.get(key, ...)
        if pins is ...:
            pins = self._pins[key] = self._pinned(shape, urls)
        if pins is _SLOW:
            return None
        template_key = (key, tuple(strings[slot] for slot in pins))
        template = self._templates.get(template_key, ...)
        if template is ...:
            try:
                template = self._template(doc, shape, strings, urls, pins)
            except jsonld.JsonLdError:
                return None  # this document fails on the plain path too; the next one may make the template
            self._templates[template_key] = template
        if template is _SLOW:
            return None
        dataset = template.dataset(strings)
        if dataset is None:
            return None
        try:
            return jsonld.canonical_nquads(dataset)
        except jsonld.JsonLdError:
            return None

    def _token_dataset(self, shape: tuple, strings: list[str], urls: list[bool],
                       pins: tuple[int, ...]) -> tuple[dict, dict[str, int]]:
        tokens = {(_url_token if urls[slot] else _text_token)(slot): slot
                  for slot in range(len(strings)) if slot not in pins}
        filled = list(strings)
        for token, slot in tokens.items():
            filled[slot] = token
        return jsonld.rdf_dataset(_build(shape, filled), allow_examples=self.allow_examples), tokens

    def _pinned(self, shape: tuple, urls: list[bool]) -> tuple[int, ...] | None:
        """The slots whose strings must be part of the template (see the module docstring)."""
        try:
            dataset, tokens = self._token_dataset(shape, [""] * len(urls), urls, ())
        except Exception:  # whatever fails on the token document, the plain path decides
            return _SLOW
        return tuple(sorted(_Landing.of(dataset, tokens, urls).bad))

    def _template(self, doc: dict, shape: tuple, strings: list[str], urls: list[bool],
                  pins: tuple[int, ...]) -> _Template | None:
        try:
            dataset, tokens = self._token_dataset(shape, strings, urls, pins)
        except Exception:  # whatever fails on the token document, the plain path decides
            return _SLOW
        landing = _Landing.of(dataset, tokens, urls)
        if landing.bad:
            return _SLOW
        template = _Template.of(dataset, tokens, landing)
        # Checked on the first document of the shape: the template must give what PyLD gives.
        plain = jsonld.canonize(doc, allow_examples=self.allow_examples)  # its error: no template yet
        filled = template.dataset(strings)
        return template if filled is not None and jsonld.canonical_nquads(filled) == plain else _SLOW


_SHARED = {flag: ShapeCanonicalizer(allow_examples=flag) for flag in (False, True)}


def canonicalizer(*, allow_examples: bool = False) -> ShapeCanonicalizer:
    """The process's canonicalizer for the mode (signing workers inherit it, templates and all)."""
    return _SHARED[allow_examples]


def canonize(doc: dict, *, allow_examples: bool = False) -> str:
    """``jsonld.canonize`` by shape template (see the module docstring); same result, same errors."""
    return _SHARED[allow_examples].canonize(doc)
