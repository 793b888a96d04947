"""Sharing: LinkedIn "Add to profile", share links, and the 1200x627 link-preview image.

The LinkedIn URL follows DIGEST section 7.1 exactly (months 1-based, every value
percent-encoded). Social sites ignore SVG and strip baked chunks, so each badge gets its own
preview PNG drawn with Pillow from pinned inputs: bundled fonts, the basic layout engine (no
system text shaper), fixed sizes and PNG settings, no metadata. Same badge -> same bytes.
"""
from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import quote

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from .. import resources
from ..model.domain import Award, Badge, Issuer

WIDTH, HEIGHT = 1200, 627
FONTS = resources.DATA / "fonts"
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def _q(value: object) -> str:
    return quote(str(value), safe="")


def linkedin_add_url(*, name: str, issued: datetime, cert_url: str, cert_id: str,
                     organization_id: int | str | None = None, organization_name: str | None = None,
                     expires: datetime | None = None) -> str:
    """LinkedIn's "Add license or certification" form, pre-filled (DIGEST 7.1).

    `organizationId` links the issuer's LinkedIn page and logo; without one, `organizationName`.
    """
    params: list[tuple[str, object]] = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        params.append(("organizationId", organization_id))
    else:
        params.append(("organizationName", organization_name or ""))
    params += [("issueYear", issued.year), ("issueMonth", issued.month)]
    if expires is not None:
        params += [("expirationYear", expires.year), ("expirationMonth", expires.month)]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return LINKEDIN_ADD + "?" + "&".join(f"{k}={_q(v)}" for k, v in params)


def linkedin_add_for_award(award: Award, badge: Badge, issuer: Issuer, page_url: str) -> str:
    """The "Add to profile" link of one award (its page and email both offer it)."""
    return linkedin_add_url(name=badge.name, organization_id=issuer.linkedin_organization_id,
                            organization_name=issuer.name, issued=award.issued_on, expires=award.expires,
                            cert_url=page_url, cert_id=award.slug)


def share_links(url: str, text: str, subject: str) -> list[dict[str, str]]:
    """Share-intent links (plain navigations: nothing loads from these sites until clicked)."""
    return [
        {"id": "linkedin", "href": f"https://www.linkedin.com/sharing/share-offsite/?url={_q(url)}"},
        {"id": "x", "href": f"https://twitter.com/intent/tweet?text={_q(text)}&url={_q(url)}"},
        {"id": "facebook", "href": f"https://www.facebook.com/sharer/sharer.php?u={_q(url)}"},
        {"id": "email", "href": f"mailto:?subject={_q(subject)}&body={_q(text + chr(10) + chr(10) + url)}"},
    ]


# ---------------------------------------------------------------- preview image

def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size, layout_engine=ImageFont.Layout.BASIC)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str] | None:
    """Greedy word wrap; None when the text needs more than `max_lines` at this size."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while draw.textlength(current, font=font) > width:  # one very long word: hard-break it
            cut = len(current)
            while cut > 1 and draw.textlength(current[:cut], font=font) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines if len(lines) <= max_lines else None


def _fit(draw, text: str, bold: bool, sizes: tuple[int, ...], width: int, max_lines: int):
    for size in sizes:
        font = _font(bold, size)
        lines = _wrap(draw, text, font, width, max_lines)
        if lines is not None:
            return font, lines
    font = _font(bold, sizes[-1])
    lines = _wrap(draw, text, font, width, 99) or [text]
    kept = lines[:max_lines]
    last = kept[-1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + "…"
    return font, kept


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def share_image(badge_png: bytes, *, title: str, issuer: str, label: str, footer: str,
                primary: str, primary_text: str) -> bytes:
    """The link-preview card: badge on a brand panel, name and issuer beside it."""
    card = PILImage.new("RGB", (WIDTH, HEIGHT), (250, 250, 248))
    draw = ImageDraw.Draw(card)
    panel = 500
    draw.rectangle((0, 0, panel, HEIGHT), fill=_rgb(primary))
    frame = 400
    fx, fy = (panel - frame) // 2, (HEIGHT - frame) // 2
    draw.rounded_rectangle((fx, fy, fx + frame, fy + frame), radius=36, fill=(255, 255, 255))
    with PILImage.open(io.BytesIO(badge_png)) as source:
        badge = source.convert("RGBA")
    badge.thumbnail((frame - 56, frame - 56), PILImage.Resampling.LANCZOS, reducing_gap=None)
    bx, by = fx + (frame - badge.width) // 2, fy + (frame - badge.height) // 2
    card.paste(badge, (bx, by), badge)

    left, width = panel + 64, WIDTH - panel - 64 - 56
    small = _font(True, 24)
    title_font, lines = _fit(draw, title, True, (64, 56, 50, 44, 40), width, 3)
    issuer_font, issuer_lines = _fit(draw, issuer, False, (32, 28), width, 2)
    title_step, issuer_step = round(title_font.size * 1.2), round(issuer_font.size * 1.3)
    block = 48 + title_step * len(lines) + 24 + issuer_step * len(issuer_lines)
    y = max(60, (HEIGHT - 130 - block) // 2 + 20)  # centred above the footer line
    draw.text((left, y), label.upper(), font=small, fill=_rgb(primary_text))
    y += 48
    for line in lines:
        draw.text((left, y), line, font=title_font, fill=(24, 24, 27))
        y += title_step
    y += 24
    for line in issuer_lines:
        draw.text((left, y), line, font=issuer_font, fill=(63, 63, 70))
        y += issuer_step
    foot_font, foot_lines = _fit(draw, footer, False, (24,), width, 1)
    draw.line((left, HEIGHT - 110, left + 96, HEIGHT - 110), fill=_rgb(primary_text), width=6)
    draw.text((left, HEIGHT - 86), foot_lines[0], font=foot_font, fill=(82, 82, 91))
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=False, compress_level=9)
    return out.getvalue()
