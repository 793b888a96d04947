"""Resolve validated content into the domain model: references, images, the ledger, lifecycle.

Every file has been validated on its own (validate/entities.py); here a badge meets its issuer
and image, an award its badge and recipient, and the ledger gives each award what was minted
for it once (slug, salt, dates). The result is a frozen `SiteModel`, or None with every
problem in the report.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

from ..diagnostics import Location, Report, did_you_mean
from ..load import appended, images
from ..load.files import CONTENT, Sources
from ..load.positioned_yaml import load_yaml
from ..validate import schema
from ..validate.entities import (
    YAML_SUFFIXES,
    AwardFields,
    award_files,
    load_entities,
    load_recipients,
    validate_awards,
)
from ..validate.schema import Validated
from ..validate.values import Duration
from . import endorsements, given_endorsements, ledger, lifecycle, pathways
from .domain import Alignment, Award, Badge, Evidence, Issuer, Site, SiteModel, Theme


def award_key(badge: str, email: str, award_id: str | None) -> str:
    """Stable ledger key of an award; the email enters only as a hash."""
    person = hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]
    return f"{badge}/{person}" + (f"/{award_id}" if award_id else "")


def _image(sources: Sources, ref: str | None, where: Location, report: Report):
    if ref is None:
        return None
    rel = PurePosixPath(ref)
    if rel.is_absolute() or ".." in rel.parts or "\\" in ref:
        report.error("E401", f"image path '{ref}' must be relative to content/ and stay inside it", where,
                     "write it like images/first-aid.png")
        return None
    path = f"{CONTENT}/{rel.as_posix()}"
    data = sources.files.get(path)
    if data is None:
        candidates = [p[len(CONTENT) + 1:] for p in sources.files if p.lower().endswith((".png", ".svg"))]
        report.error("E401", f"image '{ref}' not found (looked for {path})", where,
                     did_you_mean(ref, candidates) or "put the image under content/images/")
        return None
    return images.inspect(data, path, report, where)


class RosterMemo(Protocol):
    """Awards files an earlier build read: the same bytes, in the same content, give the same awards.

    Reading and checking a roster is most of what a build does with the awards that did not
    change; a memo keyed by a digest of the file and of every other content file (pipeline/
    build_memo.py keeps it, per Badgekiln code) answers in a lookup. Only files that read
    without a single diagnostic are remembered, so there is nothing to report again. It only
    saves time: a miss reads the file.
    """

    def recall(self, path: str, inputs: str, now: datetime) -> list[tuple] | None: ...
    def knows(self, path: str, inputs: str, now: datetime) -> bool: ...  # would `recall` find it
    # (inputs, shape) of the file at `path` as last read, if awards appended to it can be read alone
    def earlier(self, path: str, now: datetime) -> tuple[str, appended.Shape] | None: ...
    def earlier_awards(self, path: str) -> list[tuple] | None: ...  # what the model took of it then
    def remember(self, path: str, inputs: str, now: datetime, awards: list[tuple],
                 shape: appended.Shape | None = None) -> None: ...
    # the model took these awards from the file read from `inputs`, which is remembered (signing's memo key)
    def read_awards(self, inputs: str, keys: list[str]) -> None: ...


def build_model(sources: Sources, old_ledger: dict[str, ledger.Entry], minter: ledger.Minter,
                now: datetime, report: Report, old_given: dict[str, ledger.Given] | None = None,
                rosters: RosterMemo | None = None) -> tuple[SiteModel | None, dict[str, ledger.Entry]]:
    """Validate and resolve everything; None (with errors in `report`) when content is unusable.

    `old_given` is the ledger's given endorsements; the model's `given` carry what was minted
    for each (pipeline/check.py turns them back into ledger entries).
    """
    old_given = old_given or {}
    site_fields = _site_fields(sources, report)
    issuers_raw, known_issuers = load_entities(sources, "issuers", schema.ISSUER, "issuer", report)
    badges_raw, known_badges = load_entities(sources, "badges", schema.BADGE, "badge", report)
    people, known_people = load_recipients(sources, report)
    issuers = _resolve_issuers(sources, issuers_raw, report)
    badges = _resolve_badges(sources, badges_raw, issuers_raw, known_issuers, known_badges, report)
    wanted = _WantedAwards()
    in_content, correcting = _add_awards(wanted, sources, people, known_people, badges, badges_raw, known_badges,
                                         site_fields, now, report, rosters)
    corrections = _email_corrections(in_content, correcting, old_ledger, report)
    old_ledger = _renamed(old_ledger, corrections)
    wanted.reconciling(old_ledger, set(corrections.values()))
    wanted.add_renewals({b.slug: b for b in badges})
    wanted.add_pathways({b.slug: b for b in badges})
    _warn_public_roster(sources, site_fields, report)
    given_indexes = frozenset(g.status_index for g in old_given.values())
    new_ledger = ledger.reconcile(old_ledger, wanted.wanted, minter, report, check_removed=not report.has_errors(),
                                  reserved_indexes=given_indexes)
    used = {e.status_index for e in new_ledger.values()} | set(given_indexes)
    given, _ = given_endorsements.resolve(
        sources, lambda f: issuer_of(f"endorsement '{f['id']}'", f, issuers_raw, known_issuers, report),
        old_given, used, minter, report, check_removed=not report.has_errors())
    if report.has_errors() or site_fields is None:
        return None, new_ledger
    site = _site(sources, site_fields, report)
    awards = wanted.awards(new_ledger, {b.slug: b for b in badges})
    if report.has_errors():
        return None, new_ledger
    received = endorsements.check_received(sources, site, issuers, badges, awards, now, report)
    if report.has_errors():
        return None, new_ledger
    return SiteModel(site, tuple(issuers), tuple(badges), tuple(awards), received, given), new_ledger


def _add_awards(wanted: _WantedAwards, sources: Sources, people: dict[str, Validated], known_people: set[str],
                badges: list[Badge], badges_raw: dict[str, Validated], known_badges: set[str],
                site_fields: Validated | None, now: datetime, report: Report,
                rosters: RosterMemo | None) -> tuple[set[str], list[AwardFields]]:
    """Every awards file into `wanted`, remembered per file (RosterMemo): a file the memo has is
    replayed, one that only grew by awards at its end is replayed and its new awards read
    (load/appended.py). Returns the key of every award in content and the awards that give a
    previous_email (for _email_corrections)."""
    in_content: set[str] = set()
    correcting: list[AwardFields] = []
    by_slug = {b.slug: b for b in badges}
    date_order = site_fields.get("date_order") if site_fields is not None else None
    context = _context_digest(sources) if rosters is not None else None
    for path, data in award_files(sources):
        inputs = _inputs(context, data) if context is not None else ""
        remembered = rosters.recall(path, inputs, now) if rosters is not None else None
        if remembered is not None:
            keys = list(wanted.replay(remembered, report))
            in_content.update(keys)
            rosters.read_awards(inputs, keys)
            continue
        file_report, first = Report(), len(wanted.wanted)
        before, new = _grown(rosters, context, path, data, now, people, known_people, date_order) \
            if rosters is not None else ([], None)
        if new is not None:  # the awards it had, as they were read, then those appended to it
            in_content.update(wanted.replay(before, file_report))
        else:  # one award at a time: `add` keeps only what the model takes of it (_Stated)
            new = validate_awards(path, data, people, known_people, file_report, date_order)
        read, memorable = len(before), rosters is not None
        for raw in new:
            read += 1
            in_content.add(award_key(raw.fields.get("badge"), raw.email, raw.fields.get("id")))
            if raw.previous_email is not None:
                correcting.append(raw)
                memorable = False  # a correction is read again each build (_email_corrections)
            wanted.add(raw, by_slug, badges_raw, known_badges, now, file_report)
        report.extend(file_report.items)
        if memorable and not file_report.items and read == len(wanted.wanted) - first:  # every award kept
            shape = appended.shape(data, read) if path.lower().endswith(YAML_SUFFIXES) else None
            rosters.remember(path, inputs, now, wanted.added_since(first), shape)
            rosters.read_awards(inputs, [w.key for w in wanted.wanted[first:]])
    return in_content, correcting


def _inputs(context: bytes, data: bytes) -> str:
    """The RosterMemo's key of an awards file: a digest of it and of all it is read against."""
    return hashlib.sha256(context + hashlib.sha256(data).digest()).hexdigest()


