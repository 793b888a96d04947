"""Static-host profiles: what each host allows, and how a built site measures against it.

A provider names its host in site.yaml (`host: github-pages`). Every build measures the site
as it streams to disk (files, bytes, entries of the fullest folder, the largest file) and stops
before the new site is published when a limit would be broken, saying by how much. The limits
are the hosts' published ones (shared/spec/HOSTS.md, checked 2026-12-01).
"""
from __future__ import annotations

from dataclasses import dataclass, field

GB = 1024 ** 3
MiB = 1024 ** 2


@dataclass(frozen=True)
class HostProfile:
    name: str
    label: str
    max_files: int | None = None  # files in the whole site
    max_entries: int | None = None  # files and folders in the whole site (GitLab counts both)
    max_bytes: int | None = None  # the whole published site
    max_folder_entries: int | None = None  # entries in one folder
    max_file_bytes: int | None = None
    headers_file: bool = False  # reads `_headers` (Netlify, Cloudflare Pages)
    recipe: str = ""  # README section with the deploy recipe


PROFILES: dict[str, HostProfile] = {p.name: p for p in (
    HostProfile("github-pages", "GitHub Pages", max_bytes=GB, max_file_bytes=100 * MiB,
                recipe="GitHub Pages"),
    HostProfile("cloudflare-pages", "Cloudflare Pages (free)", max_files=20_000, max_file_bytes=25 * MiB,
                headers_file=True, recipe="Netlify or Cloudflare Pages"),
    HostProfile("cloudflare-pages-paid", "Cloudflare Pages (paid)", max_files=100_000, max_file_bytes=25 * MiB,
                headers_file=True, recipe="Netlify or Cloudflare Pages"),
    HostProfile("netlify", "Netlify", max_folder_entries=54_000, headers_file=True,
                recipe="Netlify or Cloudflare Pages"),
    HostProfile("gitlab-pages", "GitLab Pages (gitlab.com)", max_entries=200_000, max_bytes=GB,
                recipe="GitLab Pages"),
    HostProfile("s3", "S3 + CloudFront", recipe="S3 + CloudFront, nginx, any web server"),
    HostProfile("none", "no host profile"),
)}

# Folders whose JSON other sites' verifiers read: served with CORS on hosts that take `_headers`.
CORS_FOLDERS = ("a", "badges", "issuers", "status", "endorsements")


def headers_file(did_document: str) -> bytes:
    """`_headers` for Netlify and Cloudflare Pages: other sites' verifiers may read our JSON.

    Both hosts already type `.json` as application/json; what they do not send by default is
    `Access-Control-Allow-Origin`, without which a verifier on another origin cannot fetch it.
    """
    lines = ["# Written by Badgekiln: lets verifiers on other sites read the badge JSON."]
    for pattern in [f"/{folder}/*" for folder in CORS_FOLDERS] + [f"/{did_document}"]:
        lines += [pattern, "  Access-Control-Allow-Origin: *", ""]
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


class HostLimitError(Exception):
    """The site would break a limit of its host; nothing was published."""

    def __init__(self, host: HostProfile, breaches: list[str]):
        super().__init__(f"the site would break {host.label}'s limits: {'; '.join(breaches)}")
        self.host, self.breaches = host, breaches


@dataclass
class SiteSize:
    """A site measured file by file as it is written: what the host limits are checked against.

    Every check is O(1) per file (the fullest folder is tracked as files arrive), so a
    million-file site is measured as cheaply as it is written.
    """

    files: int = 0
    bytes: int = 0
    award_files: int = 0
    award_bytes: int = 0
    largest: tuple[int, str] = (0, "")
    fullest: tuple[str, int] = ("", 0)  # folder and its entries (files and subfolders)
    # each folder seen (root: "") -> its entries so far; one table, where a set of the folders beside
    # it took 30 bytes more for each of 10^5 award folders
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def folders(self) -> int:
        return len(self.entries) - ("" in self.entries)

    def add(self, path: str, size: int, *, of_award: bool = False) -> None:
        self.files += 1
        self.bytes += size
        if of_award:
            self.award_files += 1
            self.award_bytes += size
        if size > self.largest[0]:
            self.largest = (size, path)
        folder = path.rpartition("/")[0]  # os.path.dirname of a site path, without its generality
        self._enter(folder)
        self._count(folder)

    def _enter(self, folder: str) -> None:
        """Know `folder`, counting a new one once in its parent (and a new parent in its own)."""
        if folder and folder not in self.entries:
            self.entries[folder] = 0
            parent = folder.rpartition("/")[0]
            self._enter(parent)
            self._count(parent)

    def _count(self, folder: str) -> None:
        entries = self.entries[folder] = self.entries.get(folder, 0) + 1
        if entries > self.fullest[1]:
            self.fullest = (folder or ".", entries)

    def breaches(self, host: HostProfile) -> list[str]:
        """Each limit of `host` this site breaks, with the numbers."""
        found = []
        if host.max_files is not None and self.files > host.max_files:
            found.append(f"{self.files:,} files, over the limit of {host.max_files:,}")
        entries = self.files + self.folders
        if host.max_entries is not None and entries > host.max_entries:
            found.append(f"{entries:,} files and folders, over the limit of {host.max_entries:,}")
        if host.max_bytes is not None and self.bytes > host.max_bytes:
            found.append(f"{format_size(self.bytes)}, over the limit of {format_size(host.max_bytes)}")
        folder, count = self.fullest
        if host.max_folder_entries is not None and count > host.max_folder_entries:
            found.append(f"{count:,} entries in {folder}/, over the limit of {host.max_folder_entries:,} per folder")
        if host.max_file_bytes is not None and self.largest[0] > host.max_file_bytes:
            found.append(f"{self.largest[1]} is {format_size(self.largest[0])}, over the limit of "
                         f"{format_size(host.max_file_bytes)} per file")
        return found

    def report(self, host: HostProfile, awards: int) -> str:
        """One paragraph: the site against the host's limits, and how many more awards fit."""
        award_files, award_bytes = self.award_files, self.award_bytes
        folder, count = self.fullest
        lines = [f"Site size: {self.files:,} files, {format_size(self.bytes)}; fullest folder {folder}/ "
                 f"({count:,} entries); largest file {self.largest[1]} ({format_size(self.largest[0])})."]
        if awards:
            lines.append(f"Per award: {award_files / awards:.1f} files, {format_size(award_bytes / awards)}.")
        room = self.room(host, awards)
        if host.name == "none":
            lines.append("No host profile: set `host:` in site.yaml to check the site against your host's limits.")
        elif room is None:
            lines.append(f"{host.label}: no limit applies to this site's growth.")
        else:
            lines.append(f"{host.label}: room for about {room:,} more award(s).")
        return "\n".join(lines)

    def room(self, host: HostProfile, awards: int) -> int | None:
        """How many more awards fit before the first limit, at this site's average per award."""
        if not awards:
            return None
        per_files, per_bytes = self.award_files / awards, max(self.award_bytes / awards, 1)
        per_entries = per_files + 1  # each award has a folder of its own
        fits = []
        if host.max_files is not None:
            fits.append((host.max_files - self.files) / per_files)
        if host.max_entries is not None:
            fits.append((host.max_entries - self.files - self.folders) / per_entries)
        if host.max_bytes is not None:
            fits.append((host.max_bytes - self.bytes) / per_bytes)
        return max(0, int(min(fits))) if fits else None


def format_size(n: float) -> str:
    for unit, scale in (("GB", GB), ("MB", MiB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"
