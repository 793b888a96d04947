"""Joining the shards of a site built by several machines (a CI matrix) into one site.

`badgekiln build --shard I/N` publishes the site's shared files and the awards of shard I
(model/routes.shard_of: by bucket, so no folder is split). Every shard is built from the same
content and ledger (the ledger is minted before the matrix and shards never write it), so the
shared files are the same in every shard: merging checks that they are, byte for byte, that
each award folder comes from the shard it belongs to, and that all N shards of one ledger are
there. The result is the site a single build would have made, written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..artifacts import Artifact, Reused
from ..model.routes import shard_of_path
from .writer import MARKER

SHARD_FILE = ".badgekiln-shard"  # in a shard's output only: which shard, of which ledger


class MergeError(Exception):
    """The folders given are not the complete, consistent shards of one build."""


def shard_record(index: int, count: int, ledger: bytes, host: str) -> bytes:
    return json.dumps({"format": 1, "shard": [index, count], "host": host,
                       "ledger": hashlib.sha256(ledger).hexdigest()}, sort_keys=True).encode("utf-8") + b"\n"


def read_shards(folders: list[Path]) -> tuple[int, str]:
    """Check the folders are all the shards of one build; returns (count, host profile name)."""
    seen: dict[int, Path] = {}
    ledgers, counts, host = set(), set(), "none"
    for folder in folders:
        try:
            record = json.loads((folder / SHARD_FILE).read_text(encoding="utf-8"))
            index, count = record["shard"]
            if not (isinstance(index, int) and isinstance(count, int) and 0 <= index < count):
                raise ValueError(record["shard"])
        except (OSError, ValueError, KeyError, TypeError):
            raise MergeError(f"{folder} is not a shard (no readable {SHARD_FILE}: build it with --shard I/N)") from None
        if index in seen:
            raise MergeError(f"{folder} and {seen[index]} are both shard {index + 1}/{count}")
        seen[index] = folder
        counts.add(count)
        ledgers.add(record["ledger"])
        host = record.get("host", "none")
    if len(counts) != 1:
        raise MergeError(f"the shards were built for different counts ({', '.join(map(str, sorted(counts)))})")
    if len(ledgers) != 1:
        raise MergeError("the shards were built from different ledgers: build every shard from the same commit")
    count = counts.pop()
    missing = sorted(set(range(count)) - set(seen))
    if missing:
        raise MergeError(f"shard(s) {', '.join(f'{i + 1}/{count}' for i in missing)} missing")
    return count, host


def merged_artifacts(folders: list[Path], count: int) -> Iterator[Artifact]:
    """Every file of the merged site, linked from the shard it comes from (shared files: the first)."""
    shared: dict[str, Path] = {}  # a few hundred files, whatever the number of awards
    copies: dict[str, int] = {}
    for index, folder in enumerate(sorted(folders, key=lambda f: json.loads((f / SHARD_FILE).read_text())["shard"])):
        for root, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                source = Path(root) / name
                path = source.relative_to(folder).as_posix()
                if path in (SHARD_FILE, MARKER):
                    continue
                owner = shard_of_path(path, count)
                if owner is None:
                    copies[path] = copies.get(path, 0) + 1
                    first = shared.get(path)
                    if first is not None:
                        if first.read_bytes() != source.read_bytes():
                            raise MergeError(f"{path} differs between the shards ({first.parent} and {folder}): "
                                             "build every shard from the same commit")
                        continue
                    shared[path] = source
                elif owner != index:
                    raise MergeError(f"{folder} holds {path}, which belongs to shard {owner + 1}/{count}")
                yield Artifact(path, Reused(str(source)), "award" if owner is not None else "")
    partial = sorted(path for path, n in copies.items() if n != count)
    if partial:  # every shard publishes every shared file: one that lacks some is not the same build
        raise MergeError(f"{partial[0]} is in {copies[partial[0]]} of the {count} shards")
