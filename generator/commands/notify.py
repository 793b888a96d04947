"""`notify`: email each new, renewed, revoked, suspended or reinstated award to its recipient.

Every award event is sent exactly once. What was sent is recorded in `content/notified.json`
(commit it: it is the send register, like the ledger). It is canonical JSON keyed by the
award's ledger key and the event, and holds no email address. Each event goes through:

    (absent) --intent written--> "sending" --250 OK written--> "sent"
                                     \\--server refused it----> "failed" (retried next run)

The register is rewritten atomically (temp file, fsync, rename) before the SMTP transaction
and again right after the server's answer, so an interrupted run leaves at most one event in
"sending". Ctrl-C (SIGINT) and SIGTERM never interrupt a transaction: the message in flight
is finished and recorded, then the run stops. A second Ctrl-C, SIGKILL, a crash or a network
drop can leave one "sending" event. On the next run it is resent, with the same Message-ID:

- if the connection broke before the message's final "." reached the server, nothing was
  delivered and the resend is the only copy (we track this precisely and record "failed");
- only if the break fell between the server accepting the message and our recording it can
  the recipient get two copies, and then both have the same Message-ID (derived from the
  award and the event), so mail systems and clients recognise the duplicate.

That is the trade-off chosen: at-least-once for that one ambiguous instant, exactly-once
everywhere else. Losing an award email (the recipient's only link to the badge) is worse
than a recognisable duplicate.

What is sent, per chain of credentials (an award and its CPD renewals):
- "issued" / "renewed" for the newest credential, unless it has expired, is revoked or
  suspended (then it is not announced) or was superseded by a renewal before anyone was told;
- "revoked", "suspended", "reinstated" only to someone who had been told about the award.
Events that will never be sent are recorded as "skipped" with the reason, so a later run
does not reconsider them; `--baseline` records every current event as skipped without
sending (for adopting notify on a site whose recipients already have their links).

SMTP settings live in site.yaml (`smtp:`), the password in BADGEKILN_SMTP_PASSWORD.
`--dry-run` writes the messages as .eml files and records nothing.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import signal
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from email.utils import formataddr, getaddresses
from pathlib import Path

import jinja2

from .. import api, canonical
from ..diagnostics import Location, Report
from ..load.positioned_yaml import load_yaml
from ..model import cpd, ledger
from ..model.domain import Award, SiteModel
from ..model.lifecycle import root_of
from ..model.routes import Routes
from ..render import social, templates
from ..validate import schema
from ..validate.values import format_amount, format_datetime, normalise_email

STATE_PATH = "content/notified.json"
LOCK_PATH = "content/.notified.lock"
FORMAT = 1
PASSWORD_ENV = "BADGEKILN_SMTP_PASSWORD"
DEFAULT_OUTBOX = "_outbox"
KINDS = ("issued", "renewed", "revoked", "suspended", "reinstated")
SENDING, SENT, FAILED, SKIPPED = "sending", "sent", "failed", "skipped"
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class NotifyError(Exception):
    """Notify cannot start (settings, state file, lock); the message says what to do."""


# --- events ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    kind: str
    award: Award  # the credential the email is about (the newest of its chain)
    key: str  # register key: "<root ledger key> <kind>[ <date>]"; holds no email address
    reason: str = ""

    @property
    def message_id_hash(self) -> str:
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Plan:
    send: list[Event]  # to send now (pending, failed before, or interrupted in "sending")
    skip: list[tuple[Event, str]]  # never to be sent, with why (recorded as skipped)
    deferred: list[tuple[Event, str]]  # not now, maybe later (suspended award)


def _event(kind: str, award: Award, base_key: str, when: datetime | None = None, reason: str = "") -> Event:
    key = f"{base_key} {kind}" + (f" {when.date().isoformat()}" if when is not None else "")
    return Event(kind, award, key, reason)


def plan(model: SiteModel, published: set[str], state: dict[str, dict], now: datetime) -> Plan:
    """What to send, skip or defer, from the model, the register and the clock."""
    chains: dict[str, list[Award]] = {}
    for award in model.awards:
        if award.key in published:
            chains.setdefault(root_of(award.key)[0], []).append(award)
    send: list[Event] = []
    skip: list[tuple[Event, str]] = []
    deferred: list[tuple[Event, str]] = []

    def status(event: Event) -> str | None:
        return state.get(event.key, {}).get("state")

    def settled(event: Event) -> bool:
        return status(event) in (SENT, SKIPPED)

    def reached(event: Event) -> bool:  # sent, or maybe sent by an interrupted run
        return status(event) in (SENT, SENDING)

    for root_key in sorted(chains):
        chain = sorted(chains[root_key], key=lambda a: root_of(a.key)[1])
        root, newest = chain[0], chain[-1]
        announcements = [_event("issued" if root_of(a.key)[1] == 0 else "renewed", a, a.key) for a in chain]
        told = any(reached(e) for e in announcements)
        for event in announcements:
            if settled(event):
                continue
            if event.award is not newest:
                skip.append((event, "superseded by a renewal"))
            elif root.revocation is not None:
                skip.append((event, "revoked before it was announced"))
            elif root.suspension is not None:
                deferred.append((event, "suspended"))
            elif newest.expires is not None and newest.expires <= now:
                skip.append((event, "expired before it was announced"))
            else:
                send.append(event)
        if root.revocation is not None:
            event = _event("revoked", newest, root_key, None, root.revocation.reason)
            if not settled(event):
                (send.append(event) if told else skip.append((event, "the recipient was never told of the award")))
        if root.suspension is not None:
            event = _event("suspended", newest, root_key, root.suspension.on, root.suspension.reason)
            if not settled(event):
                if root.revocation is not None:
                    skip.append((event, "revoked since"))
                elif told:
                    send.append(event)
                else:
                    skip.append((event, "the recipient was never told of the award"))
        if root.lifted_suspension is not None and root.reinstatement is not None:
            suspended = _event("suspended", newest, root_key, root.lifted_suspension.on)
            reinstated = _event("reinstated", newest, root_key, root.reinstatement.on, root.reinstatement.reason)
            was_told = reached(suspended)
            if not settled(suspended) and status(suspended) != SENDING:
                skip.append((suspended, "lifted before it was announced"))
            if not settled(reinstated):
                if root.revocation is not None:
                    skip.append((reinstated, "revoked since"))
                elif was_told:
                    send.append(reinstated)
                else:
                    skip.append((reinstated, "the suspension was never announced"))
    send.sort(key=lambda e: e.key)
    return Plan(send, skip, deferred)


# --- the register ---------------------------------------------------------------------------

def load_state(project: Path) -> dict[str, dict]:
    path = project / STATE_PATH
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text("utf-8"))
        if doc.get("format") != FORMAT or not isinstance(doc.get("events"), dict):
            raise ValueError("unknown format")
        return doc["events"]
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise NotifyError(f"{STATE_PATH} cannot be read ({exc}); restore it from git") from None


def save_state(project: Path, events: dict[str, dict]) -> None:
    """Atomically replace the register (temp file + fsync + rename + fsync of the folder)."""
    path = project / STATE_PATH
    data = canonical.json_bytes({"format": FORMAT, "events": {k: events[k] for k in sorted(events)}})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextlib.contextmanager
def _lock(project: Path) -> Iterator[None]:
    path = project / LOCK_PATH
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NotifyError("another `notify` is running for this project; wait for it to finish") from None
        yield
    finally:
        handle.close()


# --- messages -------------------------------------------------------------------------------

SUBJECTS = {
    "issued": "Your {badge} badge from {issuer}",
    "renewed": "Your {badge} badge has been renewed",
    "revoked": "Your {badge} badge has been revoked",
    "suspended": "Your {badge} badge has been suspended",
    "reinstated": "Your {badge} badge is valid again",
}


def _environment(project: Path) -> jinja2.Environment:
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


def build_message(event: Event, model: SiteModel, routes: Routes, env: jinja2.Environment, sender: str,
                  reply_to: str | None, now: datetime) -> EmailMessage:
    context = _context(event, model, routes)
    badge, issuer = context["badge"], context["issuer"]
    subject = env.get_template("email/subject.txt").render(
        **context, default=SUBJECTS[event.kind].format(badge=badge.name, issuer=issuer.name)).strip()
    text = env.get_template("email/message.txt").render(**context)
    html = env.get_template("email/message.html").render(**context)
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = formataddr((event.award.recipient_name, event.award.email))
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = email_date(now.astimezone(timezone.utc), usegmt=True)
    message["Message-ID"] = f"<{event.message_id_hash}.{event.kind}@{_domain(sender)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Badgekiln-Event"] = event.kind
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _domain(sender: str) -> str:
    address = getaddresses([sender])[0][1]
    return address.rpartition("@")[2] or "badgekiln.invalid"


# --- SMTP -----------------------------------------------------------------------------------

class _Tracking:
    """SMTP whose DATA phase records whether the final "." reached the server.

    If the connection breaks before it did, the server cannot have accepted the message, so
    the event is certainly not delivered; after it, delivery is unknown.
    """

    dot_sent = False

    def data(self, msg):  # type: ignore[override]
        self.dot_sent = False
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        data = msg if isinstance(msg, bytes) else msg.encode("ascii")
        data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
        data = re.sub(rb"(?m)^\.", b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self.send(data + b".\r\n")
        self.dot_sent = True
        code, reply = self.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return code, reply


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    sender: str
    reply_to: str | None
    per_minute: int


def smtp_settings(project: Path, report: Report) -> SmtpSettings | None:
    """site.yaml's `smtp:` section, checked, with the password from the environment."""
    path = "content/site.yaml"
    data = (project / path).read_bytes() if (project / path).exists() else None
    doc = load_yaml(data, path, report) if data is not None else None
    site = schema.validate(doc, schema.SITE, report, Location(path, 1), "site.yaml") if doc is not None else None
    if site is None:
        return None
    smtp = site.get("smtp")
    if smtp is None:
        report.error("E202", "site.yaml has no `smtp:` section; notify needs one to send mail",
                     Location(path, 1),
                     "add e.g. `smtp: {host: smtp.example.org, from: \"Badges <badges@example.org>\"}` (or use --dry-run)")
        return None
    sender = smtp["from"]
    name, address = getaddresses([sender])[0]
    try:
        address = normalise_email(address)
    except ValueError as exc:
        report.error("E205", f"smtp.from: {exc}", smtp.at("from"), 'write it like "Northwind Badges <badges@x.org>"')
        return None
    password = os.environ.get(PASSWORD_ENV) or None
    if smtp.get("username") and not password:
        report.error("E202", f"smtp.username is set but {PASSWORD_ENV} is not", smtp.at("username"),
                     f"export {PASSWORD_ENV}=... before running notify (never put it in site.yaml)")
        return None
    security = smtp["security"]
    return SmtpSettings(smtp["host"], smtp.get("port") or _DEFAULT_PORTS[security], security, smtp.get("username"),
                        password, str(Address(display_name=name, addr_spec=address)), smtp.get("reply_to"),
                        max(1, smtp["per_minute"]))


