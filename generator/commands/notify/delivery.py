"""A `notify` run: plan the events, then write them (--dry-run) or send them, recording each."""
from __future__ import annotations

import contextlib
import signal
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from ... import api
from ...diagnostics import Location, Report
from ...model import ledger
from ...model.domain import SiteModel
from ...model.lifecycle import root_of
from ...model.published import shown
from ...model.routes import Routes
from ...project_lock import project_lock
from ...validate.values import format_datetime
from ..check_live import load_live
from .events import Event, plan
from .register import FAILED, SENDING, SENT, SKIPPED, NotifyError, load_state, save_state
from .smtp import SmtpSettings, brief, connect, smtp_settings

DEFAULT_OUTBOX = "_outbox"


@dataclass
class Summary:
    """What a run did, and for every award it did not email, why."""

    sent: list[Event] = field(default_factory=list)
    resent: list[Event] = field(default_factory=list)  # were "sending" after an interrupted run
    already_sent: int = 0  # sent by an earlier run
    skipped_before: int = 0  # skipped by an earlier run (the reasons are in the register)
    skipped_new: list[tuple[Event, str]] = field(default_factory=list)
    deferred: list[tuple[Event, str]] = field(default_factory=list)
    held: list[tuple[Event, str]] = field(default_factory=list)  # not on the live site yet (check-live)
    notes: list[str] = field(default_factory=list)
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
        for count, label in ((self.already_sent, "already sent"), (len(self.skipped_new), "skipped"),
                             (self.skipped_before, "skipped earlier"), (len(self.deferred), "deferred"),
                             (len(self.held), "not live yet")):
            if count:
                parts.append(f"{count} {label}")
        parts.append(f"{len(self.failed)} failed")
        if self.uncertain:
            parts.append(f"{len(self.uncertain)} unconfirmed")
        if self.pending:
            parts.append(f"{len(self.pending)} not attempted")
        head = "notify " + ("interrupted: " if self.interrupted else "done: ") + ", ".join(parts)
        lines = [head]
        for label, events in (("skipped", self.skipped_new), ("deferred", self.deferred), ("held", self.held)):
            lines += [f"  {label:<8} {event.kind:<10} {_who(event)}: {why}" for event, why in events]
        for event, why in self.failed:
            lines.append(f"  failed  {event.kind:<10} {event.award.recipient_name}: {why} (retried next run)")
        for event in self.uncertain:
            lines.append(f"  unconfirmed {event.kind:<10} {event.award.recipient_name}: the connection broke after "
                         "the message was handed over; it is resent next run with the same Message-ID")
        if self.pending or self.failed or self.uncertain:
            lines.append("  run notify again to send the rest")
        if self.held:
            lines.append("  held back until the live site shows them: deploy, run `badgekiln check-live`, then notify")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _who(event: Event) -> str:
    return f"{event.award.recipient_name} <{event.award.email}>, {event.award.badge}"


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
        echo: Callable[[str], None] = lambda line: None, live_check: bool = True) -> tuple[Report, Summary | None]:
    """Send (or write) every pending award email that the live site shows; the register makes reruns safe.

    `live_check=False` (--skip-live-check) announces content as it is, deployed or not. Holds the
    project lock (project_lock.py): one notify, build or edit of the project at a time.
    """
    with project_lock(project):
        return _run(project, dry_run, baseline, outbox, per_minute, now, timeout, echo, live_check)


