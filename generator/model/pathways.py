"""Pathways: badges earned by holding other badges, awarded automatically (a pure planner).

A badge with a `pathway:` rule (all of a list of badges, or N of them, optionally all issued
within a span of each other) is awarded to every recipient, identified as awards identify
people (the normalised email), who holds awards meeting it at the same time.

- An award *counts* on a day when it has been issued, has not expired and is not suspended
  that day. A revoked award never counts: it was withdrawn, so nothing new is built on it.
- The rule is *met* on the day an award is issued (or reinstated) that completes it. If the
  recipient holds no standing award of the pathway badge that day, an automatic award is
  issued with that date, even when the day lies before the rule was written ("met late"):
  like any `issued_on`, it is the day the requirements were completed.
- Once minted, an automatic award is frozen in the ledger like any award (slug, salt, status
  index, dates, and the awards it was earned by); later changes to the rule or the content
  never recompute it, and new ones are only looked for from the newest one's date on.
- Its standing follows the awards it was earned by: revoked when one of them is revoked,
  suspended while one is suspended. A component's expiry changes nothing. The credential
  never changes; only its status (lists, hosted OB 2.0 assertion, page) does.
- After an automatic award was revoked or has expired, the badge is earned again (a new
  award) by the next award issued or reinstated that completes the rule.

No clock: every date comes from content and the ledger, so the plan is the same every build.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from ..diagnostics import Report, did_you_mean
from ..validate.schema import Validated
from . import ledger
from .domain import Award, Badge, PathwayComponent, PathwayRule, StatusChange
from .lifecycle import Lifecycle

SEPARATOR = "#pathway-"  # automatic award keys: <badge>/<person>#pathway-<n>; `#` never occurs in a slug
MAX_PER_PERSON = 200  # a guard: each automatic award needs a later issue date, so a plan is finite anyway


def automatic_key(base: str, number: int) -> str:
    """Ledger key of a recipient's `number`th automatic award of a badge (`base`: badge/person)."""
    return f"{base}{SEPARATOR}{number}"


def is_automatic(key: str) -> bool:
    return SEPARATOR in key


def in_use(badges: dict[str, Badge], old: dict[str, ledger.Entry]) -> bool:
    """Whether any badge has a pathway or the ledger holds an automatic award (else nothing to plan)."""
    return any(b.pathway for b in badges.values()) or any(is_automatic(key) for key in old)


def holder_key(key: str) -> str:
    """One key per recipient and badge: what the automatic awards of one person have in common."""
    return key.partition(SEPARATOR)[0]


# --- the rule in a badge file ------------------------------------------------------------------

def rule_of(slug: str, fields: Validated, badges_raw: dict[str, Validated], known_badges: set[str],
            report: Report) -> tuple[bool, PathwayRule | None]:
    """(usable, rule) of a badge's `pathway:` entry; every problem is reported where it is."""
    raw = fields.get("pathway")
    if raw is None:
        return True, None
    all_of, n_of, listed = raw.get("all_of"), raw.get("n_of"), raw.get("badges")
    example = "write `all_of: [first-aid, fire-warden]`, or `n_of: 2` with `badges: [first-aid, fire-warden, ...]`"
    if all_of is not None and (n_of is not None or listed is not None):
        extra = "n_of" if n_of is not None else "badges"
        report.error("E207", f"'all_of' and '{extra}' both given; keep one form", raw.at(extra), example)
        return False, None
    if all_of is None and n_of is None:
        if listed is not None:
            report.error("E202", "needs 'n_of' beside it: how many of these badges must be held", raw.at("badges"),
                         "add e.g. `n_of: 2`, or write `all_of: [...]` to require every one")
        else:
            report.error("E202", "needs 'all_of' or 'n_of'", fields.at("pathway"), example)
        return False, None
    if all_of is None and listed is None:
        report.error("E202", "needs 'badges' beside it: the badges n_of counts from", raw.at("n_of"),
                     "add e.g. `badges: [first-aid, fire-warden, manual-handling]`")
        return False, None
    name = "all_of" if all_of is not None else "badges"
    ids = tuple(all_of if all_of is not None else listed)
    if not ids:
        report.error("E207", "lists no badges", raw.at(name), "list the ids of the badges it requires, e.g. "
                     "[first-aid, fire-warden]")
        return False, None
    usable = _references_usable(ids, raw, name, badges_raw, known_badges, report)
    count = len(ids) if all_of is not None else n_of
    if not 1 <= count <= len(ids):
        problem = f"only {len(ids)} badge(s) are listed" if count > len(ids) else "at least 1 badge must be held"
        report.error("E207", f"n_of is {count}, but {problem}", raw.at("n_of"),
                     f"n_of says how many of the {len(ids)} listed badge(s) must be held (1 to {len(ids)}); "
                     "all_of requires every one")
        usable = False
    if fields.get("renewal") is not None:
        report.error("E207", f"badge '{slug}' has a pathway, so it cannot have a CPD renewal rule",
                     fields.at("renewal"),
                     "automatic pathway awards have no CPD log: remove renewal: (the badges in the pathway "
                     "can have renewal rules)")
        usable = False
    return usable, (PathwayRule(ids, count, raw.get("within"), fields.at("pathway")) if usable else None)