def _connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
    if settings.security == "ssl":
        client: smtplib.SMTP = _SMTPSSL(settings.host, settings.port, timeout=timeout,
                                        context=ssl.create_default_context())
    else:
        client = _SMTP(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            client.starttls(context=ssl.create_default_context())
    if settings.username:
        client.login(settings.username, settings.password or "")
    return client


# --- the run --------------------------------------------------------------------------------

@dataclass
class Summary:
    sent: list[Event] = field(default_factory=list)
    resent: list[Event] = field(default_factory=list)  # were "sending" after an interrupted run
    skipped_done: int = 0  # already sent or skipped earlier
    skipped_new: list[tuple[Event, str]] = field(default_factory=list)
    deferred: list[tuple[Event, str]] = field(default_factory=list)
    failed: list[tuple[Event, str]] = field(default_factory=list)
    uncertain: list[Event] = field(default_factory=list)  # connection lost after the final ".": resent next run
    pending: list[Event] = field(default_factory=list)  # not attempted (interrupted or connection lost)
    interrupted: bool = False
    written: list[Path] = field(default_factory=list)  # --dry-run outbox files

    def text(self, dry_run: bool) -> str:
        verb = "written" if dry_run else "sent"
        parts = [f"{len(self.written) if dry_run else len(self.sent)} {verb}"]
        if self.resent:
            parts[0] += f" ({len(self.resent)} resent after an interrupted run, same Message-ID)"
        parts.append(f"{self.skipped_done + len(self.skipped_new)} skipped")
        if self.deferred:
            parts.append(f"{len(self.deferred)} deferred")
        parts.append(f"{len(self.failed)} failed")
        if self.uncertain:
            parts.append(f"{len(self.uncertain)} unconfirmed")
        if self.pending:
            parts.append(f"{len(self.pending)} not attempted")
        head = "notify " + ("interrupted: " if self.interrupted else "done: ") + ", ".join(parts)
        lines = [head]
        for event, why in self.failed:
            lines.append(f"  failed  {event.kind:<10} {event.award.recipient_name}: {why} (retried next run)")
        for event in self.uncertain:
            lines.append(f"  unconfirmed {event.kind:<10} {event.award.recipient_name}: the connection broke after "
                         "the message was handed over; it is resent next run with the same Message-ID")
        if self.pending or self.failed or self.uncertain:
            lines.append("  run notify again to send the rest")
        return "\n".join(lines)


class _Interrupts:
    """SIGINT/SIGTERM set a flag instead of stopping mid-message; a second SIGINT stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_Interrupts":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def run(project: Path, *, dry_run: bool = False, baseline: bool = False, outbox: Path | None = None,
        per_minute: int | None = None, now: datetime | None = None, timeout: float = 30.0,
        echo: Callable[[str], None] = lambda line: None) -> tuple[Report, Summary | None]:
    """Send (or write) every pending award email; the register makes reruns safe."""
    report = Report()
    prepared = api.check(project, render=False)
    if prepared.model is None:
        report.extend(prepared.diagnostics)
        return report, None
    if prepared.ledger_changed:
        report.error("E304", "some awards are not built yet, so their pages do not exist",
                     Location(ledger.LEDGER_PATH), "run `python build.py`, deploy the site, then notify")
        return report, None
    settings = None
    if not dry_run:
        settings = smtp_settings(project, report)
        if settings is None:
            return report, None
    model = prepared.model
    routes = Routes(model.site.base_url)
    env = _environment(project)
    moment = now or datetime.now(timezone.utc)
    sender = settings.sender if settings else (
        f"{model.site.title} <{model.site.contact_email or 'badges@' + _domain('x@' + _host(model.site.base_url))}>")
    reply_to = settings.reply_to if settings else None
    summary = Summary()
    with _lock(project):
        state = load_state(project)
        published = set(ledger.parse(prepared.ledger_before, Report()))
        todo = plan(model, published, state, moment)
        summary.skipped_done = sum(1 for v in state.values() if v.get("state") in (SENT, SKIPPED))
        summary.deferred = todo.deferred
        if dry_run:
            folder = outbox or project / DEFAULT_OUTBOX
            folder.mkdir(parents=True, exist_ok=True)
            for event in todo.send:
                message = build_message(event, model, routes, env, sender, reply_to, moment)
                path = folder / f"{event.message_id_hash[:16]}-{event.kind}.eml"
                path.write_bytes(bytes(message))
                summary.written.append(path)
                echo(f"wrote   {event.kind:<10} {event.award.recipient_name} <{event.award.email}>  {path.name}")
            summary.skipped_new = todo.skip
            return report, summary
        for event, why in todo.skip:
            state[event.key] = {"state": SKIPPED, "reason": why, "at": format_datetime(moment)}
            summary.skipped_new.append((event, why))
        if baseline:
            for event in todo.send + [e for e, _ in todo.deferred]:
                state[event.key] = {"state": SKIPPED, "reason": "baseline: recipient already informed",
                                    "at": format_datetime(moment)}
                summary.skipped_new.append((event, "baseline"))
            save_state(project, state)
            return report, summary
        if todo.skip:
            save_state(project, state)
        assert settings is not None
        _send_all(project, todo.send, state, settings, per_minute or settings.per_minute, model, routes, env,
                  timeout, summary, echo)
    return report, summary


def _host(base_url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(base_url).hostname or "badgekiln.invalid"


def _send_all(project: Path, events: list[Event], state: dict[str, dict], settings: SmtpSettings,
              per_minute: int, model: SiteModel, routes: Routes, env: jinja2.Environment, timeout: float,
              summary: Summary, echo: Callable[[str], None]) -> None:
    interval = 60.0 / per_minute
    client: smtplib.SMTP | None = None
    last_send = 0.0
    with _Interrupts() as interrupts:
        try:
            for position, event in enumerate(events):
                if interrupts.requested:
                    summary.interrupted = True
                    summary.pending.extend(events[position:])
                    break
                wait = last_send + interval - time.monotonic()
                while wait > 0 and not interrupts.requested:
                    time.sleep(min(wait, 0.05))
                    wait = last_send + interval - time.monotonic()
                if interrupts.requested:
                    summary.interrupted = True
                    summary.pending.extend(events[position:])
                    break
                now = datetime.now(timezone.utc)
                message = build_message(event, model, routes, env, settings.sender, settings.reply_to, now)
                before = state.get(event.key, {})
                attempts = int(before.get("attempts", 0)) + 1
                state[event.key] = {"state": SENDING, "message_id": message["Message-ID"], "attempts": attempts,
                                    "at": format_datetime(now)}
                save_state(project, state)  # intent: from here a crash means "maybe sent"
                try:
                    if client is None:
                        client = _connect(settings, timeout)
                    last_send = time.monotonic()
                    refused = client.sendmail(getaddresses([settings.sender])[0][1], [event.award.email],
                                              bytes(message))
                    if refused:
                        raise smtplib.SMTPRecipientsRefused(refused)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                        smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError,
                        smtplib.SMTPHeloError) as exc:
                    # the server answered "no": certainly not delivered
                    state[event.key] = {"state": FAILED, "message_id": message["Message-ID"],
                                        "attempts": attempts, "at": format_datetime(now), "error": _brief(exc)}
                    save_state(project, state)
                    summary.failed.append((event, _brief(exc)))
                    echo(f"failed  {event.kind:<10} {event.award.recipient_name} <{event.award.email}>: "
                         f"{_brief(exc)}")
                    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                                        smtplib.SMTPHeloError)):
                        summary.pending.extend(events[position + 1:])
                        break
                    continue
                except (OSError, smtplib.SMTPException) as exc:
                    # connection trouble: delivered only if the final "." got through
                    if client is None or not getattr(client, "dot_sent", False):
                        state[event.key] = {"state": FAILED, "message_id": message["Message-ID"],
                                            "attempts": attempts, "at": format_datetime(now),
                                            "error": _brief(exc)}
                        save_state(project, state)
                        summary.failed.append((event, f"connection lost: {_brief(exc)}"))
                    else:  # stays "sending": resent next run, same Message-ID
                        summary.uncertain.append(event)
                    summary.pending.extend(events[position + 1:])
                    echo(f"failed  {event.kind:<10} {event.award.recipient_name}: connection lost ({_brief(exc)})")
                    with contextlib.suppress(Exception):
                        if client is not None:
                            client.close()
                    client = None
                    break
                state[event.key] = {"state": SENT, "message_id": message["Message-ID"], "attempts": attempts,
                                    "at": format_datetime(datetime.now(timezone.utc))}
                save_state(project, state)
                summary.sent.append(event)
                if before.get("state") == SENDING:
                    summary.resent.append(event)
                echo(f"sent    {event.kind:<10} {event.award.recipient_name} <{event.award.email}>")
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.quit()


def _brief(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in exc.recipients.values()]
        return "recipient refused: " + "; ".join(codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}".strip()
    return f"{type(exc).__name__}: {exc}".strip()


def add_arguments(sub) -> None:
    p = sub.add_parser("notify", help="email each new, renewed or revoked award to its recipient (once)")
    p.add_argument("--dry-run", action="store_true", help="write the messages as .eml files instead of sending")
    p.add_argument("--outbox", type=Path, default=None, help=f"folder for --dry-run (default: {DEFAULT_OUTBOX}/)")
    p.add_argument("--baseline", action="store_true",
                   help="record every current event as already done, sending nothing (adopting notify)")
    p.add_argument("--per-minute", type=int, default=None, help="rate limit (default: smtp.per_minute or 30)")

