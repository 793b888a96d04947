"""The validated domain: frozen dataclasses with no I/O and no formatting.

Everything downstream (credentials, pages, baking) reads these and nothing else, so a value
that reaches the output has been checked once, here, at the boundary.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .diagnostics import Location
from .values import Duration


@dataclass(frozen=True)
class Image:
    """A source image as bytes plus what inspection learnt about it."""

    source: str  # project-relative path
    data: bytes
    format: str  # "png" or "svg"
    width: int
    height: int


@dataclass(frozen=True)
class Theme:
    primary_color: str
    accent_color: str
    logo: Image | None


@dataclass(frozen=True)
class Site:
    title: str
    base_url: str
    language: str
    description: str
    theme: Theme
    footer: str
    contact_email: str | None
    privacy_url: str | None
    public_repository: bool


@dataclass(frozen=True)
class Issuer:
    slug: str
    name: str
    url: str
    email: str
    description: str
    image: Image | None
    telephone: str | None
    location: Location


@dataclass(frozen=True)
class Alignment:
    name: str
    url: str
    description: str | None
    framework: str | None
    code: str | None


@dataclass(frozen=True)
class Badge:
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


@dataclass(frozen=True)
class Evidence:
    url: str | None
    name: str | None
    description: str | None


@dataclass(frozen=True)
class Award:
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


@dataclass(frozen=True)
class SiteModel:
    """The whole validated site, every collection sorted so iteration order is deterministic."""

    site: Site
    issuers: tuple[Issuer, ...]
    badges: tuple[Badge, ...]
    awards: tuple[Award, ...]

    def issuer(self, slug: str) -> Issuer:
        return next(i for i in self.issuers if i.slug == slug)

    def badge(self, slug: str) -> Badge:
        return next(b for b in self.badges if b.slug == slug)

    def awards_of(self, badge_slug: str) -> tuple[Award, ...]:
        return tuple(a for a in self.awards if a.badge == badge_slug)
