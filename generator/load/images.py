"""Image inspection and the derived images baking needs.

Pillow only inspects (format, size) and verifies; it never re-encodes a source image, so a
baked image keeps the provider's pixels byte for byte. SVGs are parsed with defusedxml and
refused (not silently rewritten) when they carry script, event handlers or external links,
because an SVG opened from our site runs with our origin.
"""
from __future__ import annotations

import functools
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from defusedxml import ElementTree as SafeET
from PIL import Image as PILImage

from ..bake import image_format
from ..diagnostics import Location, Report

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
RASTER_WIDTH = 512  # width of the PNG rendered from an SVG-only badge

_UNSAFE_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"}


@dataclass(frozen=True)
class Image:
    """A source image as bytes plus what inspection learnt about it."""

    source: str  # project-relative path
    data: bytes
    format: str  # "png" or "svg"
    width: int
    height: int

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def digest_form(self) -> dict:
        """What a digest of this image covers: hashed once, not per award."""
        return {"source": self.source, "format": self.format, "sha256": self.sha256}


def inspect(data: bytes, source: str, report: Report, where: Location) -> Image | None:
    """An `Image`, or None with a located error saying how to fix the file."""
    if len(data) > MAX_IMAGE_BYTES:
        report.error("E404", f"{source} is {len(data) / 1e6:.1f} MB; the limit is {MAX_IMAGE_BYTES // 1_000_000} MB",
                     where, "export the badge at 512x512 or 1024x1024 pixels")
        return None
    kind = image_format(data)
    if kind == "png":
        return _inspect_png(data, source, report, where)
    if kind == "svg":
        return _inspect_svg(data, source, report, where)
    hint = ("convert it to PNG (or SVG)" if kind in ("jpeg", "gif", "webp")
            else "badge images must be PNG or SVG files")
    report.error("E403", f"{source} is {'a ' + kind.upper() if kind != 'unknown' else 'not a PNG or SVG'} image",
                 where, hint)
    return None


def _inspect_png(data: bytes, source: str, report: Report, where: Location) -> Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    report.error("E404", f"{source} is {width}x{height} pixels; the limit is 4096x4096", where,
                                 "export the badge at 512x512 or 1024x1024 pixels")
                    return None
                img.verify()
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError,
            PILImage.DecompressionBombWarning) as exc:
        report.error("E402", f"{source} cannot be read as PNG ({exc})", where, "re-export the image as PNG")
        return None
    return Image(source, data, "png", width, height)


def _svg_length(value: str | None) -> float | None:
    if not value:
        return None
    match = re.fullmatch(r"\s*([0-9.]+)\s*(px)?\s*", value)
    return float(match.group(1)) if match else None


def _inspect_svg(data: bytes, source: str, report: Report, where: Location) -> Image | None:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # defusedxml raises several unrelated types for hostile XML
        report.error("E402", f"{source} is not well-formed SVG ({type(exc).__name__}: {exc})", where,
                     "open it in an editor and re-export as plain SVG")
        return None
    if root.tag.rpartition("}")[2] != "svg":
        report.error("E402", f"{source}: the root element is not <svg>", where)
        return None
    for element in root.iter():
        name = str(element.tag).rpartition("}")[2]
        if name in _UNSAFE_ELEMENTS:
            report.error("E405", f"{source} contains a <{name}> element", where,
                         "remove scripts and embedded content from the SVG, or use a PNG")
            return None
        for attr, value in element.attrib.items():
            attr_name = attr.rpartition("}")[2]
            lowered = value.strip().lower()
            if attr_name.lower().startswith("on"):
                report.error("E405", f"{source} has an event handler attribute '{attr_name}'", where,
                             "remove on...= attributes from the SVG")
                return None
            if attr_name == "href" and not (lowered.startswith("#") or lowered.startswith("data:image/")):
                report.error("E405", f"{source} links to an external resource '{value[:60]}'", where,
                             "embed images as data: URIs or use a PNG")
                return None
    viewbox = (root.get("viewBox") or "").replace(",", " ").split()
    width = _svg_length(root.get("width")) or (float(viewbox[2]) if len(viewbox) == 4 else 0)
    height = _svg_length(root.get("height")) or (float(viewbox[3]) if len(viewbox) == 4 else 0)
    if not width or not height:
        report.error("E402", f"{source} has no width/height or viewBox", where,
                     'add viewBox="0 0 512 512" to the <svg> element')
        return None
    return Image(source, data, "svg", round(width), round(height))


def png_for(image: Image) -> bytes:
    """PNG bytes of a badge image: the original PNG, or a deterministic raster of the SVG."""
    if image.format == "png":
        return image.data
    import resvg_py

    height = max(1, round(RASTER_WIDTH * image.height / image.width))
    rendered = resvg_py.svg_to_bytes(svg_string=image.data.decode("utf-8-sig"), width=RASTER_WIDTH,
                                     height=height, skip_system_fonts=True)
    return bytes(rendered)
