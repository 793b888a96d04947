"""The one route table: every public URL and every output path comes from here.

Templates, JSON ids and the writer all ask this module, so a page link and the file behind
it cannot disagree. Paths are checked to stay inside the output folder.
"""
from __future__ import annotations

import hashlib
import re

from .domain import Award, Badge, GivenEndorsement, Issuer

LAYOUT = 2  # the URL layout below; the ledger records it, so a later layout keeps published URLs


_AWARD_URL = re.compile(r"/a/[a-z0-9]{2}/([a-z0-9]+)(?:/|$)")


def award_slug_in(url: str) -> str | None:
    """The award slug in one of its URLs (page, assertion, credential), or None."""
    match = _AWARD_URL.search(url)
    return match.group(1) if match else None


def shard_of(slug: str, shards: int) -> int:
    """Which of `shards` builds publishes an award (0-based): chosen by its bucket, so that a
    bucket folder is never split between shards and merging them is a plain union."""
    return int.from_bytes(hashlib.sha256(slug[:2].encode("ascii")).digest()[:4], "big") % shards


def shard_of_path(path: str, shards: int) -> int | None:
    """The shard an output path belongs to: an award's file by its bucket; None for shared files."""
    parts = path.split("/")
    return shard_of(parts[1], shards) if len(parts) > 2 and parts[0] == "a" else None


def safe_output_path(path: str) -> str:
    """`path` if it stays inside the output folder (relative, no `..`, no backslash), else ValueError."""
    if not path or path.startswith("/") or "\\" in path or ".." in path.split("/"):
        raise ValueError(f"output path {path!r} escapes the output folder")
    return path


