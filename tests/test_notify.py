"""`notify` against a real SMTP server (aiosmtpd) on 127.0.0.1: content, headers, exactly once.

The kill tests run `python build.py notify` as a real subprocess and stop it while the server
is holding a message in the middle of its DATA phase:

- SIGKILL before the server accepted the message: the rerun sends it, nothing is doubled;
- SIGKILL after the server accepted it but before the client recorded it: the one ambiguous
  instant. The rerun resends it with the *same* Message-ID (at-least-once, duplicate
  detectable); every other message arrives exactly once;
- SIGINT (Ctrl-C): the message in flight is finished and recorded, the run stops cleanly,
  and the rerun sends the rest: every message exactly once;
- the network drops mid-message: recorded as unconfirmed, resent once by the next run.
"""
from __future__ import annotations

import asyncio
import email
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path

import pytest
import testkeys
from aiosmtpd.controller import Controller
from badgekiln import bake, canonical
from badgekiln.commands import notify
from badgekiln.model.routes import Routes
from conftest import REPO, award_dir, build, copy_project
from openbadges_bakery import unbake as bakery_unbake
from PIL import Image

AWARDS = """badge: safety
issued_on: 2026-02-01
awards:
  - recipient: ada
  - name: Bob Brown
    email: bob@example.com
  - name: Cleo Diaz
    email: cleo@example.com
  - name: Dan Eriksen
    email: dan@example.com
"""


class Recorder:
    """An SMTP handler that keeps what it accepts and can hold, drop or refuse a chosen message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.count = 0
        self.hold_at: int | None = None  # 1-based DATA number to hold
        self.commit_before_hold = False  # True: accept (store) first, then hold the reply
        self.drop_at: int | None = None  # close the connection instead of answering
        self.refuse: set[str] = set()  # recipients answered 550
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        number = self.count
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        if number == self.drop_at:
            server.transport.close()
            return "421 connection dropped"
        if number == self.hold_at:
            if self.commit_before_hold:
                self._keep(message, envelope)
            self.arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            if not self.commit_before_hold:
                return "451 4.3.0 Aborted: the client went away"
            return "250 OK"
        self._keep(message, envelope)
        return "250 OK"

    def _keep(self, message, envelope) -> None:
        self.messages.append(message)
        self.envelopes.append(list(envelope.rcpt_tos))


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    recorder.port = port
    try:
        yield recorder
    finally:
        recorder.release.set()
        controller.stop()


def _project(tmp_path: Path, port: int) -> Path:
    project = copy_project("minimal", tmp_path)
    (project / "content/awards/2026.yaml").write_text(AWARDS)
    site = project / "content/site.yaml"
    site.write_text(site.read_text() + f"""contact_email: help@minimal.example
smtp:
  host: 127.0.0.1
  port: {port}
  security: none
  from: "Minimal Badges <badges@minimal.example>"
  per_minute: 6000
""")
    prepared = build(project)
    assert prepared.model is not None, prepared.diagnostics
    return project


def _notify(project: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    """notify as if the deploy had been checked (tests/test_check_live.py covers that gate)."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), "notify",
                           "--skip-live-check", *args], capture_output=True, text=True, timeout=120, **kw)


def _register(project: Path) -> dict:
    return json.loads((project / notify.STATE_PATH).read_text())["events"]


def _ids(recorder: Recorder) -> Counter:
    return Counter(m["Message-ID"] for m in recorder.messages)


