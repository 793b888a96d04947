"""What state an award is in, as far as a static page can know it.

Revocation and suspension are facts of content, so the page states them at build time.
Expiry depends on *when the page is read*: baking "expired" in at build time would need the
build clock in the output (breaking byte-identical rebuilds) and would go stale on a static
host. So the page carries the dates, and the browser decides valid / expiring soon / expired
against the visitor's clock with the same rule as `expiry_state` (shipped to it as
`EXPIRING_SOON_DAYS`).

Hook for revocation/suspension/CPD: `award_state` reads the lifecycle attributes
that `model.Award` carries; extend it there, and every page picks the change up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

EXPIRING_SOON_DAYS = 60

ACTIVE, REVOKED, SUSPENDED = "active", "revoked", "suspended"
VALID, EXPIRING, EXPIRED = "valid", "expiring", "expired"


@dataclass(frozen=True)
class AwardState:
    """The content-known state of an award: active, revoked or suspended (with why and since when).

    `expires` is carried along so that templates and the browser can decide expiry later.
    """

    kind: str
    reason: str | None = None
    since: datetime | None = None
    expires: datetime | None = None

    @property
    def withdrawn(self) -> bool:
        """Revoked or suspended: the issuer no longer vouches for the award."""
        return self.kind in (REVOKED, SUSPENDED)


def _attr(obj: object, *names: str):
    for name in names:
        value = getattr(obj, name, None)
        if value not in (None, False, ""):
            return value
    return None


def award_state(award: object) -> AwardState:
    """AwardState of an award from its content (never from a clock).

    Reads lifecycle fields if the model has them: a `revocation` / `suspension` object with
    `reason` and `date` (or `on`/`since`), or flat `revoked`/`revocation_reason`/`revoked_on`
    and `suspended`/`suspension_reason`/`suspended_on` fields.
    """
    expires = getattr(award, "expires", None)
    for kind, obj_name, flag, reason_name, date_name in (
            (REVOKED, "revocation", "revoked", "revocation_reason", "revoked_on"),
            (SUSPENDED, "suspension", "suspended", "suspension_reason", "suspended_on")):
        obj = getattr(award, obj_name, None)
        if obj is not None:
            return AwardState(kind, _attr(obj, "reason"), _attr(obj, "date", "on", "since", "at"), expires)
        value = getattr(award, flag, None)
        if value:
            since = value if isinstance(value, datetime) else _attr(award, date_name)
            return AwardState(kind, _attr(award, reason_name), since, expires)
    return AwardState(ACTIVE, None, None, expires)


def expiry_state(expires: datetime | None, now: datetime, soon_days: int = EXPIRING_SOON_DAYS) -> str:
    """valid / expiring / expired at `now`; the browser applies the same rule (assets/verify.js)."""
    if expires is None:
        return VALID
    if now >= expires:
        return EXPIRED
    if expires - now <= timedelta(days=soon_days):
        return EXPIRING
    return VALID
