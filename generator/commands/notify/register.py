"""The send register, content/notified.json: what became of each award email, crash-safe.

Canonical JSON keyed by event, holding no email address; rewritten atomically (temp file,
fsync, rename, fsync of the folder) before and after each SMTP transaction.
"""
from __future__ import annotations

import json
from pathlib import Path

from ... import canonical
from ...atomic_write import write_file_atomic

STATE_PATH = "content/notified.json"
FORMAT = 1
SENDING, SENT, FAILED, SKIPPED = "sending", "sent", "failed", "skipped"


class NotifyError(Exception):
    """Notify cannot start (settings, state file); the message says what to do."""


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
    """Replace the register atomically and durably (atomic_write.py)."""
    write_file_atomic(project / STATE_PATH,
                      canonical.json_bytes({"format": FORMAT, "events": {k: events[k] for k in sorted(events)}}))
