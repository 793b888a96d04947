"""Sharded builds (a CI matrix): `build --shard I/N` on N machines, then `merge`.

The merged site must be byte for byte the site one build makes from the same commit, and
merge must refuse anything that is not all the shards of one build, leaving the output as it was.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import badgekiln
import pytest
import testkeys
from badgekiln.model.routes import shard_of, shard_of_path
from badgekiln.pipeline.merge import SHARD_DIR
from conftest import FIXED_NOW, REPO, build, build_result, copy_project, ledger_files, tree

SHARDS = 3


def shard(project: Path, out: Path, index: int, count: int = SHARDS, **options) -> badgekiln.BuildResult:
    result = build_result(project, out, shard=(index, count), keyring=testkeys.keyring(), **options)
    assert result.ok, result.checked.diagnostics
    return result


@pytest.fixture(scope="module")
def minted(tmp_path_factory) -> tuple[Path, Path]:
    """The signed example with its ledger minted (as committed before the matrix) and one full build of it."""
    project = copy_project("example", tmp_path_factory.mktemp("shards"))
    first = build(project, keyring=testkeys.keyring())
    assert not first.report.has_errors()
    single = project.parent / "single"
    again = build_result(project, single, keyring=testkeys.keyring(), frozen=True)
    assert again.ok
    return project, single


@pytest.fixture
def shards(minted, tmp_path: Path) -> list[Path]:
    project, _ = minted
    folders = [tmp_path / f"shard-{i + 1}" for i in range(SHARDS)]
    for index, folder in enumerate(folders):
        shard(project, folder, index)
    return folders


def test_a_shard_rebuilt_in_place_keeps_its_unchanged_awards_and_equals_a_fresh_shard(tmp_path: Path):
    """A runner that keeps its output folder (a cache) rebuilds a shard incrementally: the awards
    it keeps count in its record like the ones it makes, so it is the shard a clean runner makes."""
    project = copy_project("example", tmp_path)
    build(project, keyring=testkeys.keyring())  # the ledger, minted before the matrix
    out = tmp_path / "runner"
    shard(project, out, 0, incremental=True)
    lost = next(p for p in out.glob("a/*/*/credential.json"))
    lost.unlink()  # a file lost from the runner's cache: its award is made again, the others kept
    again = shard(project, out, 0, incremental=True)
    assert again.reused == len([a for a in again.checked.model.awards if shard_of(a.slug, SHARDS) == 0]) - 1
    shard(project, tmp_path / "clean", 0)
    built, fresh = tree(out), tree(tmp_path / "clean")
    assert sorted(built) == sorted(fresh)
    assert [p for p in built if built[p] != fresh[p]] == []


def test_merged_shards_are_the_single_build_byte_for_byte(minted, shards, tmp_path: Path):
    project, single = minted
    awards = [tree(folder) for folder in shards]
    assert all(len([p for p in files if p.startswith("a/")]) > 0 for files in awards)  # work really was split
    merged = badgekiln.merge(project, list(reversed(shards)), tmp_path / "merged")
    built, expected = tree(tmp_path / "merged"), tree(single)
    assert sorted(built) == sorted(expected)
    assert [p for p in built if built[p] != expected[p]] == []
    assert merged.files == len([p for p in expected if p != ".badgekiln-site"])


def one_folder(shards: list[Path], into: Path) -> Path:
    """What `download-artifact` with `merge-multiple: true` makes of the shards' artifacts."""
    for folder in shards:
        shutil.copytree(folder, into, dirs_exist_ok=True)
    return into


def test_shards_unpacked_into_one_folder_merge_to_the_single_build(minted, shards, tmp_path: Path):
    project, single = minted
    together = one_folder(shards, tmp_path / "together")
    assert sorted(p.name for p in (together / SHARD_DIR).iterdir()) == ["1-of-3.json", "2-of-3.json", "3-of-3.json"]
    badgekiln.merge(project, [together], tmp_path / "merged")
    assert tree(tmp_path / "merged") == tree(single)