class Routes:
    """Maps entities to output paths (relative) and URLs (absolute, under base_url)."""

    def __init__(self, base_url: str):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def url(self, path: str) -> str:
        """Absolute URL of an output path; `x/index.html` is published as `x/`."""
        path = safe_output_path(path) if path else ""
        if path == "index.html":
            path = ""
        elif path.endswith("/index.html"):
            path = path[: -len("index.html")]
        return self.base_url + path

    # issuers
    def issuer_json(self, issuer: Issuer) -> str:
        return safe_output_path(f"issuers/{issuer.slug}.json")

    def issuer_page(self, issuer: Issuer) -> str:
        return safe_output_path(f"issuers/{issuer.slug}/index.html")

    def issuer_image(self, issuer: Issuer) -> str:
        assert issuer.image is not None
        return safe_output_path(f"issuers/{issuer.slug}.{issuer.image.format}")

    # badges
    def badge_json(self, badge: Badge) -> str:
        return safe_output_path(f"badges/{badge.slug}.json")

    def badge_page(self, badge: Badge) -> str:
        return safe_output_path(f"badges/{badge.slug}/index.html")

    def badge_image(self, badge: Badge) -> str:
        return safe_output_path(f"badges/{badge.slug}.{badge.image.format}")

    def badge_bake_png(self, badge: Badge) -> str:
        """The PNG an award's PNG download is baked from: the class art, or its rendering for SVG art."""
        if badge.image.format == "png":
            return self.badge_image(badge)
        return safe_output_path(f"badges/{badge.slug}/bake.png")

    # awards: one folder per award, in buckets of the slug's first two characters, so that no
    # folder holds more than about 1,300 entries (36^2 buckets; ~770 awards each at 10^6).
    # Frozen once published (LAYOUT, recorded in the ledger): recipients and wallets keep them.
    def award_folder(self, award: Award) -> str:
        return f"a/{award.slug[:2]}/{award.slug}"

    def award_page(self, award: Award) -> str:
        """The page a recipient shares; printing it gives the certificate."""
        return safe_output_path(f"{self.award_folder(award)}/index.html")

    def award_json(self, award: Award) -> str:
        """OB 2.0 hosted Assertion; its URL is the assertion `id`."""
        return safe_output_path(f"{self.award_folder(award)}/assertion.json")

    def award_credential_json(self, award: Award) -> str:
        """OB 3.0 OpenBadgeCredential with its DataIntegrityProof; its URL is the credential `id`."""
        return safe_output_path(f"{self.award_folder(award)}/credential.json")

    def award_png(self, award: Award) -> str:
        """PNG baked with both assertions (site.yaml `outputs: full` only; else baked in the browser)."""
        return safe_output_path(f"{self.award_folder(award)}/badge.png")

    def award_svg(self, award: Award) -> str:
        """SVG baked with the OB 2.0 assertion (`outputs: full` and SVG art only)."""
        return safe_output_path(f"{self.award_folder(award)}/badge.svg")

    def award_credential_svg(self, award: Award) -> str:
        """SVG baked with the OB 3.0 credential (`outputs: full` and SVG art only)."""
        return safe_output_path(f"{self.award_folder(award)}/credential.svg")

    def award_credential_jwt(self, award: Award) -> str:
        """The credential as a VC-JWT (compact JWS, RS256); only when site.yaml enables it."""
        return safe_output_path(f"{self.award_folder(award)}/credential.jwt")

    def award_ob2_jws(self, award: Award) -> str:
        """OB 2.0 SignedBadge assertion (compact JWS, RS256); only when site.yaml enables it."""
        return safe_output_path(f"{self.award_folder(award)}/assertion.jws")

    def award_paths(self, award: Award) -> list[str]:
        """Every output path one award can have (whichever a build writes): what is *not* shared.

        These are the `award_*` routes, so a route added for awards is counted without a list
        to keep in step (check-live tells an award's files from the shared ones by them).
        """
        names = sorted(n for n in dir(type(self)) if n.startswith("award_") and n != "award_paths")
        return [getattr(self, name)(award) for name in names]

    def issuer_key(self, issuer: Issuer, key_id: str) -> str:
        """OB 2.0 CryptographicKey of one signing key, owned by one issuer (SignedBadge `creator`)."""
        return safe_output_path(f"issuers/{issuer.slug}/key-{key_id}.json")

    def did_document(self) -> str:
        """did:web document: /.well-known/did.json, or <path>/did.json when base_url has a path."""
        from ..crypto.didweb import did_document_output_path

        return safe_output_path(did_document_output_path(self.base_url))

    def badge_share_image(self, badge: Badge) -> str:
        """1200x627 link-preview PNG (social.py), one per badge."""
        return safe_output_path(f"badges/{badge.slug}/share.png")

    # status and revocation lists, one set per issuer. Their URLs are frozen into
    # every OB 3.0 credential (credentialStatus) and the OB 2.0 Profile: never rename them.
    def ob2_revocation_list(self, issuer: Issuer) -> str:
        """OB 2.0 `RevocationList` named by the issuer Profile's `revocationList`."""
        return safe_output_path(f"status/{issuer.slug}/ob2-revocations.json")

    def status_list(self, issuer: Issuer, purpose: str) -> str:
        """Signed W3C `BitstringStatusListCredential`; purpose is "revocation" or "suspension"."""
        assert purpose in ("revocation", "suspension"), purpose
        return safe_output_path(f"status/{issuer.slug}/{purpose}.json")

    def cpd_renewals(self, issuer: Issuer) -> str:
        """Which CPD credentials were renewed or lapse when (keyed by a hash of the award slug)."""
        return safe_output_path(f"status/{issuer.slug}/renewals.json")

    def revocation_list_1edtech(self, issuer: Issuer) -> str:
        """1EdTech Revocation List (`1EdTechRevocationList` status method) as JSON."""
        return safe_output_path(f"status/{issuer.slug}/1edtech-revocations.json")

    # endorsements this site gives. Frozen once published: the endorsed party embeds them.
    def given_endorsement(self, endorsement: GivenEndorsement) -> str:
        """The signed OB 3.0 EndorsementCredential; its URL is the credential `id`."""
        return safe_output_path(f"endorsements/{endorsement.slug}.json")

    given_endorsements_page = "endorsements/index.html"  # "Endorsements we give"

    # site-wide
    index = "index.html"
    not_found = "404.html"
    stylesheet = "assets/site.css"
    theme_stylesheet = "assets/theme.css"  # colours from site.yaml (theme.py)
    verify_page = "verify/index.html"
    script_strings = "assets/strings.js"  # the page strings scripts show, for the site's language
    site_logo = "assets/logo"
