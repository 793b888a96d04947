"""The one route table: every public URL and every output path comes from here.

Templates, JSON ids and the writer all ask this module, so a page link and the file behind
it cannot disagree. Paths are checked to stay inside the output folder.
"""
from __future__ import annotations

from pathlib import PurePosixPath

from .model import Award, Badge, Issuer


def _check(path: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not path or "\\" in path:
        raise ValueError(f"output path {path!r} escapes the output folder")
    return path


class Routes:
    """Maps entities to output paths (relative) and URLs (absolute, under base_url)."""

    def __init__(self, base_url: str):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def url(self, path: str) -> str:
        """Absolute URL of an output path; `x/index.html` is published as `x/`."""
        path = _check(path) if path else ""
        if path == "index.html":
            path = ""
        elif path.endswith("/index.html"):
            path = path[: -len("index.html")]
        return self.base_url + path

    # issuers
    def issuer_json(self, issuer: Issuer) -> str:
        return _check(f"issuers/{issuer.slug}.json")

    def issuer_page(self, issuer: Issuer) -> str:
        return _check(f"issuers/{issuer.slug}/index.html")

    def issuer_image(self, issuer: Issuer) -> str:
        assert issuer.image is not None
        return _check(f"issuers/{issuer.slug}.{issuer.image.format}")

    # badges
    def badge_json(self, badge: Badge) -> str:
        return _check(f"badges/{badge.slug}.json")

    def badge_page(self, badge: Badge) -> str:
        return _check(f"badges/{badge.slug}/index.html")

    def badge_image(self, badge: Badge) -> str:
        return _check(f"badges/{badge.slug}.{badge.image.format}")

    # awards
    def award_json(self, award: Award) -> str:
        return _check(f"a/{award.slug}.json")

    def award_page(self, award: Award) -> str:
        return _check(f"a/{award.slug}/index.html")

    def award_png(self, award: Award) -> str:
        return _check(f"a/{award.slug}.png")

    def award_svg(self, award: Award) -> str:
        return _check(f"a/{award.slug}.svg")

    # site-wide
    index = "index.html"
    not_found = "404.html"
    stylesheet = "assets/site.css"
    site_logo = "assets/logo"