def test_merge_refuses_a_lost_award_file_or_a_changed_shared_file(minted, shards, tmp_path: Path):
    project, _ = minted
    together = one_folder(shards, tmp_path / "together")
    lost = next(p for p in sorted(tree(together)) if p.startswith("a/"))
    (together / lost).unlink()
    with pytest.raises(badgekiln.MergeError, match="award files, .* are in"):
        badgekiln.merge(project, [together], tmp_path / "out")
    (shards[2] / "index.html").write_text("<p>changed by hand</p>")
    with pytest.raises(badgekiln.MergeError, match="index.html is not the file the shards were built with"):
        badgekiln.merge(project, shards, tmp_path / "out")
    (shards[2] / "index.html").unlink()
    (shards[1] / "stray.txt").write_text("left over")
    with pytest.raises(badgekiln.MergeError, match="stray.txt is not a file of the shards' build"):
        badgekiln.merge(project, shards, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_each_award_is_published_by_exactly_one_shard(minted, shards):
    owners = Counter()
    for index, folder in enumerate(shards):
        for path in tree(folder):
            owner = shard_of_path(path, SHARDS)
            assert owner in (None, index), path
            if owner is not None:
                owners[path] += 1
    assert owners and set(owners.values()) == {1}
    # a bucket (a/<xx>/) is never split: every slug in it has the same shard
    slugs = [f"{a}{b}rest" for a in "ab0" for b in "xy9"]
    for slug in slugs:
        assert len({shard_of(slug[:2] + other, 7) for other in ("1", "zz", "abcdef")}) == 1


def test_merge_refuses_a_missing_or_repeated_shard_and_leaves_the_output(minted, shards, tmp_path: Path):
    project, single = minted
    out = tmp_path / "out"
    shutil.copytree(single, out)
    before = tree(out)
    with pytest.raises(badgekiln.MergeError, match="2/3 missing"):
        badgekiln.merge(project, [shards[0], shards[2]], out)
    with pytest.raises(badgekiln.MergeError, match="both shard 1/3"):
        badgekiln.merge(project, [shards[0], shards[0], shards[1], shards[2]], out)
    with pytest.raises(badgekiln.MergeError, match="is not a shard"):
        badgekiln.merge(project, [*shards, single], out)
    assert tree(out) == before


def test_merge_refuses_shards_of_different_builds(minted, shards, tmp_path: Path):
    project, single = minted
    out = tmp_path / "out"
    changed = tmp_path / "changed"
    shutil.copytree(project / "content", changed / "content")
    (changed / "content/site.yaml").write_text((changed / "content/site.yaml").read_text()
                                               .replace("title: Northwind", "title: Renamed Northwind", 1))
    other = tmp_path / "other-2"
    shard(changed, other, 1)
    with pytest.raises(badgekiln.MergeError, match="differs between the shards"):
        badgekiln.merge(project, [shards[0], other, shards[2]], out)

    four = tmp_path / "four-2"
    shard(project, four, 1, count=4)
    with pytest.raises(badgekiln.MergeError, match="different counts"):
        badgekiln.merge(project, [shards[0], four, shards[2]], out)
    assert not out.exists()


def test_merge_refuses_a_shard_with_files_of_another(minted, shards, tmp_path: Path):
    project, _ = minted
    theirs = next(p for p in sorted(tree(shards[1])) if shard_of_path(p, SHARDS) == 1)
    (shards[0] / theirs).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shards[1] / theirs, shards[0] / theirs)
    with pytest.raises(badgekiln.MergeError, match="belongs to shard 2/3"):
        badgekiln.merge(project, shards, tmp_path / "out")


def test_merge_refuses_shards_from_different_ledgers(minted, shards, tmp_path: Path):
    project, _ = minted
    record_file = shards[1] / SHARD_DIR / "2-of-3.json"
    record = json.loads(record_file.read_text())
    record["ledger"] = "0" * 64
    record_file.write_text(json.dumps(record))
    with pytest.raises(badgekiln.MergeError, match="different ledgers"):
        badgekiln.merge(project, shards, tmp_path / "out")


def test_a_shard_never_mints(tmp_path: Path):
    """Shards run in parallel from one commit: a new award must be minted (and committed) first."""
    project = copy_project("example", tmp_path)
    build(project, keyring=testkeys.keyring())
    roster = project / "content/awards/2026-food-hygiene.yaml"
    roster.write_text(roster.read_text() + "  - name: New Person\n    email: new.person@example.com\n")
    ledger_before = ledger_files(project)
    result = build_result(project, tmp_path / "s1", shard=(0, 2), keyring=testkeys.keyring())
    assert not result.ok
    assert [d.code for d in result.checked.diagnostics if d.severity == "error"] == ["E304"]
    assert "--shard" in result.checked.diagnostics[0].message
    assert ledger_files(project) == ledger_before
    assert not (tmp_path / "s1").exists()


def test_shards_and_merge_from_the_command_line(minted, tmp_path: Path):
    project, single = minted
    work = tmp_path / "project"
    shutil.copytree(project / "content", work / "content")
    env = {**os.environ, "BADGEKILN_SIGNING_KEYS": testkeys.env_value(),
           "SOURCE_DATE_EPOCH": str(int(FIXED_NOW.timestamp()))}
    cli = [sys.executable, str(REPO / "build.py"), "--project", str(work)]
    for index in (1, 2):
        done = subprocess.run([*cli, "build", "--shard", f"{index}/2", "--out", str(tmp_path / f"s{index}")],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
    merged = subprocess.run([*cli, "merge", str(tmp_path / "s1"), str(tmp_path / "s2")], capture_output=True,
                            text=True, env=env, timeout=300)
    assert merged.returncode == 0, merged.stderr
    assert "Merged 2 shards" in merged.stdout
    assert tree(work / "_site") == tree(single)

    runner = tmp_path / "runner"  # the matrix's merge job: the shards' artifacts, no checkout of content
    runner.mkdir()
    merged = subprocess.run([*cli[:2], "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", "site"],
                            capture_output=True, text=True, env=env, timeout=300, cwd=runner)
    assert merged.returncode == 0, merged.stderr
    assert tree(runner / "site") == tree(single)

    bad = subprocess.run([*cli, "build", "--shard", "3/2"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "write I/N" in bad.stderr
    lone = subprocess.run([*cli, "merge", str(tmp_path / "s1"), "--out", str(tmp_path / "m")], capture_output=True,
                          text=True, env=env, timeout=60)
    assert lone.returncode != 0 and "2/2 missing" in lone.stderr