def _references_usable(ids: tuple[str, ...], raw: Validated, name: str, badges_raw: dict[str, Validated],
                       known_badges: set[str], report: Report) -> bool:
    usable = True
    for index, ref in enumerate(ids):
        where = raw.at_item(name, index)
        if ref in ids[:index]:
            report.error("E302", f"badge '{ref}' is listed twice", where, "list each badge once")
            usable = False
        elif ref not in badges_raw:
            usable = False
            if ref not in known_badges:  # a badge file with errors of its own is already reported
                report.error("E301", f"unknown badge '{ref}'", where,
                             did_you_mean(ref, badges_raw) or "use the id of a file in content/badges/")
    return usable


def without_cycles(badges: list[Badge], report: Report) -> list[Badge]:
    """The badges minus those whose pathways require each other (E308): nobody could earn them."""
    by_slug = {b.slug: b for b in badges}
    state: dict[str, str] = {}
    path: list[str] = []
    cyclic: set[str] = set()

    def visit(slug: str) -> None:
        state[slug] = "open"
        path.append(slug)
        rule = by_slug[slug].pathway
        for dep in rule.badges if rule else ():
            if dep not in by_slug:
                continue
            if state.get(dep) == "open":
                cycle = path[path.index(dep):]
                cyclic.update(cycle)
                _report_cycle(cycle, by_slug, report)
            elif dep not in state:
                visit(dep)
        path.pop()
        state[slug] = "done"

    for slug in sorted(by_slug):
        if slug not in state:
            visit(slug)
    return [b for b in badges if b.slug not in cyclic]


def _report_cycle(cycle: list[str], by_slug: dict[str, Badge], report: Report) -> None:
    first = cycle.index(min(cycle))
    cycle = cycle[first:] + cycle[:first]
    rule = by_slug[cycle[0]].pathway
    assert rule is not None
    if len(cycle) == 1:
        report.error("E308", f"badge '{cycle[0]}' requires itself", rule.location,
                     "a badge cannot be earned by holding it: remove it from its own pathway")
        return
    chain = " -> ".join(f"'{slug}'" for slug in cycle + cycle[:1])
    report.error("E308", f"pathways require each other in a circle: {chain}", rule.location,
                 "nobody could ever earn these badges: remove one of them from the other's pathway")


# --- who holds what ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Holding:
    """One award as pathway rules see it: whose, of which badge, when, and its standing in content."""

    key: str
    badge: str
    email: str
    issued_on: datetime
    expires: datetime | None
    life: Lifecycle

    def counts_at(self, moment: datetime) -> bool:
        """Issued, not expired and not suspended on `moment`, and never revoked."""
        life = self.life
        if life.revocation is not None or moment < self.issued_on:
            return False
        if self.expires is not None and moment >= self.expires:
            return False
        if life.suspension is not None and moment >= life.suspension.on:
            return False
        lifted, back = life.lifted_suspension, life.reinstatement
        return not (lifted is not None and back is not None and lifted.on <= moment < back.on)

    def stands_at(self, moment: datetime) -> bool:
        """As an award of the pathway badge itself: it makes an automatic award on `moment` needless.

        Also before its own issue date, so an award made by hand is not doubled by an earlier
        automatic one; a suspended award still stands (it may be reinstated).
        """
        return self.life.revocation is None and (self.expires is None or moment < self.expires)

    @property
    def starts(self) -> tuple[datetime, ...]:
        """When it starts to count: its issue date, and the end of a lifted suspension."""
        back = self.life.reinstatement
        return (self.issued_on,) + ((back.on,) if back is not None and self.life.lifted_suspension else ())


@dataclass(frozen=True)
class AutomaticAward:
    """An automatic award as planned (a new one) or as the ledger froze it (an earlier one)."""

    key: str
    badge: str
    email: str
    issued_on: datetime
    expires: datetime | None
    earned_by: tuple[str, ...]  # ledger keys of the awards it was earned by
    life: Lifecycle  # its standing, derived from theirs

    def holding(self) -> Holding:
        return Holding(self.key, self.badge, self.email, self.issued_on, self.expires, self.life)


