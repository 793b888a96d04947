"""Getting the documents a badge points at: from a built site folder first, else over HTTPS.

Only https:// URLs are fetched (http:// on loopback, for local previews), at most 8 MiB each.
"""
from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..crypto import didweb

MAX_FETCH = 8 * 1024 * 1024


class FetchError(Exception):
    """A document could not be obtained (missing file, network failure, refused URL).

    `unreachable` is True when nobody answered (no network, DNS, timeout, a server error):
    then nothing is known about the document, which is not the same as it being wrong.
    """

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Response:
    """One HTTP answer, whatever its status."""

    url: str
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name, "") if self.headers is not None else ""


def _unanswered(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def check_fetchable(url: str) -> None:
    """Only https:// is fetched, and http:// on loopback (local previews and tests)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise FetchError(f"refusing to fetch {url}: only https:// URLs are fetched")


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 20,
             limit: int = MAX_FETCH) -> Response:
    """GET `url`; any HTTP status is returned; FetchError when no answer came or the body is too large."""
    check_fetchable(url)
    request = urllib.request.Request(url, headers={"User-Agent": "badgekiln", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            status, answer_headers, url_now = response.status, response.headers, response.url
            data = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        status, answer_headers, url_now = exc.code, exc.headers, exc.url or url
        try:
            data = exc.read(limit + 1)
        except OSError:
            data = b""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}", unreachable=True) from None
    if len(data) > limit:
        raise FetchError(f"{url} is larger than {limit // 1024 // 1024} MiB")
    return Response(url_now, status, answer_headers, data)


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
        check_fetchable(url)
        if not self.network:
            raise FetchError(f"{url} is not in the site folder and fetching is off")
        response = http_get(url, {"Accept": "application/ld+json, application/json, text/plain, image/png, "
                                            "image/svg+xml", "User-Agent": "badgekiln-verify"})
        if response.status != 200:
            raise FetchError(f"cannot fetch {url}: HTTP {response.status}", unreachable=_unanswered(response.status))
        return response.body

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
