"""Output files as data: every stage produces `Artifact`s, only the writer puts them on disk."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Reused:
    """A file taken unchanged from the previous site (pipeline/site_state.py): left in place, not rewritten."""

    source: str
    size: int  # as recorded by the build that wrote it (and checked against the file since)


@dataclass(frozen=True)
class Kept:
    """All files of an unchanged award, left in place as the previous site has them
    (pipeline/site_state.py): one item for all of them, so a kept award costs the writer one row."""

    files: int  # how many (the state's rows of its owner, each checked against its file)


class Artifact(NamedTuple):
    """One output file: its path inside the site (checked by routes) and its bytes."""

    path: str
    data: bytes | Reused | Kept  # Kept: `path` is one of the award's files (its page)
    owner: str = ""  # the input digest of the award whose file it is; "" for shared files (SHARED+digest: reusable)


SHARED = "shared:"  # owner prefix of a shared file that is kept when its inputs are unchanged
