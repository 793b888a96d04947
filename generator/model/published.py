"""What a built site shows of each award, so that emails announce only what is really online.

A build records, beside its build cache, the state every award has in the site it wrote
(`site_record`); `check-live`, once it has found the live site to be that build, records it
as live; `notify` then announces an event only when the live site shows it. The states are
ledger keys (a badge and a hash, never an email) mapped to short tokens.
"""
from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from .. import canonical
from .domain import Award, SiteModel

FORMAT = 1


def shown(award: Award) -> str:
    """The state a page shows: issued, revoked, suspended <date>, or reinstated <date>."""
    if award.revocation is not None:
        return "revoked"
    if award.suspension is not None:
        return f"suspended {award.suspension.on.date().isoformat()}"
    if award.reinstatement is not None:
        return f"reinstated {award.reinstatement.on.date().isoformat()}"
    return "issued"


def site_record(model: SiteModel, ledger_digest: str) -> bytes:
    """What one build's site shows, as file bytes: its base URL, the ledger it was built with
    (ledger.Update.digest), each award's state. Encoded a few awards at a time, in key order:
    never a mapping of every award, nor the encoder's pieces of its text (at 10^5 awards, 25 MB
    for 4 MB of bytes)."""
    head = {"format": FORMAT, "base_url": model.site.base_url, "ledger": ledger_digest}
    return canonical.json_bytes_streamed(head, "awards", _states(model))


def _states(model: SiteModel) -> Iterator[tuple[str, str]]:
    for award in sorted(model.awards, key=attrgetter("key")):
        yield award.key, shown(award)
