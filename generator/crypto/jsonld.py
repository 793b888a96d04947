"""Offline, fail-closed JSON-LD processing for signing and verifying credentials.

Why this module exists (DIGEST §4.5.3, §5):

* A signature must never depend on what a web server returns today, so contexts are served
  only from the files bundled in ``generator/data/contexts`` by exact URL; any other URL is
  refused instead of fetched.
* PyLD ignores ``safe: True``: undefined terms are silently dropped (so they would be
  published but not signed) and undefined types become relative IRIs. jsonld.js verifiers
  run in safe mode and reject such documents, so we run the equivalent check ourselves and
  report the JSON path of the offending key.
* PyLD's N-Quads escaping differs from RDFC-1.0 for most control characters, so strings
  containing them are rejected before they can produce unverifiable signatures.
"""
from __future__ import annotations

import copy
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cachetools import LRUCache

from .. import resources


@contextmanager
def _without_network_clients() -> Iterator[None]:
    """While PyLD is first imported: `requests` and `aiohttp` cannot be imported.

    At import, pyld.jsonld picks a default document loader by importing requests (else aiohttp):
    half of PyLD's import time (50 to 60 ms of every build that signs, an add-one included), for a
    loader Badgekiln never lets it use. Without them PyLD's default loader is one that fetches
    nothing, which is what this module wants anyway. Only names nobody imported are masked, and
    only for that import: code that imports requests later gets it as usual."""
    masked = [name for name in ("requests", "aiohttp") if name not in sys.modules]
    for name in masked:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        yield
    finally:
        for name in masked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


with _without_network_clients():
    from pyld import jsonld as pyld
    from pyld.canon import URDNA2015
    from pyld.context_resolver import ContextResolver
    from pyld.iri_resolver import resolve as resolve_iri

CONTEXTS_DIR = resources.DATA / "contexts"
EXAMPLES_CONTEXT_URL = "https://www.w3.org/ns/credentials/examples/v2"

# Relative IRIs are resolved against this base during the safety check; finding it in the
# output means the document relied on a term or IRI the contexts do not define.
_SENTINEL_BASE = "https://relative-iri.badgekiln.invalid/"
# C0 controls except TAB, LF, CR, plus DEL: PyLD writes these raw, RDFC-1.0 escapes them.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# How json.dumps writes them (\u00XX, \b, \f; DEL stays raw): a quick test of a whole document.
_FORBIDDEN_IN_JSON = re.compile(r"\\(?:u00[01]|[bf])|\x7f")
_KEYWORD_ALIASES = {"@id": "id", "@type": "type"}
# PyLD's own test of an absolute IRI (less the "$" that lets a final newline through): toRdf
# silently leaves out every triple with any other IRI (one with a space, say), so anything else
# is refused here like a relative IRI.
_ABSOLUTE_IRI = re.compile(r"([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*")

DocumentLoader = Callable[[str, dict], dict]


