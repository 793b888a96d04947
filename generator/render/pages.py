"""Pure context builders for the HTML pages, and the few derived files the pages need.

Each builder turns model objects into exactly what one template shows, so templates stay
declarative and a provider overriding a template gets the same, tested data. Nothing here
reads a clock: expiry is decided in the browser (award_state.py says why).
"""
from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import replace
from typing import Collection, Iterator
from urllib.parse import urlsplit

import nh3

from ..artifacts import Artifact
from ..load import images
from ..model.domain import Award, Badge, Endorsement, Issuer, Site, SiteModel
from ..model.pathways import holder_key
from ..model.routes import Routes
from ..validate.values import format_amount, format_datetime
from . import award_state, social, theme
from .i18n import Catalogue
from .markdown import to_html

DESCRIPTION_LIMIT = 200


@functools.lru_cache(maxsize=1024)  # a badge's description, on each of its awards' pages
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


def holders(standing: list[Award]) -> int:
    """How many have earned it (of its `awards_in_good_standing`): a CPD chain, or one person's
    automatic pathway awards, count once."""
    return len({a.cpd.root_key if getattr(a, "cpd", None) else holder_key(a.key) for a in standing})


def holder_counts(model: SiteModel) -> dict[str, int]:
    """`holders` of each badge, counted once for the index and the issuer pages."""
    return {b.slug: holders(awards_in_good_standing(model.awards_of(b.slug))) for b in model.badges}


# ---------------------------------------------------------------- endorsements

def endorsement_cards(endorsements: tuple[Endorsement, ...]) -> list[dict]:
    """"Endorsed by <name>" as pages show it: who, their comment (Markdown), dates, what it is about."""
    return [{"endorser": e.endorser, "url": e.endorser_url, "comment": e.comment, "issued_on": e.issued_on,
             "expires": e.expires, "about": e.targets[0][0], "version": e.version, "link": e.url}
            for e in endorsements]


def endorsement_checks(endorsements: tuple[Endorsement, ...]) -> list[dict]:
    """What the page's verifier checks of each endorsement it shows (verify.js verifyEndorsement)."""
    checks = []
    for e in endorsements:
        if e.version == "ob2":
            checks.append({"version": "ob2", "form": "url", "value": e.url, "copy": e.document, "name": e.endorser})
        else:
            checks.append({"version": "ob3", "form": "jws" if isinstance(e.document, str) else "json",
                           "value": e.document, "name": e.endorser})
    return checks


_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?\Z")  # nothing that could end a CSP source or directive


def endorser_origins(endorsements: tuple[Endorsement, ...]) -> list[str]:
    """Origins the page's verifier fetches from (its Content-Security-Policy allows exactly these).

    They come from third-party documents, so only plain host[:port] origins are kept.
    """
    origins = set()
    for e in endorsements:
        document = e.document if isinstance(e.document, dict) else {}
        for url in [e.url, *_status_urls(document)]:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is not None and parts.scheme in ("https", "http") and _HOST.match(parts.netloc):
                origins.add(f"{parts.scheme}://{parts.netloc}")
        issuer = document.get("issuer")
        ident = issuer.get("id") if isinstance(issuer, dict) else issuer
        if isinstance(ident, str) and ident.startswith("did:web:"):
            host = ident[len("did:web:"):].split(":")[0].replace("%3A", ":").replace("%3a", ":")
            if _HOST.match(host):
                loopback = host.startswith(("127.0.0.1", "localhost"))
                origins.update({f"https://{host}", f"http://{host}"} if loopback else {f"https://{host}"})
    return sorted(origins)


def _status_urls(document: dict) -> list[str]:
    status = document.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    return [u for entry in entries if isinstance(entry, dict)
            for u in (entry.get("statusListCredential"), entry.get("id")) if isinstance(u, str)]