def _grown(rosters: RosterMemo, context: bytes, path: str, data: bytes, now: datetime,
           people: dict[str, Validated], known_people: set[str],
           date_order: str | None) -> tuple[list[tuple], list[AwardFields] | None]:
    """For an awards file that only grew by awards at its end since the memo read it: the awards it
    had, as the memo has them, and the new ones, read alone (load/appended.py). ([], None) when
    the memo has no such version, or the new part reads with a diagnostic: then the whole file is
    read, so that what is reported (a syntax error drops every award of the file) is a whole read's."""
    text = _appended_part(rosters, context, path, data, now)
    awards = rosters.earlier_awards(path) if text is not None else None
    if awards is None:
        return [], None
    report = Report()
    new = list(validate_awards(path, text, people, known_people, report, date_order, first=len(awards)))
    return (awards, new) if not report.items else ([], None)


def _appended_part(rosters: RosterMemo, context: bytes, path: str, data: bytes, now: datetime) -> bytes | None:
    """The document of what was appended to an awards file since the memo read it (load/appended.py),
    None when the memo has no earlier version that `data` only appends awards to."""
    earlier = rosters.earlier(path, now)
    if earlier is None:
        return None
    inputs, shape = earlier
    if len(data) <= shape.size or _inputs(context, data[:shape.size]) != inputs:
        return None
    return appended.tail_document(data, shape)