def _run(project: Path, dry_run: bool, baseline: bool, outbox: Path | None, per_minute: int | None,
         now: datetime | None, timeout: float, echo: Callable[[str], None],
         live_check: bool) -> tuple[Report, Summary | None]:
    from .message import build_message, environment  # the page renderer and Jinja: not loaded with every command

    report = Report()
    checked = api.check(project, api.BuildOptions(sign=False), render=False)
    if checked.model is None:
        report.extend(checked.diagnostics)
        return report, None
    if checked.ledger_minted:
        report.error("E304", "some awards are not built yet, so their pages do not exist",
                     Location(ledger.LEDGER_PATH), "run `badgekiln build`, deploy the site, then notify")
        return report, None
    settings = None if dry_run else smtp_settings(project, report)
    if settings is None and not dry_run:
        return report, None
    model = checked.model
    live = _live_record(project, model, dry_run) if live_check and not baseline else None
    routes = Routes(model.site.base_url)
    env = environment(project)
    moment = now or datetime.now(timezone.utc)
    sender = settings.sender if settings else None  # None: each issuer's address (message.default_sender)
    reply_to = settings.reply_to if settings else None

    def compose(event: Event, moment: datetime) -> EmailMessage:
        return build_message(event, model, routes, env, sender, reply_to, moment, checked.signing)

    summary = Summary()
    state = load_state(project)
    todo = plan(model, set(checked.ledger_read.entries), state, moment)
    summary.already_sent = sum(1 for v in state.values() if v.get("state") == SENT)
    summary.skipped_before = sum(1 for v in state.values() if v.get("state") == SKIPPED)
    summary.deferred = todo.deferred
    if live is not None:
        todo.send, summary.held = _on_the_live_site(todo.send, live, model)
    elif live_check and not baseline:
        summary.notes.append("no deploy was checked yet: a real run first needs `badgekiln check-live`")
    if dry_run:
        _write_outbox(todo.send, compose, moment, outbox or project / DEFAULT_OUTBOX, summary, echo)
        summary.skipped_new = todo.skip
        return report, summary
    _record_skipped(todo.skip, state, moment, summary)
    if baseline:
        _record_skipped([(e, "baseline") for e in todo.send + [e for e, _ in todo.deferred]], state, moment,
                        summary, reason="baseline: recipient already informed")
    if todo.skip or baseline:
        save_state(project, state)
    if not baseline:
        _Delivery(project, state, settings, per_minute or settings.per_minute, compose, timeout, summary,
                  echo).send_all(todo.send)
    return report, summary


def _live_record(project: Path, model: SiteModel, dry_run: bool) -> dict | None:
    """What check-live found online; notify refuses to announce anything without it (but --dry-run)."""
    live = load_live(project)
    if live is None:
        if dry_run:
            return None
        raise NotifyError("notify announces only what the live site shows, and no deploy has been checked: "
                          "build, deploy, run `badgekiln check-live`, then notify again "
                          "(--skip-live-check sends without checking)")
    if live.get("base_url") != model.site.base_url:
        raise NotifyError(f"check-live last checked a build for {live.get('base_url')}, but base_url is now "
                          f"{model.site.base_url}: build, deploy and run `badgekiln check-live` again")
    return live


def _on_the_live_site(events: list[Event], live: dict, model: SiteModel) -> tuple[list[Event],
                                                                                  list[tuple[Event, str]]]:
    """The events the live site shows (their award and its chain's root as content says), and the rest."""
    online, awards = live["awards"], {a.key: a for a in model.awards}
    send, held = [], []
    for event in events:
        keys = [k for k in dict.fromkeys((root_of(event.award.key)[0], event.award.key)) if k in awards]
        differ = [k for k in keys if online.get(k) != shown(awards[k])]
        if not differ:
            send.append(event)
            continue
        now_live = online.get(differ[0])
        held.append((event, "not on the live site yet" if now_live is None else
                     f"the live site still shows it as {now_live}"))
    return send, held


def _write_outbox(events: list[Event], compose: Callable[[Event, datetime], EmailMessage], moment: datetime,
                  folder: Path, summary: Summary, echo: Callable[[str], None]) -> None:
    """--dry-run: each message as an .eml file; the register is not touched."""
    folder.mkdir(parents=True, exist_ok=True)
    for event in events:
        path = folder / f"{event.message_id_hash[:16]}-{event.kind}.eml"
        path.write_bytes(bytes(compose(event, moment)))
        summary.written.append(path)
        echo(f"wrote   {event.kind:<10} {event.award.recipient_name} <{event.award.email}>  {path.name}")


def _record_skipped(skipped: list[tuple[Event, str]], state: dict[str, dict], moment: datetime, summary: Summary,
                    reason: str | None = None) -> None:
    for event, why in skipped:
        state[event.key] = {"state": SKIPPED, "reason": reason or why, "at": format_datetime(moment)}
        summary.skipped_new.append((event, why))


