"""The validated domain: frozen dataclasses with no I/O and no formatting.

Everything downstream (credentials, pages, baking) reads these and nothing else, so a value
that reaches the output has been checked once, here, at the boundary.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from ..canonical import DigestOnce
from ..diagnostics import Location
from ..load.images import Image
from ..validate.values import Duration


@dataclass(frozen=True)
class Theme:
    primary_color: str
    accent_color: str
    logo: Image | None


@dataclass(frozen=True)
class Site(DigestOnce):
    title: str
    base_url: str
    language: str
    description: str
    theme: Theme
    footer: str
    contact_email: str | None
    privacy_url: str | None
    public_repository: bool
    # optional signed forms (site.yaml `signing:`); the OB 3.0 credential is always made
    vc_jwt: bool = False  # also publish each credential as a VC-JWT (RS256)
    ob2_signed: bool = False  # also publish OB 2.0 SignedBadge assertions (JWS, RS256)
    credential_status: str = "single"  # shape of credentialStatus in new credentials (status_lists.py)
    outputs: str = "minimal"  # "full": also baked PNG/SVG files per award (routes.award_png ...)
    host: str = "none"  # static-host profile the build checks the site against (pipeline/hosts.py)


@dataclass(frozen=True)
class Issuer(DigestOnce):
    slug: str
    name: str
    url: str
    email: str
    description: str
    image: Image | None
    telephone: str | None
    location: Location
    linkedin_organization_id: int | None = None  # LinkedIn "Add to profile" (social.py)


@dataclass(frozen=True)
class Alignment:
    name: str
    url: str
    description: str | None
    framework: str | None
    code: str | None


@dataclass(frozen=True)
class Badge(DigestOnce):
    slug: str
    name: str
    issuer: str
    description: str
    image: Image
    criteria: str  # Markdown
    criteria_url: str | None
    tags: tuple[str, ...]
    alignments: tuple[Alignment, ...]
    credits: float | int | None
    achievement_type: str
    valid_for: Duration | None
    location: Location
    renewal: RenewalRule | None = None  # CPD renewal rule ("every 12m, 20 points")
    pathway: PathwayRule | None = None  # earned automatically by holding other badges (pathways.py)


@dataclass(frozen=True)
class Evidence:
    url: str | None
    name: str | None
    description: str | None


# --- Lifecycle facts (revocation, suspension, CPD renewal) -------------------------
# All of them come from content (and the ledger), never from a clock, so pages that show them
# stay byte-identical between builds. Whether an award has *expired* or *lapsed* depends on
# when it is looked at: pages leave that to the browser (status.expiry_state), `due` and
# `verify` use the wall clock.


@dataclass(frozen=True)
class StatusChange:
    """A dated status change recorded in content: a revocation, suspension or reinstatement."""

    on: datetime
    reason: str  # may be "" for a reinstatement


@dataclass(frozen=True)
class RenewalRule:
    """A badge's CPD renewal rule: every `every`, log at least `amount` `unit` to renew."""

    every: Duration
    amount: float | int
    unit: str  # "points" or "hours"


@dataclass(frozen=True)
class CpdActivity:
    """One logged CPD activity (content: an award's `cpd:` list)."""

    date: datetime
    title: str
    amount: float | int
    unit: str  # "points" or "hours"
    evidence: str | None  # URL


@dataclass(frozen=True)
class CpdPeriod:
    """One renewal period [start, end) and the CPD logged in it."""

    number: int  # 0 = the period of the original award
    start: datetime
    end: datetime
    required: float | int
    logged: float | int
    activities: tuple[CpdActivity, ...]
    met_on: datetime | None  # date the logged total reached `required` (None: not reached)
    renewed: bool  # a credential for the next period exists (issued now or earlier)

    @property
    def needed(self) -> float | int:
        """Points (or hours) still to log in this period; 0 once met."""
        return 0 if self.renewed else max(0, self.required - self.logged)


@dataclass(frozen=True)
class CpdProgress:
    """Where one credential sits in its CPD renewal chain (only for badges with a renewal rule).

    Each period's credential is its own award (own ledger entry, slug, page, status index);
    `number` 0 is the award in content, 1.. the renewals the generator issued from the CPD log.
    `period` is *this* credential's period: CPD logged in it earns the next credential.
    `renewed_by` is None for the newest credential of the chain; if its period falls short,
    the badge lapses when that credential expires (`lapses_on`).
    """

    rule: RenewalRule
    number: int
    root_key: str  # ledger key of the award in content (number 0)
    previous: str | None  # slug of the credential this one renews
    renewed_by: str | None  # slug of the credential that renews this one
    period: CpdPeriod
    periods: tuple[CpdPeriod, ...]  # the whole chain, oldest first
    lapses_on: datetime | None  # expiry of the newest credential while its period is short

    @property
    def current(self) -> bool:
        """This is the newest credential of the chain."""
        return self.renewed_by is None


@dataclass(frozen=True)
class PathwayRule:
    """A pathway badge's rule: hold `count` of `badges` at once (all of them for `all_of`).

    With `within`, the awards that meet it must have been issued within that span of each other.
    """

    badges: tuple[str, ...]
    count: int
    within: Duration | None
    location: Location  # the badge file's `pathway:` entry

    @property
    def all_required(self) -> bool:
        return self.count == len(self.badges)