def awards_files_to_read(sources: Sources, rosters: RosterMemo, now: datetime) -> list[tuple[str, bytes]]:
    """The awards files a build must read whole: those `rosters` has neither as they are nor as
    they were before awards were appended to them."""
    context = _context_digest(sources)
    return [(path, data) for path, data in award_files(sources)
            if not rosters.knows(path, _inputs(context, data), now)
            and _appended_part(rosters, context, path, data, now) is None]


def read_awards_files(sources: Sources, paths: Collection[str],
                      now: datetime) -> dict[str, tuple[str, list[tuple], appended.Shape | None]]:
    """What the model takes of each awards file in `paths` that reads without a diagnostic, as a
    RosterMemo remembers it: {path: (inputs, awards, shape)}.

    For a forked process, reading the awards files the memo lacks while the build reads the ledger
    (pipeline/check.py); the build reads any file left out itself, and reports on it. Its awards
    are the ones the build's `_add_awards` would take: the same content, read by the same steps."""
    report = Report()
    site_fields = _site_fields(sources, report)
    issuers_raw, known_issuers = load_entities(sources, "issuers", schema.ISSUER, "issuer", report)
    badges_raw, known_badges = load_entities(sources, "badges", schema.BADGE, "badge", report)
    people, known_people = load_recipients(sources, report)
    badges = _resolve_badges(sources, badges_raw, issuers_raw, known_issuers, known_badges, report)
    only = _OnlyThese(paths)
    _add_awards(_WantedAwards(), sources, people, known_people, badges, badges_raw, known_badges, site_fields, now,
                report, only)
    return only.read


class _OnlyThese:
    """A RosterMemo that has every awards file but `paths` (so only those are read), and keeps what
    it is asked to remember of them."""

    def __init__(self, paths: Collection[str]):
        self.paths, self.read = frozenset(paths), {}

    def recall(self, path: str, inputs: str, now: datetime) -> list[tuple] | None:
        return None if path in self.paths else []

    def knows(self, path: str, inputs: str, now: datetime) -> bool:
        return path not in self.paths

    def earlier(self, path: str, now: datetime) -> None:
        return None

    def earlier_awards(self, path: str) -> None:
        return None

    def remember(self, path: str, inputs: str, now: datetime, awards: list[tuple],
                 shape: appended.Shape | None = None) -> None:
        self.read[path] = (inputs, awards, shape)

    def read_awards(self, inputs: str, keys: list[str]) -> None:
        pass


def _context_digest(sources: Sources) -> bytes:
    """Of every content file but the awards files and the ledger: all an awards file is read against
    (recipients, badges and their issuers and images, site.yaml's date order)."""
    digest = hashlib.sha256()
    for path in sorted(sources.files):
        if not path.startswith(_AWARDS_FOLDER) and not ledger.is_ledger_file(path):
            digest.update(f"{len(path)}:{path}".encode("utf-8") + hashlib.sha256(sources.files[path]).digest())
    return digest.digest()


_AWARDS_FOLDER = f"{CONTENT}/awards/"


def _site_fields(sources: Sources, report: Report) -> Validated | None:
    site_path = f"{CONTENT}/site.yaml"
    if site_path not in sources.files:
        report.error("E202", "content/site.yaml is missing", Location(site_path),
                     "create it with `badgekiln new site` (title and base_url are required)")
        return None
    doc = load_yaml(sources.files[site_path], site_path, report)
    return schema.validate(doc, schema.SITE, report, Location(site_path, 1), "site.yaml")


