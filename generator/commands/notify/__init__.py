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
from .delivery import DEFAULT_OUTBOX, Summary, add_arguments, run
from .events import Event, NotifyPlan, plan
from .register import STATE_PATH, NotifyError, load_state, save_state
from .smtp import PASSWORD_ENV, SmtpSettings, smtp_settings

__all__ = ["DEFAULT_OUTBOX", "PASSWORD_ENV", "STATE_PATH", "Event", "NotifyError", "NotifyPlan", "SmtpSettings",
           "Summary", "add_arguments", "load_state", "plan", "run", "save_state", "smtp_settings"]
