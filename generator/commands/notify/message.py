"""The award emails themselves: subject, text and HTML from templates/email/, and headers."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from email.utils import formataddr, getaddresses
from pathlib import Path

import jinja2

from ...model import cpd
from ...model.domain import SiteModel
from ...model.routes import Routes
from ...render import social, templates
from ...validate.values import format_amount
from .events import Event

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


def _context(event: Event, model: SiteModel, routes: Routes) -> dict:
    award = event.award
    badge = model.badge(award.badge)
    issuer = model.issuer(badge.issuer)
    page_url = routes.url(routes.award_page(award))
    linkedin = social.linkedin_add_for_award(award, badge, issuer, page_url)
    return {"kind": event.kind, "reason": event.reason, "award": award, "badge": badge, "issuer": issuer,
            "site": model.site, "name": award.recipient_name, "page_url": page_url,
            "image_url": routes.url(routes.award_png(award)), "json_url": routes.url(routes.award_json(award)),
            "linkedin_url": linkedin, "cpd": award.cpd}


def default_sender(event: Event, model: SiteModel) -> str:
    """Without smtp.from, a message comes from the issuer of its badge, in the site's name."""
    issuer = model.issuer(model.badge(event.award.badge).issuer)
    return formataddr((model.site.title, issuer.email))


def build_message(event: Event, model: SiteModel, routes: Routes, env: jinja2.Environment, sender: str | None,
                  reply_to: str | None, now: datetime) -> EmailMessage:
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
    return message


def domain(sender: str) -> str:
    address = getaddresses([sender])[0][1]
    return address.rpartition("@")[2] or "badgekiln.invalid"