def _resolve_issuers(sources: Sources, issuers_raw: dict[str, Validated], report: Report) -> list[Issuer]:
    issuers = []
    for slug, f in sorted(issuers_raw.items()):
        img = _image(sources, f.get("image"), f.at("image"), report)
        if _has(f, "name", "url", "email"):
            issuers.append(Issuer(slug, f["name"], f["url"], f["email"], f["description"], img,
                                  f.get("telephone"), f.loc,
                                  linkedin_organization_id=f.get("linkedin_organization_id")))
    return issuers


def issuer_of(what: str, f: Validated, issuers_raw: dict[str, Validated], known_issuers: set[str],
              report: Report) -> str | None:
    """The issuer id of a badge or given endorsement (`what`): as given, or the only issuer there is.

    None (reported) if unusable.
    """
    issuer = f.get("issuer")
    if issuer is None:
        if len(known_issuers) == 1:
            only = next(iter(known_issuers))
            return only if only in issuers_raw else None
        report.error("E202", f"{what} needs 'issuer' (there are {len(known_issuers)} issuers)",
                     f.loc, f"add `issuer: {next(iter(sorted(issuers_raw)), 'ID')}`")
        return None
    if issuer not in issuers_raw:
        if issuer not in known_issuers:
            report.error("E301", f"unknown issuer '{issuer}'", f.at("issuer"),
                         did_you_mean(issuer, issuers_raw) or "add a file content/issuers/<id>.yaml")
        return None
    return issuer


def _resolve_badges(sources: Sources, badges_raw: dict[str, Validated], issuers_raw: dict[str, Validated],
                    known_issuers: set[str], known_badges: set[str], report: Report) -> list[Badge]:
    badges = []
    for slug, f in sorted(badges_raw.items()):
        issuer = issuer_of(f"badge '{slug}'", f, issuers_raw, known_issuers, report)
        img = _image(sources, f.get("image"), f.at("image"), report)
        if img is not None and img.width != img.height:
            report.warning("W202", f"badge image is {img.width}x{img.height}, not square", f.at("image"),
                           "badge displays crop to a square; use a square image")
        usable, pathway = pathways.rule_of(slug, f, badges_raw, known_badges, report)
        if issuer is None or img is None or not usable or not _has(f, "name", "description", "criteria"):
            continue
        alignments = tuple(Alignment(a["name"], a["url"], a.get("description"), a.get("framework"), a.get("code"))
                           for a in f["alignments"])
        renewal = lifecycle.rule_of(f, report)  # CPD renewal rule (None if absent or broken)
        badges.append(Badge(slug, f["name"], issuer, f["description"], img, f["criteria"], f.get("criteria_url"),
                            tuple(f["tags"]), alignments, f.get("credits"), f["achievement_type"],
                            f.get("valid_for"), f.loc, renewal, pathway))
    return pathways.without_cycles(badges, report)


def _email_corrections(in_content: set[str], correcting: list[AwardFields], old_ledger: dict[str, ledger.Entry],
                       report: Report) -> dict[str, str]:
    """Ledger keys to move (published address -> corrected one), as `previous_email` asks.

    The award keeps its ledger record, so its slug, page, salt, status-list index and dates;
    only the identity hashed into its OB 2.0 assertion and OB 3.0 credential changes (the
    build signs the credential again). Once the build has recorded the move, `previous_email`
    is history: it may stay in content or go.
    """
    moves: dict[str, str] = {}
    for raw in correcting:
        badge = raw.fields.get("badge")
        old = award_key(badge, raw.previous_email, raw.fields.get("id"))
        new = award_key(badge, raw.email, raw.fields.get("id"))
        if old == new or old not in old_ledger:
            continue  # nothing published under the old address (or the move is already recorded)
        if new in old_ledger:
            report.error("E302", f"previous_email: the corrected address already has its own published award of "
                         f"badge '{badge}' (page a/{old_ledger[new].slug}/), so this one cannot become it",
                         raw.previous_email_at, "remove previous_email; to withdraw one of the two, revoke it")
        elif old in in_content:
            report.error("E302", f"previous_email: another award of badge '{badge}' in content still has that "
                         "address", raw.previous_email_at, "correct that award too, or remove previous_email here")
        else:
            moves[old] = new
    return moves


def _renamed(entries: dict[str, ledger.Entry], moves: dict[str, str]) -> dict[str, ledger.Entry]:
    """The old ledger with each corrected award (and its CPD renewals) under its new key."""
    if not moves:
        return entries
    renamed = {}
    for key, entry in entries.items():
        root, number = lifecycle.root_of(key)
        if root in moves:
            key = lifecycle.renewal_key(moves[root], number) if number else moves[root]
        renamed[key] = entry
    return renamed


