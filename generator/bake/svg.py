"""SVG baking by element splice: `<openbadges:assertion|credential>` as the root's first child.

The document is parsed once with defusedxml (no entity declarations, no external references) to
prove it is well-formed and to learn each element's namespace; the edit itself is made on the
original bytes, located by a small lexer, so the artwork's markup, whitespace and attribute order
survive exactly. Element shapes follow DIGEST.md section 3.2.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

from . import Baked, BakeError, is_json

NAMESPACES = {"ob2": "http://openbadges.org", "ob3": "https://purl.imsglobal.org/ob/v3p0"}
ELEMENTS = {"ob2": "assertion", "ob3": "credential"}
TAGS = {f"{{{NAMESPACES[v]}}}{ELEMENTS[v]}": v for v in NAMESPACES}
BOM = b"\xef\xbb\xbf"

# One XML token at a time; valid for any well-formed document (which defusedxml checks first).
_TOKEN = re.compile(
    rb"""
    (?P<comment><!--.*?-->)
    |(?P<cdata><!\[CDATA\[.*?\]\]>)
    |(?P<pi><\?.*?\?>)
    |(?P<doctype><!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*')*(?:\[.*?\]\s*)?>)
    |(?P<end></(?P<ename>[^\s>]+)\s*>)
    |(?P<start><(?P<name>[^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(?P<empty>/?)>)
    |(?P<text>[^<]+)
    """,
    re.S | re.X,
)
_ATTR = re.compile(rb"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENCODING = re.compile(rb"""\sencoding\s*=\s*["']([^"']*)["']""")


def bake(image: bytes, payload: str, *, version: str, verify: str | None) -> bytes:
    """Return the SVG with one badge element of `version`, replacing any existing one."""
    tree = parse(image)
    check_utf8(image)
    spans = element_spans(image)
    elements = list(tree.iter())
    if len(spans) != len(elements):
        raise BakeError("E402", "SVG could not be tokenised consistently with its parse")
    root = spans[0]
    start_tag = image[root[0]:root[1]]
    removed = [s for s, el in zip(spans, elements) if TAGS.get(el.tag) == version]
    element = badge_element(payload, version, verify)
    closing = b""
    if root[1] == root[2]:  # self-closing <svg .../>: open it, then close it after our element
        name = _TOKEN.match(start_tag).group("name")
        start_tag = re.sub(rb"\s*/>$", b">", start_tag)
        closing = b"</" + name + b">"
    start_tag = declare_namespace(start_tag, version)
    baked = image[:root[0]] + start_tag + element + closing + cut(image, root[1], removed)
    try:
        parse(baked)  # never hand out a document we could not read back
    except BakeError as exc:
        raise BakeError("E406", f"payload or verify cannot be carried in XML: {exc.message}") from None
    return baked


def unbake(image: bytes) -> list[Baked]:
    """Every `assertion` (OB 2.0) and `credential` (OB 3.0) element, matched by namespace URI."""
    found = []
    for el in parse(image).iter():
        version = TAGS.get(el.tag) if isinstance(el.tag, str) else None
        if version is None:
            continue
        body = (el.text or "").strip()
        verify = el.get("verify")
        if not body and not verify:
            raise BakeError("E402", f"SVG has an empty <{ELEMENTS[version]}> badge element")
        found.append(Baked(version, body or verify, verify))
    return found


def has_svg_root(image: bytes) -> bool:
    """True if the first element after the prolog is `svg` (any prefix); no full parse."""
    pos = len(BOM) if image.startswith(BOM) else 0
    while (m := _TOKEN.match(image, pos)) is not None:
        if m.lastgroup == "start":
            return m.group("name").split(b":")[-1] == b"svg"
        if m.lastgroup not in ("comment", "pi", "doctype") and m.group().strip():
            return False
        pos = m.end()
    return False


def parse(image: bytes) -> ET.Element:
    """Parse with defusedxml: entity declarations and external references are refused."""
    try:
        return SafeET.fromstring(image, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise BakeError("E405", f"SVG declares entities or external references ({exc})") from None
    except (ET.ParseError, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        raise BakeError("E402", f"SVG is not well-formed XML: {exc}") from None


def check_utf8(image: bytes) -> None:
    """Our element is UTF-8, so the document must be too (declared or by default)."""
    decl = image.removeprefix(BOM)
    if decl.startswith(b"<?xml") and (m := _ENCODING.search(decl[:decl.find(b"?>")])):
        if m.group(1).lower() not in (b"utf-8", b"utf8"):
            encoding = m.group(1).decode("ascii", "replace")
            raise BakeError("E403", f"SVG is encoded as {encoding}; save it as UTF-8 to bake it")


def element_spans(image: bytes) -> list[tuple[int, int, int]]:
    """(start, end of start tag, end of element) for every element, in document order."""
    spans: list[list[int]] = []
    open_elements: list[int] = []
    pos = 0
    while pos < len(image):
        m = _TOKEN.match(image, pos)
        if m is None:
            raise BakeError("E402", f"SVG could not be tokenised at byte {pos}")
        if m.lastgroup == "start":
            spans.append([m.start(), m.end(), m.end()])
            if not m.group("empty"):
                open_elements.append(len(spans) - 1)
        elif m.lastgroup == "end":
            if not open_elements:
                raise BakeError("E402", f"SVG has an unmatched end tag at byte {pos}")
            spans[open_elements.pop()][2] = m.end()
        pos = m.end()
    return [(a, b, c) for a, b, c in spans]


def cut(image: bytes, start: int, spans: list[tuple[int, int, int]]) -> bytes:
    """image[start:] without the given element spans (nested spans are covered by their parent)."""
    pieces = []
    for begin, _, end in sorted(spans):
        if begin >= start:
            pieces.append(image[start:begin])
            start = end
    pieces.append(image[start:])
    return b"".join(pieces)


def declare_namespace(start_tag: bytes, version: str) -> bytes:
    """Add xmlns:openbadges to the root start tag, or refuse if it is bound to another URI."""
    uri = NAMESPACES[version]
    for m in _ATTR.finditer(start_tag):
        if m.group(1) == b"xmlns:openbadges":
            declared = (m.group(2) if m.group(2) is not None else m.group(3)).decode("utf-8")
            if declared == uri:
                return start_tag
            raise BakeError(
                "E406",
                f"SVG root already binds the openbadges prefix to {declared!r}, not {uri!r}; "
                "bake OB 2.0 and OB 3.0 into separate files",
            )
    end = re.search(rb"\s*/?>$", start_tag).start()
    return start_tag[:end] + b' xmlns:openbadges="' + uri.encode() + b'"' + start_tag[end:]


def badge_element(payload: str, version: str, verify: str | None) -> bytes:
    """The `<openbadges:assertion>` / `<openbadges:credential>` markup for one payload."""
    name = "openbadges:" + ELEMENTS[version]
    if not is_json(payload):  # compact JWS / VC-JWT: it goes in `verify`, no body
        if verify not in (None, payload):
            raise BakeError("E406", "for a JWS payload, verify must be omitted (it is the JWS)")
        empty = "/>" if version == "ob2" else f"></{name}>"
        return f'<{name} verify={quote(payload)}{empty}'.encode()
    body = "<![CDATA[" + payload.replace("]]>", "]]\\u003e") + "]]>"
    if version == "ob3":
        if verify is not None:
            raise BakeError("E406", "an OB 3.0 credential with an embedded proof takes no verify")
        return f"<{name}>{body}</{name}>".encode()
    if not verify or not isinstance(verify, str):
        raise BakeError("E406", "an OB 2.0 hosted assertion in SVG needs verify= its assertion URL")
    if not verify.isprintable():  # also rejects lone surrogates
        raise BakeError("E406", "verify must be a URL of printable characters")
    return f"<{name} verify={quote(verify)}>{body}</{name}>".encode()


def quote(value: str) -> str:
    """A double-quoted, escaped XML attribute value (callers pass printable text only)."""
    for raw, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = value.replace(raw, ref)
    return f'"{value}"'
