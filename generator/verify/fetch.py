"""Getting the documents a badge points at: from a built site folder first, else over HTTPS.

Only https:// URLs are fetched (http:// on loopback, for local previews), at most 8 MiB each.
"""
from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..crypto import didweb

MAX_FETCH = 8 * 1024 * 1024


class FetchError(Exception):
    """A document could not be obtained (missing file, network failure, refused URL)."""


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


class Fetcher:
    """Gets documents by URL: from a built site folder when the URL is under its base URL."""

    def __init__(self, site: Path | None = None, network: bool = True):
        self.site = site.resolve() if site is not None else None
        self.network = network
        self.bases = self._site_bases() if self.site is not None else []

    def _site_bases(self) -> list[str]:
        """Base URLs the site folder serves, read from its DID document (did:web names its host)."""
        bases = []
        for rel in (".well-known/did.json", "did.json"):
            path = self.site / rel
            if path.is_file():
                try:
                    did = json.loads(path.read_text(encoding="utf-8")).get("id", "")
                    url = didweb.resolve_did_web_url(did)
                except (ValueError, AttributeError, didweb.DidWebError):
                    continue
                base = url[: -len(rel)]
                bases += [base, "http://" + base[len("https://"):]]
        return bases

    def _from_site(self, url: str) -> bytes | None:
        if self.site is None:
            return None
        candidates = [url[len(b):] for b in self.bases if url.startswith(b)]
        if not candidates and not self.bases:  # a site without DID document: match by path suffix
            parts = PurePosixPath(urlsplit(url).path).parts[1:]
            candidates = ["/".join(parts[i:]) + ("/" if urlsplit(url).path.endswith("/") else "")
                          for i in range(len(parts))]
        for rel in candidates:
            rel = rel.split("#")[0].split("?")[0]
            if rel == "" or rel.endswith("/"):
                rel += "index.html"
            path = (self.site / rel).resolve()
            if path.is_relative_to(self.site) and path.is_file():
                return path.read_bytes()
        if self.bases and candidates:
            raise FetchError(f"{url} is not in the site folder {self.site}")
        return None

    def get(self, url: str) -> bytes:
        local = self._from_site(url)
        if local is not None:
            return local
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
            raise FetchError(f"refusing to fetch {url}: only https:// URLs are fetched")
        if not self.network:
            raise FetchError(f"{url} is not in the site folder and fetching is off")
        request = urllib.request.Request(url, headers={
            "Accept": "application/ld+json, application/json, text/plain, image/png, image/svg+xml",
            "User-Agent": "badgekiln-verify"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (scheme checked)
                data = response.read(MAX_FETCH + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise FetchError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from None
        if len(data) > MAX_FETCH:
            raise FetchError(f"{url} is larger than {MAX_FETCH // 1024 // 1024} MiB")
        return data

    def json(self, url: str) -> Any:
        data = self.get(url)
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise FetchError(f"{url} did not return JSON") from None


def read_input(thing: str, fetcher: Fetcher) -> bytes:
    if thing.startswith(("https://", "http://")):
        return fetcher.get(thing)
    if thing.count(".") == 2 and len(thing) > 100 and not any(c in thing for c in " /\\"):
        return thing.strip().encode("ascii", "replace")  # a compact JWT given on the command line
    path = Path(thing)
    if path.is_file():
        if path.stat().st_size > MAX_FETCH:
            raise FetchError(f"{thing} is larger than {MAX_FETCH // 1024 // 1024} MiB")
        return path.read_bytes()
    raise FetchError(f"{thing}: no such file (give a file, an https:// URL or a JWT)")