@dataclass(frozen=True, slots=True)
class _Stated:
    """What the model takes of an award in content once `_WantedAwards.add` has checked it."""

    badge: str
    recipient_name: str
    email: str
    show_name: bool
    listed: bool
    evidence: tuple[Evidence, ...]
    narrative: str | None
    issued_on: datetime
    location: Location

    def __reduce__(self):  # unpickled through __init__ (the build memo's rosters): see Location.__reduce__
        return _Stated, (self.badge, self.recipient_name, self.email, self.show_name, self.listed, self.evidence,
                         self.narrative, self.issued_on, self.location)


class _WantedAwards:
    """The awards content asks for, keyed for the ledger, with their lifecycle and CPD renewals."""

    def __init__(self):
        self.old_ledger: dict[str, ledger.Entry] = {}  # set by `reconciling`, once every award is added
        self.corrected: set[str] = set()  # keys whose record this build moves to a corrected email
        self.wanted: list[ledger.Wanted] = []
        self.keyed: dict[str, _Stated] = {}
        self.lifecycles: dict[str, lifecycle.Lifecycle] = {}  # revocation, suspension, CPD log
        self.plans: dict = {}
        self.automatic: list[pathways.AutomaticAward] = []  # pathway awards, earned by holding others
        self.expiries: dict[tuple[Duration, datetime], datetime] = {}  # see _expiry

    def reconciling(self, old_ledger: dict[str, ledger.Entry], corrected: set[str]) -> None:
        """The ledger the awards are reconciled with (email corrections applied), and the corrected keys."""
        self.old_ledger, self.corrected = old_ledger, corrected

    def _expiry(self, policy: Duration, issued: datetime) -> datetime:
        """`policy.after(issued)`, one object for every award of a badge issued on one day.

        `issued` is UTC (values.parse_datetime), so equal dates are equal in every way, time zone included."""
        key = (policy, issued)
        if key not in self.expiries:
            self.expiries[key] = policy.after(issued)
        return self.expiries[key]

    def add(self, raw: AwardFields, badges: dict[str, Badge], badges_raw: dict[str, Validated],
            known_badges: set[str], now: datetime, report: Report) -> None:
        f = raw.fields
        slug = f.get("badge")
        if slug not in badges:
            if slug not in known_badges:
                report.error("E301", f"unknown badge '{slug}'", f.at("badge"),
                             did_you_mean(slug, badges_raw) or "add a file content/badges/<id>.yaml")
            return
        if "issued_on" not in f.values:
            return
        key = award_key(slug, raw.email, f.get("id"))
        if key in self.keyed:
            self._twice(key, raw.recipient_name, slug, f.loc, report)
            return
        issued = f["issued_on"]
        if issued > now:
            report.error("E204", f"issued_on {issued.date()} is in the future", f.at("issued_on"),
                         "validators reject badges issued in the future; use the completion date")
            return
        badge = badges[slug]
        explicit = f.get("expires")
        policy = badge.valid_for or (badge.renewal.every if badge.renewal else None)  # renewal implies expiry
        expires = explicit if explicit is not None else (self._expiry(policy, issued) if policy else None)
        if expires is not None and expires <= issued:
            report.error("E307", "expires is not after issued_on", f.at("expires") if explicit else f.loc,
                         "an award must be valid for some time after it is issued")
            return
        evidence = tuple(Evidence(e.get("url"), e.get("name"), e.get("description")) for e in f["evidence"])
        self.keyed[key] = _Stated(slug, raw.recipient_name, raw.email, raw.show_name, raw.listed, evidence,
                                  f.get("narrative"), issued, f.loc)
        self.wanted.append(ledger.Wanted(key, slug, issued, expires, explicit is not None, f.loc))
        self.lifecycles[key] = lifecycle.parse(f, badge, issued, now, report)

    def _twice(self, key: str, name: str, badge: str, where: Location, report: Report) -> None:
        report.error("E302", f"{name} has badge '{badge}' twice (first at {self.keyed[key].location})", where,
                     "remove the duplicate, or give each award a distinct `id:` if both are real")

    def added_since(self, first: int) -> list[tuple]:
        """What `add` kept of each award since the first `first`: for `replay` (RosterMemo)."""
        return [(self.keyed[w.key], w, self.lifecycles[w.key]) for w in self.wanted[first:]]

    def replay(self, added: list[tuple], report: Report) -> Iterator[str]:
        """`add` the awards `added_since` returned (their files unchanged); yields their keys."""
        for stated, want, life in added:
            if want.key in self.keyed:  # the same award in an earlier file
                self._twice(want.key, stated.recipient_name, stated.badge, stated.location, report)
            else:
                self.keyed[want.key] = stated
                self.wanted.append(want)
                self.lifecycles[want.key] = life
            yield want.key

    def add_renewals(self, badges: dict[str, Badge]) -> None:
        """Each CPD renewal is its own ledger entry (own slug, salt, status index)."""
        self.plans, renewals = lifecycle.renewal_wants(self.wanted, self.lifecycles, badges, self.old_ledger)
        self.wanted.extend(renewals)

    def add_pathways(self, badges: dict[str, Badge]) -> None:
        """Automatic pathway awards, planned from every award above with its frozen dates."""
        if not pathways.in_use(badges, self.old_ledger):
            return
        holdings = []
        for want in self.wanted:
            root = lifecycle.root_of(want.key)[0]
            issued_on, expires = lifecycle.effective(want, self.old_ledger)
            holdings.append(pathways.Holding(want.key, want.badge, self.keyed[root].email, issued_on, expires,
                                             self.lifecycles.get(root) or lifecycle.Lifecycle()))
        self.automatic = pathways.plan(badges, holdings, self.old_ledger, lambda b, email: award_key(b, email, None))
        self.wanted.extend(pathways.wants(self.automatic, badges))

    def _holders(self) -> dict[str, pathways.Holder]:
        """How each recipient of automatic awards is shown: the newest name, the most private choices."""
        wanted = {auto.email for auto in self.automatic}
        holders: dict[str, pathways.Holder] = {}
        for key, raw in sorted(((k, r) for k, r in self.keyed.items() if r.email in wanted),
                               key=lambda item: (item[1].issued_on, item[0])):
            was = holders.get(raw.email)
            holders[raw.email] = pathways.Holder(raw.recipient_name, raw.show_name and (was is None or was.show_name),
                                                 raw.listed and (was is None or was.listed))
        return holders

    def awards(self, new_ledger: dict[str, ledger.Entry], badges: dict[str, Badge]) -> list[Award]:
        """The model's awards (with CPD renewals and automatic pathway awards), in issue order."""
        awards = []
        for key, stated in self.keyed.items():
            entry = new_ledger[key]
            award = Award(key, stated.badge, stated.recipient_name, stated.email, stated.show_name, stated.listed,
                          stated.evidence, stated.narrative, stated.location, entry.slug, entry.salt, entry.issued_on,
                          entry.expires, email_corrected=key in self.corrected,
                          **lifecycle.facts(self.lifecycles.get(key), entry))
            awards.extend(lifecycle.chain(award, self.plans.get(key), badges[award.badge], new_ledger))
        awards.extend(pathways.awards(self.automatic, new_ledger, badges, self._holders()))
        awards.sort(key=lambda a: (a.issued_on, a.slug))
        return awards