def plan(badges: dict[str, Badge], holdings: list[Holding], old: dict[str, ledger.Entry],
         base_key: Callable[[str, str], str]) -> list[AutomaticAward]:
    """Every automatic award: those in the ledger (kept as frozen) and those the rules earn now.

    `holdings` are the awards content asks for (with CPD renewals), with their frozen dates;
    `base_key(badge, email)` is the ledger key an award of the badge to that person has.
    Pathway badges are planned components first, so a pathway can require another one.
    """
    names = {slug: b.name for slug, b in badges.items()}
    by_key = {h.key: h for h in holdings}
    by_person: dict[tuple[str, str], list[Holding]] = {}
    for h in sorted(holdings, key=lambda h: (h.issued_on, h.key)):
        by_person.setdefault((h.email, h.badge), []).append(h)
    frozen = _frozen(old, {h.email for h in holdings}, base_key)
    planned: list[AutomaticAward] = []
    for slug in _order(badges):
        rule = badges[slug].pathway
        people = {email for badge, email in frozen if badge == slug}
        if rule is not None:
            people |= {email for email, badge in by_person if badge in rule.badges}
        for email in sorted(people):
            made = [AutomaticAward(automatic_key(base_key(slug, email), number), slug, email, entry.issued_on,
                                   entry.expires, entry.earned_by,
                                   _standing(entry.issued_on, entry.earned_by, by_key, names))
                    for number, entry in frozen.get((slug, email), [])]
            if rule is not None:
                made += _new_awards(badges[slug], email, made, by_person, by_key, names, base_key)
            for award in made:
                by_key[award.key] = award.holding()
                by_person.setdefault((email, slug), []).append(award.holding())
            planned += made
    return planned


def _new_awards(badge: Badge, email: str, made: list[AutomaticAward], by_person: dict[tuple[str, str], list[Holding]],
                by_key: dict[str, Holding], names: dict[str, str],
                base_key: Callable[[str, str], str]) -> list[AutomaticAward]:
    """The automatic awards the rule earns one person beyond those already made (oldest first)."""
    rule = badge.pathway
    assert rule is not None
    components = [h for slug in rule.badges for h in by_person.get((email, slug), [])]
    own = list(by_person.get((email, badge.slug), [])) + [a.holding() for a in made]
    after = max((a.issued_on for a in made), default=None)
    number = max((int(a.key.rpartition(SEPARATOR)[2]) for a in made), default=0)
    new: list[AutomaticAward] = []
    while len(made) + len(new) < MAX_PER_PERSON:
        found = _first_met(rule, components, own, after)
        if found is None:
            break
        moment, used = found
        number += 1
        expires = badge.valid_for.after(moment) if badge.valid_for else None
        award = AutomaticAward(automatic_key(base_key(badge.slug, email), number), badge.slug, email, moment, expires,
                               used, _standing(moment, used, by_key, names))
        new.append(award)
        own.append(award.holding())
        after = moment
    return new


def _first_met(rule: PathwayRule, components: list[Holding], own: list[Holding],
               after: datetime | None) -> tuple[datetime, tuple[str, ...]] | None:
    """The first day (not before `after`) a component starts counting and completes the rule,
    while the person holds no standing award of the pathway badge; and the awards that meet it."""
    moments = sorted({m for h in components for m in h.starts} | ({after} if after is not None else set()))
    for moment in moments:
        if after is not None and moment < after:
            continue
        if any(h.stands_at(moment) for h in own):
            continue
        used = _meeting(rule, components, moment)
        if used is not None:
            return moment, used
    return None


def _meeting(rule: PathwayRule, components: list[Holding], moment: datetime) -> tuple[str, ...] | None:
    """Keys of awards that meet the rule on `moment` (the newest of each badge, in rule order), or None."""
    held = [h for h in components if h.counts_at(moment)]
    if rule.within is None:
        windows: list[tuple[datetime, datetime] | None] = [None]
    else:
        windows = [(start, rule.within.after(start)) for start in sorted({h.issued_on for h in held})]
    for window in windows:
        newest: dict[str, Holding] = {}
        for h in sorted(held, key=lambda h: (h.issued_on, h.key)):
            if window is None or window[0] <= h.issued_on <= window[1]:
                newest[h.badge] = h
        if len(newest) >= rule.count:
            return tuple(newest[slug].key for slug in rule.badges if slug in newest)[:rule.count]
    return None


