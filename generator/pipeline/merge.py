"""Joining the shards of a site built by several machines (a CI matrix) into one site.

`badgekiln build --shard I/N` publishes the site's shared files and the awards of shard I
(model/routes.shard_of: by bucket, so no folder is split). Every shard is built from the same
content and ledger (the ledger is minted before the matrix and shards never write it), so the
shared files are the same in every shard. Each shard writes a record of itself
(`.badgekiln-shard/I-of-N.json`: its ledger, the digest of every shared file, how many award
files it published), so shards can be merged from separate folders or from one folder they
were all unpacked into (GitHub's `download-artifact` with `merge-multiple`): merge checks that
all N records are there and agree, that every shared file is the one they recorded and every
award file is there, and writes the site a single build would have made, atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..artifacts import Artifact, Kept, Reused
from ..model.routes import shard_of_path
from .writer import MARKER

SHARD_DIR = ".badgekiln-shard"  # in a shard's output only: the records of the shards it holds


class MergeError(Exception):
    """The folders given are not the complete, consistent shards of one build."""


class ShardRecorder:
    """Watches a shard's files go by and writes its record last."""

    def __init__(self, index: int, count: int, ledger_digest: str, host: str):
        self.index, self.count, self.host = index, count, host
        self.ledger = ledger_digest
        self.shared: dict[str, str] = {}
        self.award_files = 0

    def observe(self, artifact: Artifact) -> Artifact:
        if shard_of_path(artifact.path, self.count) is None:
            data = artifact.data
            self.shared[artifact.path] = _sha256(Path(data.source).read_bytes() if isinstance(data, Reused) else data)
        else:
            self.award_files += artifact.data.files if isinstance(artifact.data, Kept) else 1
        return artifact

    def artifact(self) -> Artifact:
        record = {"format": 1, "shard": [self.index, self.count], "host": self.host, "ledger": self.ledger,
                  "shared": dict(sorted(self.shared.items())), "award_files": self.award_files}
        return Artifact(f"{SHARD_DIR}/{self.index + 1}-of-{self.count}.json",
                        json.dumps(record, indent=1, sort_keys=True).encode("utf-8") + b"\n")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Shards:
    """The records found in the folders given to merge, checked to be all the shards of one build."""

    def __init__(self, folders: list[Path]):
        self.records: dict[int, dict] = {}
        self.folder_of: dict[int, Path] = {}
        for folder in folders:
            found = sorted((folder / SHARD_DIR).glob("*-of-*.json")) if (folder / SHARD_DIR).is_dir() else []
            if not found:
                raise MergeError(f"{folder} is not a shard (no {SHARD_DIR}/ record: build it with --shard I/N)")
            for path in found:
                record = _read_record(path)
                index, count = record["shard"]
                if index in self.records:
                    raise MergeError(f"{folder} and {self.folder_of[index]} are both shard {index + 1}/{count}")
                self.records[index], self.folder_of[index] = record, folder
        first = next(iter(self.records.values()))
        counts = {r["shard"][1] for r in self.records.values()}
        if len(counts) != 1:
            raise MergeError(f"the shards were built for different counts ({', '.join(map(str, sorted(counts)))})")
        self.count, self.host = counts.pop(), first["host"]
        if len({r["ledger"] for r in self.records.values()}) != 1:
            raise MergeError("the shards were built from different ledgers: build every shard from the same commit")
        for record in self.records.values():
            if record["shared"] != first["shared"]:
                path = next(p for p in sorted(set(record["shared"]) | set(first["shared"]))
                            if record["shared"].get(p) != first["shared"].get(p))
                raise MergeError(f"{path} differs between the shards: build every shard from the same commit")
        self.shared: dict[str, str] = first["shared"]
        missing = sorted(set(range(self.count)) - set(self.records))
        if missing:
            raise MergeError(f"shard(s) {', '.join(f'{i + 1}/{self.count}' for i in missing)} missing")

    def artifacts(self) -> Iterator[Artifact]:
        """Every file of the merged site, linked from the folder it is in; each checked against the records."""
        award_files: Counter[int] = Counter()
        yielded: set[str] = set()  # shared files (a few hundred, whatever the number of awards)
        for folder in sorted(set(self.folder_of.values())):
            held = {index for index, f in self.folder_of.items() if f == folder}
            for root, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not (root == str(folder) and d == SHARD_DIR))
                for name in sorted(filenames):
                    source = Path(root) / name
                    path = source.relative_to(folder).as_posix()
                    if path == MARKER:
                        continue
                    owner = shard_of_path(path, self.count)
                    if owner is None:
                        if path not in self.shared:
                            raise MergeError(f"{folder / path} is not a file of the shards' build (not in their "
                                             "records): remove it, or build the shards again")
                        if _sha256(source.read_bytes()) != self.shared[path]:
                            raise MergeError(f"{folder / path} is not the file the shards were built with (it "
                                             "was changed after the build): build the shards again")
                        if path in yielded:
                            continue
                        yielded.add(path)
                    elif owner not in held:
                        raise MergeError(f"{folder} holds {path}, which belongs to shard {owner + 1}/{self.count}")
                    else:
                        award_files[owner] += 1
                    yield Artifact(path, Reused(str(source), source.stat().st_size), "" if owner is None else "award")
        absent = sorted(set(self.shared) - yielded)
        if absent:
            raise MergeError(f"{absent[0]} (and {len(absent) - 1} more shared file(s)) missing from the shards"
                             if len(absent) > 1 else f"{absent[0]} is missing from the shards")
        for index, record in sorted(self.records.items()):
            if award_files[index] != record["award_files"]:
                raise MergeError(f"shard {index + 1}/{self.count} published {record['award_files']} award files, "
                                 f"{award_files[index]} are in {self.folder_of[index]}: upload or download it again")


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        index, count = record["shard"]
        if not (type(index) is int and type(count) is int and 0 <= index < count and isinstance(record["ledger"], str)
                and isinstance(record["shared"], dict) and type(record["award_files"]) is int):
            raise ValueError
        return record
    except (OSError, ValueError, KeyError, TypeError):
        raise MergeError(f"{path} is not a shard record Badgekiln can read: build the shard again") from None