def given_context(model: SiteModel, routes: Routes, published: Collection[str]) -> dict:
    """"Endorsements we give": what each endorses, the comment, dates, and its signed credential."""
    items = []
    for g in model.given:
        path = routes.given_endorsement(g)
        items.append({"given": g, "issuer": model.issuer(g.issuer),
                      "about_url": g.about if g.about.startswith(("https://", "http://")) else None,
                      "credential_url": routes.url(path) if path in published else None})
    url = routes.url(routes.given_endorsements_page)
    return {"items": items, "page_url": url, "verifier": None,
            "og": _og(title=model.site.title, description=plain(model.site.description), url=url, image=None,
                      image_alt="", site=model.site, large=False)}


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
                  strings: Catalogue, *, published: Collection[str] = (),
                  endorsements: tuple[Endorsement, ...] = ()) -> dict:
    """Everything the award page shows: the record, its state, downloads, sharing, verifier input.

    `published` holds the output paths of the award's files this build made (credential, VC-JWT,
    baked images), so the page links and verifies only what exists. By default the page bakes the
    badge images itself (`baking`, for assets/bake.js); with `outputs: full` the build published them
    and `downloads` links them. A withdrawn award offers no badge image either way. `endorsements`
    are those of the badge, the issuer and the award, current at this build.
    """
    bake_in_browser = site.outputs != "full"
    page_url = routes.url(routes.award_page(award))
    name = award.recipient_name if award.show_name else None
    share_text = strings.text("share.text", badge=badge.name, issuer=issuer.name)
    cpd = cpd_context(award, routes, strings)
    og = _award_og(award, badge, issuer, name, page_url, site, routes, strings)
    state = award_state.award_state(award)
    offered = not state.withdrawn  # a withdrawn award offers no badge image
    return {
        "award": award, "badge": badge, "issuer": issuer, "assertion": assertion, "state": state,
        "recipient_name": name, "page_url": page_url, "json_url": assertion["id"],
        "image_url": routes.url(routes.badge_image(badge) if bake_in_browser else routes.award_png(award)),
        "issuer_logo": issuer_logo(issuer, site, routes),
        "credits": format_amount(badge.credits),
        "downloads": _downloads(award, assertion, routes, published, offered and not bake_in_browser),
        "baking": _baking(award, badge, assertion, routes, published) if offered and bake_in_browser else None,
        "linkedin_url": social.linkedin_add_for_award(award, badge, issuer, page_url),
        "share_links": social.share_links(page_url, share_text, og["title"]), "share_text": share_text,
        "certificate": _certificate(award, badge, issuer, site, routes),
        "og": og, "verifier": {**_award_verifier(award, assertion, routes, published, cpd),
                               "endorsements": endorsement_checks(endorsements)},
        "cpd": cpd, "history": history(award),
        "endorsements": endorsement_cards(endorsements), "connect": endorser_origins(endorsements),
        "earned_by": earned_by(award, routes),
    }


def earned_by(award: Award, routes: Routes) -> list[dict]:
    """The awards an automatic pathway award was earned by, linked to their pages."""
    return [{"badge": part.badge_name, "issued_on": part.issued_on,
             "url": routes.url(routes.award_page(replace(award, slug=part.slug)))}
            for part in getattr(award, "earned_by", ())]


def _published_url(path: str, routes: Routes, published: Collection[str]) -> str | None:
    return routes.url(path) if path in published else None


def _downloads(award: Award, assertion: dict, routes: Routes, published: Collection[str],
               images: bool) -> list[dict]:
    """The award's files a recipient can download as links: the hosted assertion, and what else this
    build published (the baked images only when `images`)."""
    offered = [("png", routes.award_png(award), "download.png", "image/png"),
               ("svg", routes.award_svg(award), "download.svg", "image/svg+xml"),
               ("json", routes.award_json(award), "download.json", "application/ld+json"),
               ("credential", routes.award_credential_json(award), "download.credential", "application/vc+ld+json"),
               ("credential-svg", routes.award_credential_svg(award), "download.credential_svg", "image/svg+xml"),
               ("jwt", routes.award_credential_jwt(award), "download.jwt", "text/plain")]
    return [{"id": kind, "href": routes.url(path), "label": label, "type": media_type}
            for kind, path, label, media_type in offered
            if kind == "json" or (path in published and (images or kind not in ("png", "svg", "credential-svg")))]