class JsonLdError(ValueError):
    """A document cannot be processed safely; ``path`` is a JSON Pointer into it."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.reason = message


class UnknownContextError(JsonLdError):
    """A context URL that is not bundled (or not allowed in this mode) was requested."""

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context {url!r} is not bundled; refusing to fetch it", "/@context")
        self.url = url


@functools.cache
def context_index() -> dict[str, str]:
    """Canonical context URL -> bundled file name (from ``contexts/index.json``)."""
    return json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))


def context_urls(*, allow_examples: bool = False) -> frozenset[str]:
    """The exact URLs the loader will serve in the given mode."""
    urls = frozenset(context_index())
    return urls if allow_examples else urls - {EXAMPLES_CONTEXT_URL}


@functools.cache
def _context_file(url: str) -> dict[str, Any]:
    return json.loads((CONTEXTS_DIR / context_index()[url]).read_text(encoding="utf-8"))


def load_context(url: str, *, allow_examples: bool = False) -> dict[str, Any]:
    """Parsed bundled context for ``url`` (a fresh copy); raises UnknownContextError otherwise."""
    if url not in context_urls(allow_examples=allow_examples):
        raise UnknownContextError(url)
    return copy.deepcopy(_context_file(url))


@functools.cache
def document_loader(*, allow_examples: bool = False) -> DocumentLoader:
    """A PyLD document loader serving exactly the bundled contexts (never the network)."""

    def load(url: str, options: dict | None = None) -> dict:
        # "static" lets PyLD cache the processed context across operations (DIGEST §5).
        document = load_context(url, allow_examples=allow_examples)
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}

    return load


@functools.cache
def _context_cache(allow_examples: bool) -> LRUCache:
    # One cache per mode: PyLD's global cache would let a context loaded in examples mode be
    # reused later in production mode without asking the (stricter) loader.
    return LRUCache(maxsize=100)


def _options(allow_examples: bool) -> dict[str, Any]:
    loader = document_loader(allow_examples=allow_examples)
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver(_context_cache(allow_examples), loader),
        "base": _SENTINEL_BASE,
    }


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _walk(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Yield (path, value) for every node below ``value``, skipping ``@context``."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def check_strings(doc: Any) -> None:
    """Reject control characters that PyLD would canonicalise differently from RDFC-1.0."""
    try:
        if not _FORBIDDEN_IN_JSON.search(json.dumps(doc, ensure_ascii=False)):
            return  # the usual case, without walking the document in Python
    except (TypeError, ValueError):
        pass
    for path, value in _walk(doc):
        texts = [value] if isinstance(value, str) else list(value) if isinstance(value, dict) else []
        for text in texts:  # a string value, or the keys of an object
            bad = _FORBIDDEN_CHARS.search(text)
            if bad is not None:
                raise JsonLdError(f"control character U+{ord(bad.group()):04X} is not allowed", _pointer(path))


def _expand(doc: dict, options: dict, on_dropped: Callable[[str | None], Any] = pyld.noop) -> list:
    try:
        return pyld.expand(doc, options, on_property_dropped=on_dropped)
    except pyld.JsonLdError as exc:
        raise _translate(exc) from exc


def _translate(exc: BaseException) -> JsonLdError:
    """Surface our own loader error from PyLD's wrapped exception chain."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, JsonLdError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return JsonLdError(f"JSON-LD processing failed: {exc}")


def _shape_paths(value: Any) -> dict[tuple, tuple]:
    """Map each key path, with single-item arrays collapsed, to its real path.

    Compaction turns ``[x]`` into ``x`` and keyword keys into their aliases, so both
    documents are compared in this normalised shape.
    """
    shapes: dict[tuple, tuple] = {}

    def visit(node: Any, shape: tuple, real: tuple) -> None:
        if isinstance(node, list):
            if len(node) == 1:
                visit(node[0], shape, (*real, 0))
            else:
                for index, item in enumerate(node):
                    visit(item, (*shape, index), (*real, index))
        elif isinstance(node, dict):
            for key, item in node.items():
                if key != "@context":
                    name = _KEYWORD_ALIASES.get(key, key)
                    shapes.setdefault((*shape, name), (*real, key))
                    visit(item, (*shape, name), (*real, key))

    visit(value, (), ())
    return shapes


def _dropped_paths(doc: dict, expanded: list, dropped: set[str | None], options: dict) -> list[str]:
    """JSON paths of keys that expansion dropped (outermost first)."""
    try:
        back = pyld.compact(expanded, {"@context": doc.get("@context", {})}, options)
    except pyld.JsonLdError as exc:
        raise _translate(exc) from exc
    kept = _shape_paths(back)
    # PyLD reports an explicitly null-mapped term as None: then any vanished key may be it.
    matches = (lambda key: True) if None in dropped else (lambda key: key in dropped)
    missing = [real for shape, real in _shape_paths(doc).items() if shape not in kept and matches(real[-1])]
    outermost = [p for p in missing if not any(p[:n] in missing for n in range(1, len(p)))]
    if not outermost:  # could not locate; report every occurrence of the dropped names
        outermost = [path for path, _ in _walk(doc) if path and path[-1] in dropped]
    return [_pointer(p) for p in outermost]


