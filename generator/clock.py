"""The one clock: every "now" in Badgekiln comes from here."""
from __future__ import annotations

import os
from datetime import datetime, timezone


def now_from_env() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the wall clock.

    It decides "is this date in the future?" and dates what is minted once into the ledger
    (a credential proof's `created`); it reaches the output only through the ledger.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    return datetime.now(timezone.utc)