class _Delivery:
    """Sends events over one SMTP connection, rate-limited, recording each before and after.

    The register entry is "sending" before the transaction starts; it becomes "sent" on the
    server's 250, "failed" when the server refused or the connection broke before the final
    ".", and stays "sending" (resent next run, same Message-ID) only when it broke after it.
    """

    def __init__(self, project: Path, state: dict[str, dict], settings: SmtpSettings, per_minute: int,
                 compose: Callable[[Event, datetime], EmailMessage], timeout: float, summary: Summary,
                 echo: Callable[[str], None]):
        self.project, self.state, self.settings, self.compose = project, state, settings, compose
        self.interval, self.timeout, self.summary, self.echo = 60.0 / per_minute, timeout, summary, echo
        self.client: smtplib.SMTP | None = None
        self.last_send = 0.0

    def send_all(self, events: list[Event]) -> None:
        with _Interrupts() as interrupts:
            try:
                for position, event in enumerate(events):
                    if not self._wait_turn(interrupts):
                        self.summary.interrupted = True
                        self.summary.pending.extend(events[position:])
                        break
                    if not self._send(event):
                        self.summary.pending.extend(events[position + 1:])
                        break
            finally:
                if self.client is not None:
                    with contextlib.suppress(Exception):
                        self.client.quit()

    def _wait_turn(self, interrupts: _Interrupts) -> bool:
        """Sleep until the rate limit allows the next message; False when interrupted."""
        wait = self.last_send + self.interval - time.monotonic()
        while wait > 0 and not interrupts.requested:
            time.sleep(min(wait, 0.05))
            wait = self.last_send + self.interval - time.monotonic()
        return not interrupts.requested

    def _record(self, event: Event, state: str, message: EmailMessage, attempts: int, at: datetime,
                error: str | None = None) -> None:
        entry = {"state": state, "message_id": message["Message-ID"], "attempts": attempts,
                 "at": format_datetime(at)}
        self.state[event.key] = {**entry, "error": error} if error else entry
        save_state(self.project, self.state)

    def _send(self, event: Event) -> bool:
        """Send one message; False when the run must stop (no connection, or refused login)."""
        now = datetime.now(timezone.utc)
        message = self.compose(event, now)
        before = self.state.get(event.key, {})
        attempts = int(before.get("attempts", 0)) + 1
        self._record(event, SENDING, message, attempts, now)  # intent: from here a crash means "maybe sent"
        who = f"{event.award.recipient_name} <{event.award.email}>"
        try:
            if self.client is None:
                self.client = connect(self.settings, self.timeout)
            self.last_send = time.monotonic()
            refused = self.client.sendmail(getaddresses([message["From"]])[0][1], [event.award.email],
                                           bytes(message))
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
        except _SERVER_SAID_NO as exc:  # certainly not delivered
            self._record(event, FAILED, message, attempts, now, brief(exc))
            self.summary.failed.append((event, brief(exc)))
            self.echo(f"failed  {event.kind:<10} {who}: {brief(exc)}")
            return not isinstance(exc, _FATAL)
        except (OSError, smtplib.SMTPException) as exc:  # delivered only if the final "." got through
            if self.client is None or not getattr(self.client, "dot_sent", False):
                self._record(event, FAILED, message, attempts, now, brief(exc))
                self.summary.failed.append((event, f"connection lost: {brief(exc)}"))
            else:  # stays "sending": resent next run, same Message-ID
                self.summary.uncertain.append(event)
            self.echo(f"failed  {event.kind:<10} {event.award.recipient_name}: connection lost ({brief(exc)})")
            with contextlib.suppress(Exception):
                if self.client is not None:
                    self.client.close()
            self.client = None
            return False
        self._record(event, SENT, message, attempts, datetime.now(timezone.utc))
        self.summary.sent.append(event)
        if before.get("state") == SENDING:
            self.summary.resent.append(event)
        self.echo(f"sent    {event.kind:<10} {who}")
        return True


# The server answered "no" (certainly not delivered); after the last three, nothing else will go either.
_FATAL = (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPHeloError)
_SERVER_SAID_NO = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, *_FATAL)


def add_arguments(sub) -> None:
    p = sub.add_parser("notify", help="email each new, renewed or revoked award to its recipient (once)")
    p.add_argument("--dry-run", action="store_true", help="write the messages as .eml files instead of sending")
    p.add_argument("--outbox", type=Path, default=None, help=f"folder for --dry-run (default: {DEFAULT_OUTBOX}/)")
    p.add_argument("--baseline", action="store_true",
                   help="record every current event as already done, sending nothing (adopting notify)")
    p.add_argument("--per-minute", type=int, default=None, help="rate limit (default: smtp.per_minute or 30)")
    p.add_argument("--skip-live-check", action="store_true",
                   help="announce content as it is, even what `check-live` has not found on the live site")