def _relative_iris(expanded: Any) -> set[str]:
    found: set[str] = set()
    for path, value in _walk(expanded):
        at_iri = bool(path) and path[-1] in ("@id", "@type") or (len(path) > 1 and path[-2] == "@type")
        if at_iri and isinstance(value, str) and not value.startswith("@"):
            if value.startswith(_SENTINEL_BASE) or not _ABSOLUTE_IRI.fullmatch(value):
                found.add(value)
    return found


def _relative_paths(doc: dict, iris: set[str]) -> list[str]:
    """JSON paths of string values that resolved to one of the relative ``iris``."""
    hits = [path for path, value in _walk(doc)
            if isinstance(value, str) and resolve_iri(value, _SENTINEL_BASE) in iris]
    # Prefer id/type positions: an identical plain-text value elsewhere is not the culprit.
    hits.sort(key=lambda p: not any(k in ("id", "type", "@id", "@type") for k in p[-2:]))
    return [_pointer(p) for p in hits]


def _safe_expand(doc: dict, allow_examples: bool) -> list:
    """Expand ``doc`` and fail on anything jsonld.js safe mode would reject."""
    if not isinstance(doc, dict):
        raise JsonLdError("a JSON-LD document must be a JSON object")
    check_strings(doc)
    options = _options(allow_examples)
    dropped: set[str | None] = set()
    expanded = _expand(doc, options, dropped.add)
    if dropped:
        paths = _dropped_paths(doc, expanded, dropped, options) or [""]
        term = paths[0].rsplit("/", 1)[-1] or ", ".join(sorted(map(str, dropped)))
        raise JsonLdError(f"term {term!r} is not defined by the @context "
                          f"(dropped keys: {', '.join(paths)})", paths[0])
    relative = _relative_iris(expanded)
    if relative:
        names = sorted(iri.removeprefix(_SENTINEL_BASE) for iri in relative)
        paths = _relative_paths(doc, relative) or [""]
        raise JsonLdError(f"{names[0]!r} is not a defined term or absolute IRI "
                          f"(relative IRIs: {', '.join(map(repr, names))})", paths[0])
    return expanded


def expand(doc: dict, *, allow_examples: bool = False) -> list:
    """Safe-mode JSON-LD expansion with the bundled contexts."""
    return _safe_expand(doc, allow_examples)


def check_safe(doc: dict, *, allow_examples: bool = False) -> None:
    """Raise JsonLdError if ``doc`` uses undefined terms, relative IRIs or bad characters."""
    _safe_expand(doc, allow_examples)


def canonize(doc: dict, *, allow_examples: bool = False) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of ``doc`` after the safety checks.

    ``allow_examples`` admits the W3C examples context; use it for test vectors only.
    """
    expanded = _safe_expand(doc, allow_examples)
    options = {**_options(allow_examples), "algorithm": "URDNA2015", "format": "application/n-quads"}
    try:
        # Expansion is idempotent, so normalising the expanded form gives the same dataset
        # without processing the contexts a second time.
        nquads = pyld.normalize(expanded, options)
    except pyld.JsonLdError as exc:
        raise _translate(exc) from exc
    return _without_relative_iris(nquads)


def _without_relative_iris(nquads: str) -> str:
    if _SENTINEL_BASE in nquads:
        raise JsonLdError("canonical form contains a relative IRI")
    return nquads


def rdf_dataset(doc: dict, *, allow_examples: bool = False) -> dict[str, list[dict]]:
    """The RDF dataset of ``doc`` in PyLD's form (graph name -> triples), after the safety checks.

    It is the dataset ``canonize`` canonicalises; crypto/shapes.py makes its templates from it.
    """
    expanded = _safe_expand(doc, allow_examples)
    try:
        return pyld.to_rdf(expanded, {**_options(allow_examples), "produceGeneralizedRdf": False})
    except pyld.JsonLdError as exc:
        raise _translate(exc) from exc


def canonical_nquads(dataset: dict[str, list[dict]]) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset in PyLD's form, by PyLD's URDNA2015 (as ``canonize``).

    The algorithm relabels the dataset's blank nodes in place: pass a fresh one.
    """
    return _without_relative_iris(URDNA2015().main(dataset, {"format": "application/n-quads"}))