def badge_file_stem(badge: Badge, award: Award) -> str:
    """The name a downloaded badge image is saved under (page and email alike), before `.png` / `.svg`."""
    return f"{badge.slug}-{award.slug}"


def _baking(award: Award, badge: Badge, assertion: dict, routes: Routes, published: Collection[str]) -> dict:
    """What templates/assets/bake.js needs to make this award's badge images in the browser.

    The PNG download bakes the class PNG (or, for SVG art, its published raster); SVG art also
    gets the SVG downloads (OB 2.0, and OB 3.0 when the award has a signed credential). PNG art
    gets no SVG: a PNG wrapped in an SVG is the same picture, three times the size.
    """
    stem = badge_file_stem(badge, award)
    credential = _published_url(routes.award_credential_json(award), routes, published)
    files = [("png", "download.baked_png", f"{stem}.png")]
    if badge.image.format == "svg":
        files.append(("svg", "download.baked_svg", f"{stem}.svg"))
        if credential:
            files.append(("credential-svg", "download.baked_credential_svg", f"{stem}-credential.svg"))
    return {"image": routes.url(routes.badge_image(badge)), "format": badge.image.format,
            "png": routes.url(routes.badge_bake_png(badge)), "assertion": assertion["id"], "credential": credential,
            "stem": stem, "files": [{"id": kind, "label": label, "name": name} for kind, label, name in files]}


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


def _certificate(award: Award, badge: Badge, issuer: Issuer, site: Site, routes: Routes) -> dict:
    """The printable certificate: the page's print view (its QR code is drawn by the page's script)."""
    return {"recipient_name": award.recipient_name if award.show_name else None,
            "badge_image": routes.url(routes.badge_image(badge))}


# ---------------------------------------------------------------- badge, issuer, index

def badge_context(badge: Badge, issuer: Issuer, awards: tuple[Award, ...], site: Site, routes: Routes,
                  strings: Catalogue, endorsements: tuple[Endorsement, ...] = ()) -> dict:
    """The badge page: what it certifies, who issues it, how many hold it, and who agreed to be listed."""
    standing = awards_in_good_standing(awards)
    earners = sorted(({"name": a.recipient_name, "url": routes.url(routes.award_page(a))}
                      for a in standing if a.listed and a.show_name),
                     key=lambda e: (e["name"].casefold(), e["url"]))
    url = routes.url(routes.badge_page(badge))
    return {
        "badge": badge, "issuer": issuer, "awards": awards, "earned_count": holders(standing), "earners": earners,
        "validity": period(badge.valid_for, strings),
        "issuer_logo": issuer_logo(issuer, site, routes), "credits": format_amount(badge.credits),
        "json_url": routes.url(routes.badge_json(badge)), "page_url": url,
        "og": _og(title=badge.name, description=plain(badge.description), url=url,
                  image=routes.url(routes.badge_share_image(badge)),
                  image_alt=strings.text("og.image_alt", badge=badge.name, issuer=issuer.name), site=site,
                  large=True),
        "verifier": None, "endorsements": endorsement_cards(endorsements),
    }


