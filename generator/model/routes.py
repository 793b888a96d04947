"""The one route table: every public URL and every output path comes from here.

Templates, JSON ids and the writer all ask this module, so a page link and the file behind
it cannot disagree. Paths are checked to stay inside the output folder.
"""
from __future__ import annotations

from .domain import Award, Badge, Issuer


def safe_output_path(path: str) -> str:
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

    # awards
    def award_json(self, award: Award) -> str:
        return safe_output_path(f"a/{award.slug}.json")

    def award_page(self, award: Award) -> str:
        return safe_output_path(f"a/{award.slug}/index.html")

    def award_png(self, award: Award) -> str:
        return safe_output_path(f"a/{award.slug}.png")

    def award_svg(self, award: Award) -> str:
        return safe_output_path(f"a/{award.slug}.svg")

    def award_certificate(self, award: Award) -> str:
        return safe_output_path(f"a/{award.slug}/certificate.html")

    # signed credentials. Frozen once published: recipients and wallets keep them.
    def award_credential_json(self, award: Award) -> str:
        """OB 3.0 OpenBadgeCredential with its DataIntegrityProof; its URL is the credential `id`."""
        return safe_output_path(f"a/{award.slug}.credential.json")

    def award_credential_jwt(self, award: Award) -> str:
        """The same credential as a VC-JWT (compact JWS, RS256); only when site.yaml enables it."""
        return safe_output_path(f"a/{award.slug}.credential.jwt")

    def award_credential_svg(self, award: Award) -> str:
        """SVG baked with the OB 3.0 credential (the OB 2.0 one is award_svg: one prefix per file)."""
        return safe_output_path(f"a/{award.slug}.credential.svg")

    def award_ob2_jws(self, award: Award) -> str:
        """OB 2.0 SignedBadge assertion (compact JWS, RS256); only when site.yaml enables it."""
        return safe_output_path(f"a/{award.slug}.ob2.jws")

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

    # site-wide
    index = "index.html"
    not_found = "404.html"
    stylesheet = "assets/site.css"
    theme_stylesheet = "assets/theme.css"  # colours from site.yaml (theme.py)
    verify_page = "verify/index.html"
    site_logo = "assets/logo"