def _warn_public_roster(sources: Sources, site_fields: Validated | None, report: Report) -> None:
    if site_fields is not None and site_fields.get("public_repository") and any(
            p.startswith((f"{CONTENT}/recipients/", f"{CONTENT}/awards/")) for p in sources.files):
        report.warning("W101", "site.yaml says the source repository is public, but content/ holds recipient "
                       "names and emails", site_fields.at("public_repository"),
                       "make the repository private (see README: Deploying without publishing emails)")


def _site(sources: Sources, site_fields: Validated, report: Report) -> Site:
    theme_f = site_fields.get("theme")
    theme = Theme(
        theme_f["primary_color"] if theme_f else "#1f4e79", theme_f["accent_color"] if theme_f else "#c8102e",
        _image(sources, theme_f.get("logo"), theme_f.at("logo"), report) if theme_f else None)
    return Site(site_fields["title"], site_fields["base_url"], site_fields["language"], site_fields["description"],
                theme, site_fields["footer"], site_fields.get("contact_email"), site_fields.get("privacy_url"),
                site_fields["public_repository"], **_signing_options(site_fields.get("signing")),
                outputs=site_fields["outputs"], host=site_fields["host"])


def _signing_options(signing: Validated | None) -> dict:
    if not signing:
        return {}
    return {"vc_jwt": bool(signing["vc_jwt"]), "ob2_signed": bool(signing["ob2_signed"]),
            "credential_status": signing["credential_status"]}


def _has(fields: Validated, *names: str) -> bool:
    return all(fields.get(n) is not None for n in names)