def pathway_context(badge: Badge, model: SiteModel, routes: Routes, strings: Catalogue) -> dict:
    """A badge's pathways: the diagram of the badges it is earned by, and the pathways it counts towards."""
    def node(b: Badge) -> dict:
        return {"name": b.name, "url": routes.url(routes.badge_page(b)), "image": routes.url(routes.badge_image(b))}

    towards = [node(b) for b in model.badges if b.pathway and badge.slug in b.pathway.badges]
    rule = badge.pathway
    if rule is None:
        return {"pathway": None, "counts_towards": towards}
    return {"pathway": {"parts": [node(model.badge(slug)) for slug in rule.badges], "result": node(badge),
                        "count": rule.count, "total": len(rule.badges), "all": rule.all_required,
                        "within": period(rule.within, strings)},
            "counts_towards": towards}


def _badge_cards(badges, model: SiteModel, routes: Routes, counts: dict[str, int]) -> list[dict]:
    return [{"badge": b, "url": routes.url(routes.badge_page(b)), "image": routes.url(routes.badge_image(b)),
             "issuer": model.issuer(b.issuer).name, "count": counts[b.slug]} for b in badges]


def issuer_context(issuer: Issuer, model: SiteModel, routes: Routes, counts: dict[str, int]) -> dict:
    """An issuer's page; `counts` are the badges' `holder_counts`."""
    badges = [b for b in model.badges if b.issuer == issuer.slug]
    url = routes.url(routes.issuer_page(issuer))
    logo = routes.url(routes.issuer_image(issuer)) if issuer.image else None
    return {
        "issuer": issuer, "badges": badges, "cards": _badge_cards(badges, model, routes, counts),
        "json_url": routes.url(routes.issuer_json(issuer)), "page_url": url, "issuer_logo": logo,
        "og": _og(title=issuer.name, description=plain(issuer.description), url=url, image=logo,
                  image_alt="", site=model.site, large=False),
        "verifier": None, "endorsements": endorsement_cards(model.endorsements_of("issuer", issuer.slug)),
        "gives_endorsements": any(g.issuer == issuer.slug for g in model.given),
        "given_url": routes.url(routes.given_endorsements_page),
    }


def index_context(model: SiteModel, routes: Routes, counts: dict[str, int]) -> dict:
    """The home page; `counts` are the badges' `holder_counts`."""
    site = model.site
    logo = routes.url(f"{routes.site_logo}.{site.theme.logo.format}") if site.theme.logo else None
    return {
        "cards": _badge_cards(model.badges, model, routes, counts), "page_url": routes.url(routes.index),
        "og": _og(title=site.title, description=plain(site.description), url=routes.url(routes.index),
                  image=logo, image_alt="", site=site, large=False),
        "verifier": None,
    }


def verify_context(routes: Routes) -> dict:
    return {"page_url": routes.url(routes.verify_page), "verifier": {"kind": "verify"}}


# ---------------------------------------------------------------- derived files

def strings_script(strings: Catalogue) -> bytes:
    """The page strings the scripts show, published once per site instead of in every page."""
    text = json.dumps(strings.js(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return ("window.BADGEKILN_STRINGS = " + text + ";\n").encode("utf-8")


def site_files(site: Site, routes: Routes) -> Iterator[Artifact]:
    """assets/theme.css (colours from site.yaml, contrast-checked)."""
    yield Artifact(routes.theme_stylesheet, theme.stylesheet(site.theme))


def share_image_inputs(badge: Badge, issuer: Issuer, site: Site, strings: Catalogue) -> dict:
    """Everything the badge's link-preview image is drawn from (besides its art, `badge.image`)."""
    colours = theme.palette(site.theme)
    return {"title": badge.name, "issuer": strings.text("share.image_issuer", issuer=issuer.name),
            "label": strings.text("share.image_label"), "footer": site.title, "primary": colours["primary"],
            "primary_text": colours["primary-text"]}


def badge_files(badge: Badge, issuer: Issuer, site: Site, routes: Routes,
                strings: Catalogue) -> Iterator[Artifact]:
    """The badge's link-preview image."""
    yield Artifact(routes.badge_share_image(badge), social.share_image(
        images.png_for(badge.image), **share_image_inputs(badge, issuer, site, strings)))

