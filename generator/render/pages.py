"""Pure context builders for the HTML pages, and the few derived files the pages need.

Each builder turns model objects into exactly what one template shows, so templates stay
declarative and a provider overriding a template gets the same, tested data. Nothing here
reads a clock: expiry is decided in the browser (award_state.py says why).
"""
from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Collection, Iterator

import nh3
import segno
from markupsafe import Markup

from ..load import images
from ..model.domain import Award, Badge, Issuer, Site, SiteModel
from ..model.routes import Routes
from ..validate.values import format_amount, format_datetime
from . import award_state, social, theme
from .i18n import Catalogue
from .markdown import to_html

DESCRIPTION_LIMIT = 200


def plain(markdown_text: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """Markdown as one line of plain text, cut at a word boundary (for meta tags and images)."""
    text = html.unescape(nh3.clean(str(to_html(markdown_text)), tags=set()))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def issuer_logo(issuer: Issuer, site: Site, routes: Routes) -> str | None:
    if issuer.image:
        return routes.url(routes.issuer_image(issuer))
    if site.theme.logo:
        return routes.url(f"{routes.site_logo}.{site.theme.logo.format}")
    return None


def _og(*, title: str, description: str, url: str, image: str | None, image_alt: str, site: Site,
        large: bool) -> dict:
    return {"title": title, "description": description, "url": url, "image": image, "image_alt": image_alt,
            "site_name": site.title, "card": "summary_large_image" if large else "summary",
            "width": social.WIDTH if large else None, "height": social.HEIGHT if large else None}


def period(duration, strings: Catalogue) -> str | None:
    """'3 years', '1 year 6 months' (translated), or None for no expiry."""
    if duration is None:
        return None
    parts = [strings.text(f"period.{unit}", count=n) for unit, n in
             (("years", duration.years), ("months", duration.months), ("days", duration.days)) if n]
    return " ".join(parts) or None


def awards_in_good_standing(awards: tuple[Award, ...]) -> list[Award]:
    """Awards the issuer still vouches for (not revoked or suspended)."""
    return [a for a in awards if not award_state.award_state(a).withdrawn]


def holders(awards: tuple[Award, ...]) -> int:
    """How many have earned it: a CPD chain (the award and its renewals) counts once."""
    return len({a.cpd.root_key if getattr(a, "cpd", None) else a.key for a in awards_in_good_standing(awards)})


# ---------------------------------------------------------------- award

def cpd_context(award: Award, routes: Routes, strings: Catalogue) -> dict | None:
    """The CPD renewal chain as the page shows it: the rule, this period, the history."""
    progress = getattr(award, "cpd", None)
    if progress is None:
        return None

    def page_of(slug: str | None) -> str | None:
        return routes.url(routes.award_page(replace(award, slug=slug))) if slug else None

    rule = progress.rule
    periods = [{
        "number": p.number, "start": p.start, "end": p.end, "required": format_amount(p.required),
        "logged": format_amount(p.logged), "met_on": p.met_on, "renewed": p.renewed,
        "current": p.number == progress.number,
        "activities": [{"date": a.date, "title": a.title, "amount": format_amount(a.amount), "unit": a.unit,
                        "evidence": a.evidence} for a in p.activities],
    } for p in progress.periods]
    return {
        "unit": rule.unit, "amount": format_amount(rule.amount), "every": period(rule.every, strings),
        "period": progress.period, "logged": format_amount(progress.period.logged),
        "required": format_amount(progress.period.required), "needed": format_amount(progress.period.needed),
        "logged_value": float(min(progress.period.logged, progress.period.required)),
        "required_value": float(progress.period.required),
        "previous_url": page_of(progress.previous), "renewed_by_url": page_of(progress.renewed_by),
        "current": progress.current, "lapses_on": progress.lapses_on, "periods": periods,
    }


def history(award: Award) -> list[dict]:
    """Past status changes that no longer hold but stay on record (a lifted suspension)."""
    lifted, back = getattr(award, "lifted_suspension", None), getattr(award, "reinstatement", None)
    if lifted is None:
        return []
    return [{"kind": "suspended", "on": lifted.on, "reason": lifted.reason},
            {"kind": "reinstated", "on": back.on if back else None, "reason": back.reason if back else ""}]


def award_context(award: Award, badge: Badge, issuer: Issuer, assertion: dict, site: Site, routes: Routes,
                  strings: Catalogue, *, published: Collection[str] = ()) -> dict:
    """Everything the award page shows: the record, its state, downloads, sharing, verifier input.

    `published` holds the output paths of the award's signed files (OB 3.0 credential, VC-JWT)
    when the build made them, so the page links and verifies only what exists.
    """
    page_url = routes.url(routes.award_page(award))
    name = award.recipient_name if award.show_name else None
    share_text = strings.text("share.text", badge=badge.name, issuer=issuer.name)
    cpd = cpd_context(award, routes, strings)
    og = _award_og(award, badge, issuer, name, page_url, site, routes, strings)
    return {
        "award": award, "badge": badge, "issuer": issuer, "assertion": assertion,
        "state": award_state.award_state(award),
        "recipient_name": name, "page_url": page_url, "json_url": assertion["id"],
        "issuer_logo": issuer_logo(issuer, site, routes),
        "credits": format_amount(badge.credits),
        "downloads": _downloads(award, assertion, routes, published),
        "linkedin_url": social.linkedin_add_for_award(award, badge, issuer, page_url),
        "share_links": social.share_links(page_url, share_text, og["title"]), "share_text": share_text,
        "certificate_url": routes.url(routes.award_certificate(award)),
        "og": og, "verifier": _award_verifier(award, assertion, routes, published, cpd), "cpd": cpd,
        "history": history(award),
    }


def _published_url(path: str, routes: Routes, published: Collection[str]) -> str | None:
    return routes.url(path) if path in published else None


def _downloads(award: Award, assertion: dict, routes: Routes, published: Collection[str]) -> list[dict]:
    """The files a recipient can download, the signed ones only when this build made them."""
    downloads = [
        {"id": "png", "href": routes.url(routes.award_png(award)), "label": "download.png", "type": "image/png"},
        {"id": "svg", "href": routes.url(routes.award_svg(award)), "label": "download.svg",
         "type": "image/svg+xml"},
        {"id": "json", "href": assertion["id"], "label": "download.json", "type": "application/ld+json"},
    ]
    signed = [("credential", routes.award_credential_json(award), "download.credential", "application/vc+ld+json"),
              ("credential-svg", routes.award_credential_svg(award), "download.credential_svg", "image/svg+xml"),
              ("jwt", routes.award_credential_jwt(award), "download.jwt", "text/plain")]
    for kind, path, label, media_type in signed:
        if path in published:
            downloads.append({"id": kind, "href": routes.url(path), "label": label, "type": media_type})
    return downloads


def _award_verifier(award: Award, assertion: dict, routes: Routes, published: Collection[str],
                    cpd: dict | None) -> dict:
    """What the page's in-browser verifier checks, and the state the page claims."""
    state = award_state.award_state(award)
    return {
        "kind": "award",
        "assertion": assertion["id"],
        "credential": _published_url(routes.award_credential_json(award), routes, published),
        "jwt": _published_url(routes.award_credential_jwt(award), routes, published),
        "issuedOn": format_datetime(award.issued_on),
        "expires": format_datetime(award.expires) if award.expires else None,
        "soonDays": award_state.EXPIRING_SOON_DAYS,
        "state": {"kind": state.kind, "reason": state.reason,
                  "since": format_datetime(state.since) if state.since else None},
        "lapsesOn": format_datetime(cpd["lapses_on"]) if cpd and cpd["current"] and cpd["lapses_on"] else None,
        "renewedBy": cpd["renewed_by_url"] if cpd else None,
    }


def _award_og(award: Award, badge: Badge, issuer: Issuer, name: str | None, page_url: str, site: Site,
              routes: Routes, strings: Catalogue) -> dict:
    """The link preview a shared award page gets (Open Graph, Twitter card); a withdrawn award says so."""
    state = award_state.award_state(award)
    kind = f"_{state.kind}" if state.withdrawn else ""  # og.award_title_revoked, ..._suspended_anonymous
    if name:
        title = strings.text(f"og.award_title{kind}", name=name, badge=badge.name)
    else:
        title = strings.text(f"og.award_title{kind}_anonymous", badge=badge.name, issuer=issuer.name)
    description = strings.text(f"og.award_description{kind}", issuer=issuer.name,
                               date=strings.date(state.since or award.issued_on),
                               description=plain(badge.description, 160))
    return _og(title=title, description=description, url=page_url, image=routes.url(routes.badge_share_image(badge)),
               image_alt=strings.text("og.image_alt", badge=badge.name, issuer=issuer.name), site=site, large=True)


def qr_svg(url: str, label: str) -> Markup:
    """An inline SVG QR code (segno: deterministic, no raster, prints sharp)."""
    code = segno.make(url, error="m", micro=False, mask=0)  # fixed mask: 5x faster, still a valid QR
    svg = code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr-code", lineclass=None, dark="#111111")
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup('<div class="qr" role="img" aria-label="{}">{}</div>').format(label, Markup(svg))


def certificate_context(award: Award, badge: Badge, issuer: Issuer, assertion: dict, site: Site,
                        routes: Routes, strings: Catalogue) -> dict:
    """The printable certificate: the same facts, laid out for paper, with a QR code to the page."""
    state = award_state.award_state(award)
    page_url = routes.url(routes.award_page(award))
    return {
        "award": award, "badge": badge, "issuer": issuer, "state": state, "page_url": page_url,
        "recipient_name": award.recipient_name if award.show_name else None,
        "issuer_logo": issuer_logo(issuer, site, routes), "credits": format_amount(badge.credits),
        "qr": qr_svg(page_url, strings.text("certificate.qr_label", url=page_url)),
        "verifier": {"kind": "certificate"},
    }


# ---------------------------------------------------------------- badge, issuer, index

def badge_context(badge: Badge, issuer: Issuer, awards: tuple[Award, ...], site: Site, routes: Routes,
                  strings: Catalogue) -> dict:
    """The badge page: what it certifies, who issues it, how many hold it, and who agreed to be listed."""
    standing = awards_in_good_standing(awards)
    earners = sorted(({"name": a.recipient_name, "url": routes.url(routes.award_page(a))}
                      for a in standing if a.listed and a.show_name),
                     key=lambda e: (e["name"].casefold(), e["url"]))
    url = routes.url(routes.badge_page(badge))
    return {
        "badge": badge, "issuer": issuer, "awards": awards, "earned_count": holders(awards), "earners": earners,
        "validity": period(badge.valid_for, strings),
        "issuer_logo": issuer_logo(issuer, site, routes), "credits": format_amount(badge.credits),
        "json_url": routes.url(routes.badge_json(badge)), "page_url": url,
        "og": _og(title=badge.name, description=plain(badge.description), url=url,
                  image=routes.url(routes.badge_share_image(badge)),
                  image_alt=strings.text("og.image_alt", badge=badge.name, issuer=issuer.name), site=site,
                  large=True),
        "verifier": None,
    }


def _badge_cards(badges, model: SiteModel, routes: Routes) -> list[dict]:
    return [{"badge": b, "url": routes.url(routes.badge_page(b)), "image": routes.url(routes.badge_image(b)),
             "issuer": model.issuer(b.issuer).name,
             "count": holders(model.awards_of(b.slug))} for b in badges]


def issuer_context(issuer: Issuer, model: SiteModel, routes: Routes) -> dict:
    badges = [b for b in model.badges if b.issuer == issuer.slug]
    url = routes.url(routes.issuer_page(issuer))
    logo = routes.url(routes.issuer_image(issuer)) if issuer.image else None
    return {
        "issuer": issuer, "badges": badges, "cards": _badge_cards(badges, model, routes),
        "json_url": routes.url(routes.issuer_json(issuer)), "page_url": url, "issuer_logo": logo,
        "og": _og(title=issuer.name, description=plain(issuer.description), url=url, image=logo,
                  image_alt="", site=model.site, large=False),
        "verifier": None,
    }


def index_context(model: SiteModel, routes: Routes) -> dict:
    site = model.site
    logo = routes.url(f"{routes.site_logo}.{site.theme.logo.format}") if site.theme.logo else None
    return {
        "cards": _badge_cards(model.badges, model, routes), "page_url": routes.url(routes.index),
        "og": _og(title=site.title, description=plain(site.description), url=routes.url(routes.index),
                  image=logo, image_alt="", site=site, large=False),
        "verifier": None,
    }


def verify_context(routes: Routes) -> dict:
    return {"page_url": routes.url(routes.verify_page), "verifier": {"kind": "verify"}}


# ---------------------------------------------------------------- derived files

def site_files(site: Site, routes: Routes) -> Iterator[tuple[str, bytes]]:
    """assets/theme.css (colours from site.yaml, contrast-checked)."""
    yield routes.theme_stylesheet, theme.stylesheet(site.theme)


def badge_files(badge: Badge, issuer: Issuer, site: Site, routes: Routes,
                strings: Catalogue) -> Iterator[tuple[str, bytes]]:
    """The badge's link-preview image."""
    colours = theme.palette(site.theme)
    yield routes.badge_share_image(badge), social.share_image(
        images.png_for(badge.image), title=badge.name, issuer=strings.text("share.image_issuer", issuer=issuer.name),
        label=strings.text("share.image_label"), footer=site.title, primary=colours["primary"],
        primary_text=colours["primary-text"])