def test_each_new_award_is_emailed_once_with_its_link(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    prepared = build(project)
    first = _notify(project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "notify done: 4 sent, 0 failed" in first.stdout
    assert sorted(r[0] for r in smtp.envelopes) == ["ada@example.com", "bob@example.com", "cleo@example.com",
                                                    "dan@example.com"]
    bob = next(a for a in prepared.model.awards if a.recipient_name == "Bob Brown")
    message = next(m for m in smtp.messages if "bob@example.com" in m["To"])
    page = f"https://badges.minimal.example/{award_dir(bob.slug)}/"
    assert message["To"] == "Bob Brown <bob@example.com>"
    assert message["From"] == "Minimal Badges <badges@minimal.example>"
    assert message["Subject"] == "Your Safety Basics badge from Acme Training"
    assert message["Auto-Submitted"] == "auto-generated" and message["X-Badgekiln-Event"] == "issued"
    assert message["Message-ID"].endswith(".issued@minimal.example>")
    assert message.get_content_type() == "multipart/mixed"  # the text, the HTML and the badge
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert page in text and f'href="{page}"' in html
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in text
    assert "Hello Bob Brown," in text and "valid until 1 February 2028" in text
    register = _register(project)
    assert len(register) == 4 and {v["state"] for v in register.values()} == {"sent"}
    raw = (project / notify.STATE_PATH).read_text()
    assert "@example.com" not in raw  # the register holds no email address
    assert register[f"{bob.key} issued"]["message_id"] == message["Message-ID"]

    second = _notify(project)
    assert second.returncode == 0 and "notify done: 0 sent, 4 already sent, 0 failed" in second.stdout
    assert len(smtp.messages) == 4


def test_the_award_email_carries_the_baked_badge(tmp_path: Path, smtp: Recorder):
    """The answer to "how do I claim my badge?": the PNG, with the hosted assertion and the signed
    credential baked in, the same bytes the award page bakes in the browser."""
    project = _project(tmp_path, smtp.port)
    prepared = build(project, keyring=testkeys.keyring())  # signed: each award gets its OB 3.0 credential
    result = _notify(project)  # no key in this process: the credentials' proofs are in the ledger
    assert result.returncode == 0, result.stdout + result.stderr
    bob = next(a for a in prepared.model.awards if a.recipient_name == "Bob Brown")
    badge = prepared.model.badge(bob.badge)
    message = next(m for m in smtp.messages if "bob@example.com" in m["To"])
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "image/png" and attachment.get_filename() == f"safety-{bob.slug}.png"
    png = attachment.get_content()
    routes, site = Routes(prepared.model.site.base_url), project / "_site"
    hosted = json.loads((site / routes.award_json(bob)).read_text())
    credential = json.loads((site / routes.award_credential_json(bob)).read_text())
    assert json.loads(bakery_unbake(io.BytesIO(png))) == hosted  # openbadges-bakery reads the hosted assertion
    with Image.open(io.BytesIO(png)) as image:
        assert json.loads(image.text["openbadgecredential"]) == credential
    class_png = (site / routes.badge_bake_png(badge)).read_bytes()
    assert png == bake.badge_png(class_png, canonical.dumps(hosted), canonical.dumps(credential))
    text = message.get_body(("plain",)).get_content()
    assert f"Attached: safety-{bob.slug}.png, your badge image" in text
    assert f'<strong>safety-{bob.slug}.png</strong>' in message.get_body(("html",)).get_content()
    assert f"{routes.url(routes.badge_bake_png(badge))}" in message.get_body(("html",)).get_content()


def test_revocation_is_emailed_only_to_someone_who_was_told(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    assert _notify(project).returncode == 0
    for ref in ("safety/bob@example.com",):
        result = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), "revoke", ref,
                                 "--reason", "Issued in error.", "--on", "2026-06-01"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text() + "  - name: Eve New\n    email: eve@example.com\n"
                      "    revoked:\n      on: 2026-02-02\n      reason: Typo.\n")
    assert build(project).model is not None
    run = _notify(project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 sent" in run.stdout
    last = smtp.messages[-1]
    assert last["To"] == "Bob Brown <bob@example.com>" and last["X-Badgekiln-Event"] == "revoked"
    assert last["Subject"] == "Your Safety Basics badge has been revoked"
    assert "Reason: Issued in error." in last.get_body(("plain",)).get_content()
    assert list(last.iter_attachments()) == []  # a revoked badge is not sent again
    reasons = {k: v.get("reason") for k, v in _register(project).items() if v["state"] == "skipped"}
    assert sorted(reasons.values()) == ["revoked before it was announced", "the recipient was never told of the award"]


def test_dry_run_writes_eml_files_and_records_nothing(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    outbox = tmp_path / "outbox"
    result = _notify(project, "--dry-run", "--outbox", str(outbox))
    assert result.returncode == 0, result.stderr
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4 and not smtp.messages and not (project / notify.STATE_PATH).exists()
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] and parsed.get_body(("html",)) is not None


def test_missing_smtp_settings_and_password_are_reported(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace("  security: none\n", "  security: none\n  username: mailer\n"))
    env = {k: v for k, v in os.environ.items() if k != notify.PASSWORD_ENV}
    result = _notify(project, env=env)
    assert result.returncode == 1 and "BADGEKILN_SMTP_PASSWORD is not" in result.stderr
    site.write_text(site.read_text().split("smtp:")[0])
    result = _notify(project)
    assert result.returncode == 1 and "site.yaml has no `smtp:` section" in result.stderr


def test_refused_recipient_fails_alone_and_is_retried(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    smtp.refuse = {"cleo@example.com"}
    first = _notify(project)
    assert first.returncode == 1 and "3 sent" in first.stdout and "1 failed" in first.stdout
    assert "550" in first.stdout
    smtp.refuse = set()
    second = _notify(project)
    assert second.returncode == 0 and "1 sent" in second.stdout
    assert sorted(_ids(smtp).values()) == [1, 1, 1, 1]


def _start_and_wait(project: Path, smtp: Recorder) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--project", str(project), "notify",
                                "--skip-live-check"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert smtp.arrived.wait(60), "the second message never reached the server"
    return process


def _in_flight(project: Path) -> list[str]:
    return [k for k, v in _register(project).items() if v["state"] == "sending"]


def test_sigkill_before_the_server_accepted_then_rerun_sends_each_once(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    smtp.hold_at = 2
    process = _start_and_wait(project, smtp)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    smtp.release.set()
    assert len(smtp.messages) == 1 and len(_in_flight(project)) == 1  # intent recorded, no answer yet
    rerun = _notify(project)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "3 sent (1 resent after an interrupted run, same Message-ID)" in rerun.stdout
    assert len(smtp.messages) == 4 and sorted(_ids(smtp).values()) == [1, 1, 1, 1]  # exactly once each
    assert {v["state"] for v in _register(project).values()} == {"sent"}
    assert _notify(project).stdout.startswith("notify done: 0 sent")


def test_sigkill_after_the_server_accepted_duplicates_only_that_message_with_the_same_id(
        tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    smtp.hold_at, smtp.commit_before_hold = 2, True
    process = _start_and_wait(project, smtp)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    smtp.release.set()
    [ambiguous] = _in_flight(project)
    rerun = _notify(project)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts = _ids(smtp)
    assert len(counts) == 4, "every award event was delivered"
    assert sorted(counts.values()) == [1, 1, 1, 2]
    duplicated = next(mid for mid, n in counts.items() if n == 2)
    assert _register(project)[ambiguous]["message_id"] == duplicated  # recognisable by its Message-ID


def test_sigint_finishes_the_message_in_flight_and_the_rerun_completes_exactly_once(
        tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    smtp.hold_at, smtp.commit_before_hold = 2, True
    process = _start_and_wait(project, smtp)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)  # the client is blocked waiting for the server's answer when Ctrl-C arrives
    smtp.release.set()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "notify interrupted: 2 sent" in out and "2 not attempted" in out and "run notify again" in out
    assert _in_flight(project) == []
    rerun = _notify(project)
    assert rerun.returncode == 0 and "2 sent" in rerun.stdout, rerun.stdout
    assert sorted(_ids(smtp).values()) == [1, 1, 1, 1]


def test_network_drop_mid_message_is_resent_once(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    smtp.drop_at = 2
    first = _notify(project)
    assert first.returncode == 1 and "1 sent" in first.stdout and "1 unconfirmed" in first.stdout
    assert "2 not attempted" in first.stdout
    smtp.drop_at = None
    second = _notify(project)
    assert second.returncode == 0 and "3 sent (1 resent" in second.stdout, second.stdout
    assert sorted(_ids(smtp).values()) == [1, 1, 1, 1]


def test_each_award_not_sent_is_printed_with_its_reason_and_already_sent_is_its_own_count(
        tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text() + "  - name: Eve New\n    email: eve@example.com\n"
                      "    revoked:\n      on: 2026-02-02\n      reason: Typo.\n"
                      "  - name: Fay Wait\n    email: fay@example.com\n"
                      "    suspended:\n      on: 2026-02-03\n      reason: Under review.\n")
    assert build(project).model is not None
    first = _notify(project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "notify done: 4 sent, 3 skipped, 1 deferred, 0 failed" in first.stdout, first.stdout
    lines = first.stdout.splitlines()
    assert any(line.split()[:2] == ["skipped", "issued"] and "Eve New <eve@example.com>" in line
               and line.endswith("revoked before it was announced") for line in lines), first.stdout
    assert any(line.split()[:2] == ["deferred", "issued"] and "Fay Wait <fay@example.com>" in line
               and line.endswith("suspended (announced once reinstated)") for line in lines), first.stdout
    again = _notify(project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "notify done: 0 sent, 4 already sent, 3 skipped earlier, 1 deferred, 0 failed" in again.stdout, \
        again.stdout
    assert "Eve New" not in again.stdout and "Fay Wait" in again.stdout  # decided once; deferred each time


def test_without_smtp_from_mail_comes_from_the_issuer_in_the_sites_name(tmp_path: Path, smtp: Recorder):
    project = _project(tmp_path, smtp.port)
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace('  from: "Minimal Badges <badges@minimal.example>"\n', ""))
    result = _notify(project)
    assert result.returncode == 0, result.stdout + result.stderr
    message = smtp.messages[0]
    assert message["From"] == "Minimal Badges <badges@acme.example>"  # site title, issuer's address
    assert message["Reply-To"] is None and message["Message-ID"].endswith("@acme.example>")
    assert "Reply to this email" in message.get_body(("plain",)).get_content()  # it reaches the issuer
    dry = _notify(project, "--dry-run", "--outbox", str(tmp_path / "outbox"))
    assert dry.returncode == 0, dry.stderr
