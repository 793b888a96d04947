"""Bake Open Badges metadata into badge images, and read it back out.

A baked image is the badge a recipient downloads and drops into a backpack or verifier, so the
metadata must sit exactly where the specs say (PNG iTXt chunk, SVG namespaced element) and the
picture itself must not change: both formats are edited by splicing chunks or elements into the
original bytes, never by decoding and re-encoding. Everything here is bytes in, bytes out.

Error codes follow generator/diagnostics.py: E402 image cannot be read (corrupt PNG, SVG that is
not XML, damaged baked data), E403 image format not allowed (neither PNG nor SVG), E405 unsafe
SVG content (entity declarations), E406 image cannot be baked (bad version, payload or verify
value, conflicting `openbadges` namespace prefix).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

VERSIONS = ("ob2", "ob3")

# A compact JWS / VC-JWT: three base64url segments.
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

# Magic numbers of formats people commonly upload by mistake, to name them in the error.
_OTHER_FORMATS = {b"\xff\xd8\xff": "jpeg", b"GIF8": "gif", b"\x1f\x8b": "gzip", b"%PDF": "pdf"}
_FORMAT_NAMES = {"jpeg": "JPEG", "gif": "GIF", "webp": "WebP", "gzip": "gzip (SVGZ?)", "pdf": "PDF"}


class BakeError(Exception):
    """A coded, user-explainable failure to bake or unbake an image."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Baked:
    """One badge found in an image: `payload` is JSON text, a compact JWS, or (legacy) a URL."""

    version: str
    payload: str
    verify: str | None = None


def is_json(payload: str) -> bool:
    """JSON payloads start with "{"; everything else is a JWS (or a legacy URL)."""
    return payload.lstrip().startswith("{")


from . import png, svg  # noqa: E402  (submodules import the names above)


def image_format(data: bytes) -> str:
    """The one image sniffer: "png", "svg", "jpeg", "gif", "webp", "gzip", "pdf" or "unknown".

    PNG by its signature; SVG when the first element after the prolog (BOM, XML declaration,
    comments, doctype) is `svg`, in any namespace prefix; the rest by their magic bytes.
    """
    data = bytes(data)
    if data.startswith(png.SIGNATURE):
        return "png"
    if svg.has_svg_root(data):
        return "svg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _OTHER_FORMATS.items() if data.startswith(magic)), "unknown")


def sniff(image: bytes) -> str:
    """Return "png" or "svg" from the leading bytes; raise E403 for anything else."""
    if not isinstance(image, (bytes, bytearray)):
        raise BakeError("E403", f"expected image bytes, got {type(image).__name__}")
    kind = image_format(image)
    if kind in ("png", "svg"):
        return kind
    if kind != "unknown":
        raise BakeError("E403", f"image is {_FORMAT_NAMES[kind]}; badge images must be PNG or SVG")
    raise BakeError("E403", "image is neither PNG nor SVG")


def bake(image: bytes, payload: str, *, version: str, verify: str | None = None) -> bytes:
    """Embed `payload` (JSON text or compact JWS) as an `ob2` or `ob3` badge; replaces any old one.

    `verify` is only used for SVG OB 2.0 hosted badges, where the spec requires the assertion URL
    in the element's `verify` attribute; PNG has no place for it and ignores it.
    """
    kind = sniff(image)
    check_payload(payload, version)
    if kind == "png":
        return png.bake(bytes(image), payload, version=version)
    return svg.bake(bytes(image), payload, version=version, verify=verify)


def badge_png(png_image: bytes, assertion: str, credential: str | None = None) -> bytes:
    """The PNG a recipient downloads: the OB 2.0 assertion as `openbadges`, then, when the award
    has one, the signed OB 3.0 credential as `openbadgecredential`. The award page makes the same
    bytes in the browser (templates/assets/bake.js)."""
    baked = bake(png_image, assertion, version="ob2")
    return baked if credential is None else bake(baked, credential, version="ob3")


def unbake(image: bytes) -> list[Baked]:
    """Every badge payload in the image, in document order (a PNG may hold an ob2 and an ob3)."""
    if sniff(image) == "png":
        return png.unbake(bytes(image))
    return svg.unbake(bytes(image))


def check_payload(payload: str, version: str) -> None:
    """Refuse anything that is not a JSON object or a compact JWS, or an unknown version."""
    if version not in VERSIONS:
        raise BakeError("E406", f"unknown badge version {version!r}; expected one of {VERSIONS}")
    if not isinstance(payload, str):
        raise BakeError("E406", f"payload must be text, got {type(payload).__name__}")
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BakeError("E406", f"payload is not encodable as UTF-8: {exc.reason}") from None
    if is_json(payload):
        try:
            value = json.loads(payload)
        except ValueError as exc:
            raise BakeError("E406", f"payload is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise BakeError("E406", "payload JSON must be an object")
    elif not _JWS.fullmatch(payload):
        raise BakeError("E406", "payload is neither a JSON object nor a compact JWS")