@dataclass(frozen=True)
class PathwayComponent:
    """One award a pathway award was earned by (the list is frozen in the ledger when it is minted)."""

    key: str  # ledger key of the component award
    slug: str
    badge: str
    badge_name: str
    issued_on: datetime


@dataclass(frozen=True, slots=True)  # 10^5 of them: slots save about a third of their memory
class Award(DigestOnce):
    """One award as content states it, joined with what the ledger froze for it."""

    key: str  # stable handle: badge/recipient[/id]; never contains an email
    badge: str
    recipient_name: str
    email: str  # normalised; used only for hashing, never rendered
    show_name: bool
    listed: bool
    evidence: tuple[Evidence, ...]
    narrative: str | None
    location: Location
    # frozen in the ledger at first build
    slug: str
    salt: str
    issued_on: datetime
    expires: datetime | None
    # lifecycle (see StatusChange, CpdProgress above); status.award_state reads them
    status_index: int | None = None  # position in the status lists, minted in the ledger
    revocation: StatusChange | None = None  # revoked (permanent)
    suspension: StatusChange | None = None  # suspended now (None once reinstated)
    lifted_suspension: StatusChange | None = None  # a past suspension that was lifted...
    reinstatement: StatusChange | None = None  # ...and when/why it was lifted
    cpd_log: tuple[CpdActivity, ...] = ()  # the whole log of the award in content, by date
    cpd: CpdProgress | None = None  # renewal chain position (badge has a renewal rule)
    earned_by: tuple[PathwayComponent, ...] = ()  # set only on an automatic pathway award
    email_corrected: bool = False  # this build moves its ledger record to a corrected email (previous_email)
    _digest_cache: str | None = field(default=None, init=False, repr=False, compare=False)  # canonical.DigestOnce


# --- Endorsements (model/endorsements.py checks received ones; content/given-endorsements.yaml) ---


@dataclass(frozen=True)
class Endorsement:
    """A received endorsement that passed its checks: who vouches for which of our entities.

    `document` is what is embedded: the EndorsementCredential (dict) or its VC-JWT (str) for
    OB 3.0, the hosted Endorsement (dict) for OB 2.0 (whose URL OB 2.0 documents list).
    """

    key: str  # the source file, e.g. content/endorsements/accreditor.json
    version: str  # "ob3" or "ob2"
    targets: tuple[tuple[str, str], ...]  # ("badge" | "issuer" | "award", slug or award key)
    subject: str  # the endorsed entity's id, as the endorser wrote it
    endorser: str
    endorser_url: str | None
    comment: str  # Markdown
    issued_on: datetime
    expires: datetime | None
    document: dict | str
    url: str | None  # where the endorser publishes it (an http(s) id), if anywhere
    digest: str  # short digest of `document`: how credential records name what they embedded
    location: Location

    def endorses(self, kind: str, slug: str) -> bool:
        return (kind, slug) in self.targets


@dataclass(frozen=True)
class GivenEndorsement:
    """An endorsement this site gives (content/given-endorsements.yaml), signed like an award."""

    slug: str  # its id in content: the stable part of its URL
    issuer: str
    about: str  # id of the endorsed entity (OB 2.0 BadgeClass/Profile URL, OB 3.0 Achievement/Profile id)
    about_name: str
    comment: str  # Markdown
    issued_on: datetime
    expires: datetime | None
    status_index: int  # minted in the ledger, in the issuer's status lists like an award's
    revocation: StatusChange | None
    location: Location


@dataclass(frozen=True)
class SiteModel:
    """The whole validated site, every collection sorted so iteration order is deterministic."""

    site: Site
    issuers: tuple[Issuer, ...]
    badges: tuple[Badge, ...]
    awards: tuple[Award, ...]
    endorsements: tuple[Endorsement, ...] = ()  # received, by source path
    given: tuple[GivenEndorsement, ...] = ()  # given, by slug

    def endorsements_of(self, kind: str, slug: str) -> tuple[Endorsement, ...]:
        return self._endorsements_by_target.get((kind, slug), ())

    @functools.cached_property
    def _endorsements_by_target(self) -> dict[tuple[str, str], tuple[Endorsement, ...]]:
        """Each target's endorsements, in order, grouped once: every award asks for three targets' own."""
        grouped: dict[tuple[str, str], list[Endorsement]] = {}
        for endorsement in self.endorsements:
            for target in dict.fromkeys(endorsement.targets):
                grouped.setdefault(target, []).append(endorsement)
        return {target: tuple(found) for target, found in grouped.items()}

    def issuer(self, slug: str) -> Issuer:
        return self._by_slug[("issuer", slug)]

    def badge(self, slug: str) -> Badge:
        return self._by_slug[("badge", slug)]

    @functools.cached_property
    def _by_slug(self) -> dict[tuple[str, str], Issuer | Badge]:
        """Issuers and badges by slug: looked up once per award, 10^5 times."""
        return {**{("issuer", i.slug): i for i in self.issuers}, **{("badge", b.slug): b for b in self.badges}}

    def awards_of(self, badge_slug: str) -> tuple[Award, ...]:
        return self._awards_by_badge.get(badge_slug, ())

    @functools.cached_property
    def _awards_by_badge(self) -> dict[str, tuple[Award, ...]]:
        """Each badge's awards, grouped once: pages and lists ask per badge, and there are 10^5 awards."""
        grouped: dict[str, list[Award]] = {}
        for award in self.awards:
            grouped.setdefault(award.badge, []).append(award)
        return {slug: tuple(awards) for slug, awards in grouped.items()}
