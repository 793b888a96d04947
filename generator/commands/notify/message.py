"""The award emails themselves: subject, text and HTML from templates/email/, and headers."""
from __future__ import annotations

import functools
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from ... import bake, canonical
from ...credentials import ob2
from ...load import images
from ...model import cpd
from ...model.domain import Award, SiteModel
from ...model.routes import Routes
from ...render import pages, social, templates
from ...validate.values import format_amount
from .events import Event

if TYPE_CHECKING:  # (signing's PyLD is imported by a build, not by the CLI's startup)
    from ...credentials.signing import SigningState

SUBJECTS = {
    "issued": "Your {badge} badge from {issuer}",
    "renewed": "Your {badge} badge has been renewed",
    "revoked": "Your {badge} badge has been revoked",
    "suspended": "Your {badge} badge has been suspended",
    "reinstated": "Your {badge} badge is valid again",
}


def environment(project: Path) -> jinja2.Environment:
    folders = [project / "templates", templates.BUILTIN_TEMPLATES]
    loader = jinja2.FileSystemLoader([str(f) for f in folders if f.is_dir()])
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["date"] = lambda d: d.strftime("%-d %B %Y") if d else ""
    env.filters["amount"] = format_amount
    env.filters["every"] = cpd.every_text
    return env


# The events whose email carries the badge: the recipient's answer to "how do I claim it?"
ATTACHED = ("issued", "renewed")

_raster = functools.lru_cache(maxsize=64)(images.png_for)  # one PNG per badge class, not per email


def baked_png(award: Award, model: SiteModel, routes: Routes, signing: SigningState | None) -> bytes:
    """The award's badge PNG, baked by the Python baker exactly as the award page bakes it in the browser."""
    badge = model.badge(award.badge)
    issuer = model.issuer(badge.issuer)
    assertion = canonical.dumps(ob2.assertion(award, badge, routes))
    credential = (signing.for_award(award, issuer).credential(award, badge, issuer, model.site, routes)
                  if signing is not None else None)
    return bake.badge_png(_raster(badge.image), assertion, canonical.dumps(credential) if credential else None)


def _context(event: Event, model: SiteModel, routes: Routes) -> dict:
    award = event.award
    badge = model.badge(award.badge)
    issuer = model.issuer(badge.issuer)
    page_url = routes.url(routes.award_page(award))
    linkedin = social.linkedin_add_for_award(award, badge, issuer, page_url)
    attachment = pages.badge_file_stem(badge, award) + ".png" if event.kind in ATTACHED else None
    return {"kind": event.kind, "reason": event.reason, "award": award, "badge": badge, "issuer": issuer,
            "site": model.site, "name": award.recipient_name, "page_url": page_url,
            "image_url": routes.url(routes.badge_bake_png(badge)), "json_url": routes.url(routes.award_json(award)),
            "linkedin_url": linkedin, "cpd": award.cpd, "attachment": attachment,
            "verify_url": routes.url(routes.verify_page), "earned_by": [part.badge_name for part in award.earned_by]}


def default_sender(event: Event, model: SiteModel) -> str:
    """Without smtp.from, a message comes from the issuer of its badge, in the site's name."""
    issuer = model.issuer(model.badge(event.award.badge).issuer)
    return formataddr((model.site.title, issuer.email))


def build_message(event: Event, model: SiteModel, routes: Routes, env: jinja2.Environment, sender: str | None,
                  reply_to: str | None, now: datetime, signing: SigningState | None) -> EmailMessage:
    """The email of one award event; an issued or renewed award's carries its baked badge PNG."""
    context = _context(event, model, routes)
    badge, issuer = context["badge"], context["issuer"]
    subject = env.get_template("email/subject.txt").render(
        **context, default=SUBJECTS[event.kind].format(badge=badge.name, issuer=issuer.name)).strip()
    text = env.get_template("email/message.txt").render(**context)
    html = env.get_template("email/message.html").render(**context)
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender or default_sender(event, model)
    message["To"] = formataddr((event.award.recipient_name, event.award.email))
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = email_date(now.astimezone(timezone.utc), usegmt=True)
    message["Message-ID"] = f"<{event.message_id_hash}.{event.kind}@{domain(message['From'])}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Badgekiln-Event"] = event.kind
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if context["attachment"]:
        message.add_attachment(baked_png(event.award, model, routes, signing), maintype="image", subtype="png",
                               filename=context["attachment"])
    return message


def domain(sender: str) -> str:
    address = getaddresses([sender])[0][1]
    return address.rpartition("@")[2] or "badgekiln.invalid"
