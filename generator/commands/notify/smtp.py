"""SMTP: settings from site.yaml, the connection, and knowing whether a message got through."""
from __future__ import annotations

import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path

from ...diagnostics import Location, Report
from ...load.positioned_yaml import load_yaml
from ...validate import schema
from ...validate.values import normalise_email

PASSWORD_ENV = "BADGEKILN_SMTP_PASSWORD"
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


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
    sender: str | None  # smtp.from; None: each message comes from its issuer (message.default_sender)
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
                     "add e.g. `smtp: {host: smtp.example.org, from: \"Badges <badges@example.org>\"}` "
                     "(or use --dry-run)")
        return None
    sender = None
    if smtp.get("from") is not None:  # else each message comes from its issuer's address (message.py)
        name, address = getaddresses([smtp["from"]])[0]
        try:
            sender = str(Address(display_name=name, addr_spec=normalise_email(address)))
        except ValueError as exc:
            report.error("E205", f"smtp.from: {exc}", smtp.at("from"),
                         'write it like "Northwind Badges <badges@x.org>"')
            return None
    password = os.environ.get(PASSWORD_ENV) or None
    if smtp.get("username") and not password:
        report.error("E202", f"smtp.username is set but {PASSWORD_ENV} is not", smtp.at("username"),
                     f"export {PASSWORD_ENV}=... before running notify (never put it in site.yaml)")
        return None
    security = smtp["security"]
    return SmtpSettings(smtp["host"], smtp.get("port") or _DEFAULT_PORTS[security], security, smtp.get("username"),
                        password, sender, smtp.get("reply_to"), max(1, smtp["per_minute"]))


def connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
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


def brief(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in exc.recipients.values()]
        return "recipient refused: " + "; ".join(codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}".strip()
    return f"{type(exc).__name__}: {exc}".strip()
