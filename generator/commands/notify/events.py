"""Which award emails are due: events per chain of credentials, and whether to send, skip or defer.

A chain is an award and its CPD renewals. What is sent per chain:
- "issued" / "renewed" for the newest credential, unless it has expired, is revoked or
  suspended (then it is not announced) or was superseded by a renewal before anyone was told;
- "revoked", "suspended", "reinstated" only to someone who had been told about the award.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from ...model.domain import Award, SiteModel
from ...model.lifecycle import root_of
from .register import SENDING, SENT, SKIPPED


@dataclass(frozen=True)
class Event:
    kind: str
    award: Award  # the credential the email is about (the newest of its chain)
    key: str  # register key: "<root ledger key> <kind>[ <date>]"; holds no email address
    reason: str = ""

    @property
    def message_id_hash(self) -> str:
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:32]


@dataclass
class NotifyPlan:
    send: list[Event] = field(default_factory=list)  # to send now (pending, failed, or interrupted in "sending")
    skip: list[tuple[Event, str]] = field(default_factory=list)  # never to be sent, with why (recorded)
    deferred: list[tuple[Event, str]] = field(default_factory=list)  # not now, maybe later (suspended award)


def _event(kind: str, award: Award, base_key: str, when: datetime | None = None, reason: str = "") -> Event:
    key = f"{base_key} {kind}" + (f" {when.date().isoformat()}" if when is not None else "")
    return Event(kind, award, key, reason)


class _Register:
    """The send register, read-only: what became of each event in earlier runs."""

    def __init__(self, state: dict[str, dict]):
        self.state = state

    def status(self, event: Event) -> str | None:
        return self.state.get(event.key, {}).get("state")

    def settled(self, event: Event) -> bool:
        return self.status(event) in (SENT, SKIPPED)

    def reached(self, event: Event) -> bool:  # sent, or maybe sent by an interrupted run
        return self.status(event) in (SENT, SENDING)


def plan(model: SiteModel, published: set[str], state: dict[str, dict], now: datetime) -> NotifyPlan:
    """What to send, skip or defer, from the model, the register and the clock."""
    chains: dict[str, list[Award]] = {}
    for award in model.awards:
        if award.key in published:
            chains.setdefault(root_of(award.key)[0], []).append(award)
    todo, register = NotifyPlan(), _Register(state)
    for root_key in sorted(chains):
        chain = sorted(chains[root_key], key=lambda a: root_of(a.key)[1])
        told = _plan_announcements(chain, register, now, todo)
        _plan_withdrawals(root_key, chain, told, register, todo)
        _plan_reinstatement(root_key, chain, register, todo)
    todo.send.sort(key=lambda e: e.key)
    return todo


def _plan_announcements(chain: list[Award], register: _Register, now: datetime, todo: NotifyPlan) -> bool:
    """"issued" / "renewed" for the newest credential; True if the recipient was ever told."""
    root, newest = chain[0], chain[-1]
    announcements = [_event("issued" if root_of(a.key)[1] == 0 else "renewed", a, a.key) for a in chain]
    told = any(register.reached(e) for e in announcements)
    for event in announcements:
        if register.settled(event):
            continue
        if event.award is not newest:
            todo.skip.append((event, "superseded by a renewal"))
        elif root.revocation is not None:
            todo.skip.append((event, "revoked before it was announced"))
        elif root.suspension is not None:
            todo.deferred.append((event, "suspended (announced once reinstated)"))
        elif newest.expires is not None and newest.expires <= now:
            todo.skip.append((event, "expired before it was announced"))
        else:
            todo.send.append(event)
    return told


def _plan_withdrawals(root_key: str, chain: list[Award], told: bool, register: _Register, todo: NotifyPlan) -> None:
    """"revoked" and "suspended", only to someone who had been told of the award."""
    root, newest = chain[0], chain[-1]
    if root.revocation is not None:
        event = _event("revoked", newest, root_key, None, root.revocation.reason)
        if not register.settled(event):
            (todo.send.append(event) if told else
             todo.skip.append((event, "the recipient was never told of the award")))
    if root.suspension is not None:
        event = _event("suspended", newest, root_key, root.suspension.on, root.suspension.reason)
        if not register.settled(event):
            if root.revocation is not None:
                todo.skip.append((event, "revoked since"))
            elif told:
                todo.send.append(event)
            else:
                todo.skip.append((event, "the recipient was never told of the award"))


def _plan_reinstatement(root_key: str, chain: list[Award], register: _Register, todo: NotifyPlan) -> None:
    """"reinstated", only to someone who was told of the suspension it lifts."""
    root, newest = chain[0], chain[-1]
    if root.lifted_suspension is None or root.reinstatement is None:
        return
    suspended = _event("suspended", newest, root_key, root.lifted_suspension.on)
    reinstated = _event("reinstated", newest, root_key, root.reinstatement.on, root.reinstatement.reason)
    if not register.settled(suspended) and register.status(suspended) != SENDING:
        todo.skip.append((suspended, "lifted before it was announced"))
    if not register.settled(reinstated):
        if root.revocation is not None:
            todo.skip.append((reinstated, "revoked since"))
        elif register.reached(suspended):
            todo.send.append(reinstated)
        else:
            todo.skip.append((reinstated, "the suspension was never announced"))