def _standing(issued_on: datetime, earned_by: tuple[str, ...], by_key: dict[str, Holding],
              names: dict[str, str]) -> Lifecycle:
    """An automatic award's status, from the awards it was earned by (never before its issue date)."""
    parts = [by_key[key] for key in earned_by if key in by_key]

    def first(changes: list[tuple[StatusChange, Holding]]) -> tuple[StatusChange, Holding] | None:
        return min(changes, key=lambda item: (item[0].on, item[1].key), default=None)

    def because(change: StatusChange, part: Holding, what: str) -> StatusChange:
        return StatusChange(max(change.on, issued_on),
                            f"Earned by holding {names.get(part.badge, part.badge)}, which {what}: {change.reason}")

    revoked = first([(h.life.revocation, h) for h in parts if h.life.revocation is not None])
    suspended = first([(h.life.suspension, h) for h in parts if h.life.suspension is not None])
    lifted = max(((h.life.lifted_suspension, h) for h in parts if h.life.lifted_suspension is not None
                  and h.life.reinstatement is not None and h.life.reinstatement.on > issued_on),
                 key=lambda item: (item[1].life.reinstatement.on, item[1].key), default=None)
    return Lifecycle(
        revocation=because(*revoked, "was revoked") if revoked else None,
        suspension=because(*suspended, "is suspended") if suspended else None,
        lifted_suspension=because(*lifted, "was suspended") if lifted else None,
        reinstatement=lifted[1].life.reinstatement if lifted else None)


def _frozen(old: dict[str, ledger.Entry], emails: set[str],
            base_key: Callable[[str, str], str]) -> dict[tuple[str, str], list[tuple[int, ledger.Entry]]]:
    """Automatic awards in the ledger, by (badge, email) of a recipient still in content, oldest first."""
    badges = {entry.badge for key, entry in old.items() if is_automatic(key)}
    if not badges:
        return {}
    people = {base_key(badge, email): (badge, email) for badge in sorted(badges) for email in sorted(emails)}
    found: dict[tuple[str, str], list[tuple[int, ledger.Entry]]] = {}
    for key, entry in old.items():
        base, _, number = key.partition(SEPARATOR)
        if is_automatic(key) and number.isdigit() and base in people:
            found.setdefault(people[base], []).append((int(number), entry))
    for awards in found.values():
        awards.sort(key=lambda item: item[0])
    return found


def _order(badges: dict[str, Badge]) -> list[str]:
    """Badge slugs with every pathway's components before it (the rules have no cycles)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(slug: str) -> None:
        if slug in seen or slug not in badges:
            return
        seen.add(slug)
        rule = badges[slug].pathway
        for dep in sorted(rule.badges) if rule else ():
            visit(dep)
        order.append(slug)

    for slug in sorted(badges):
        visit(slug)
    return order


# --- into the ledger and the model -------------------------------------------------------------

def wants(planned: list[AutomaticAward], badges: dict[str, Badge]) -> list[ledger.Wanted]:
    """Ledger wants of the automatic awards (the frozen ones keep their entries as they are)."""
    return [ledger.Wanted(a.key, a.badge, a.issued_on, a.expires, False, _where(badges[a.badge]), a.earned_by)
            for a in planned]


def _where(badge: Badge):
    return badge.pathway.location if badge.pathway else badge.location


@dataclass(frozen=True)
class Holder:
    """How a recipient of automatic awards is shown, from their awards in content."""

    name: str
    show_name: bool  # false if any of their awards hides the name
    listed: bool  # true only if every one of their awards may be listed


def awards(planned: list[AutomaticAward], entries: dict[str, ledger.Entry], badges: dict[str, Badge],
           holders: dict[str, Holder]) -> list[Award]:
    """The model's automatic awards: frozen facts from the ledger, standing from the components."""
    result = []
    for auto in planned:
        entry, holder = entries.get(auto.key), holders.get(auto.email)
        if entry is None or holder is None:
            continue
        parts = tuple(PathwayComponent(key, part.slug, part.badge, badges[part.badge].name if part.badge in badges
                                       else part.badge, part.issued_on)
                      for key in entry.earned_by if (part := entries.get(key)) is not None)
        life = auto.life
        result.append(Award(
            auto.key, auto.badge, holder.name, auto.email, holder.show_name, holder.listed, (), None,
            _where(badges[auto.badge]), entry.slug, entry.salt, entry.issued_on, entry.expires,
            status_index=entry.status_index, revocation=life.revocation, suspension=life.suspension,
            lifted_suspension=life.lifted_suspension, reinstatement=life.reinstatement, earned_by=parts))
    return result
