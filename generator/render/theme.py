"""Site colours from site.yaml, made safe to read (WCAG 2.2 AA contrast), as a small stylesheet.

A provider picks brand colours; they are not always readable as text or behind white text.
Rather than reject the brand, the generator keeps the hue and darkens it just enough for a
4.5:1 contrast, and picks black or white text for the header. The result is published as
assets/theme.css, so pages need no inline style (and can forbid inline style by CSP).
"""
from __future__ import annotations

from ..model.domain import Theme

AA_TEXT = 4.5


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def luminance(color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = map(channel, _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """Near-black or white, whichever reads better on `background`."""
    return "#ffffff" if contrast(background, "#ffffff") >= contrast(background, "#111111") else "#111111"


def readable(color: str, against: str = "#ffffff", ratio: float = AA_TEXT) -> str:
    """`color` darkened in small steps until it reaches `ratio` against a light background."""
    r, g, b = _rgb(color)
    for step in range(0, 101):
        scale = 1 - step / 100
        candidate = _hex((round(r * scale), round(g * scale), round(b * scale)))
        if contrast(candidate, against) >= ratio:
            return candidate
    return "#000000"


def palette(theme: Theme) -> dict[str, str]:
    primary = theme.primary_color
    return {
        "primary": primary,
        "on-primary": text_on(primary),
        "primary-text": readable(primary),
        "accent": readable(theme.accent_color),
        "on-accent": text_on(readable(theme.accent_color)),
    }


def stylesheet(theme: Theme) -> bytes:
    """assets/theme.css: CSS custom properties the shipped site.css reads."""
    lines = [f"  --{name}: {value};" for name, value in palette(theme).items()]
    return (":root {\n" + "\n".join(lines) + "\n}\n").encode("ascii")
