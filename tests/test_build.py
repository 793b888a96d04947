"""End-to-end builds of real fixture projects: the DESIGN.md invariants as tests."""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import badgekiln
import pytest
import testkeys
from badgekiln.artifacts import Artifact
from badgekiln.pipeline.assemble import all_artifacts
from badgekiln.pipeline.check import check_project
from badgekiln.pipeline.writer import MARKER, WriteError, write_site
from badgekiln.project_lock import LOCK_FILE
from conftest import REPO, SeededMinter, award_dir, build, copy_project, ledger_awards, ledger_files, tree


def _emails_in_content(project: Path) -> set[bytes]:
    found = set()
    pattern = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    for path in (project / "content").rglob("*"):
        if path.suffix in (".yaml", ".csv") and "issuers" not in path.parts and path.name != "site.yaml":
            found |= {m.strip().lower() for m in pattern.findall(path.read_bytes())}
    return found


@pytest.mark.parametrize("outputs", ["minimal", "full"])
def test_example_builds_every_url_family(example: Path, outputs: str):
    """Per award one folder, a/<2 characters>/<slug>/: its page and JSON, and with `outputs: full`
    the baked images (an SVG only for SVG art). Badge art is published once per badge class."""
    site_yaml = example / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + f"outputs: {outputs}\n")
    prepared = build(example)
    assert prepared.model is not None, prepared.diagnostics
    site = example / "_site"
    files = tree(site)
    for award in prepared.model.awards:
        folder = award_dir(award.slug)
        assert folder == f"a/{award.slug[:2]}/{award.slug}"
        expected = {"assertion.json", "index.html"}
        if outputs == "full":
            expected |= {"badge.png"} | ({"badge.svg"} if prepared.model.badge(award.badge).image.format == "svg"
                                        else set())
        assert {p[len(folder) + 1:] for p in files if p.startswith(folder + "/")} == expected
    for badge in prepared.model.badges:
        assert f"badges/{badge.slug}.json" in files and f"badges/{badge.slug}/index.html" in files
        assert f"badges/{badge.slug}.{badge.image.format}" in files
    assert {"index.html", "404.html", ".nojekyll", MARKER, "issuers/northwind.json", "assets/strings.js"} <= set(files)


def _readable_forms(path: str, data: bytes) -> list[bytes]:
    """The bytes plus anything encoded inside them that a consumer would decode (JWS payloads)."""
    forms = [data]
    if path.endswith((".jwt", ".jws")):
        for segment in data.split(b".")[:2]:
            forms.append(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
    return forms


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_no_recipient_email_anywhere_in_output(example: Path, signed: bool):
    emails = _emails_in_content(example)
    assert len(emails) >= 30  # the example really has a roster to leak
    prepared = build(example, keyring=testkeys.keyring() if signed else None)
    files = tree(example / "_site")
    if signed:
        assert any(p.endswith("/credential.jwt") for p in files), "the signed example must carry every form"
        assert prepared.model is not None
    for path, data in files.items():
        for form in _readable_forms(path, data):
            lowered = form.lower()
            for email in emails:
                assert email not in lowered, f"{email!r} leaked into {path}"
    ledger_text = b"".join(ledger_files(example).values()).lower()
    assert not any(e in ledger_text for e in emails), "the ledger must hold no plaintext email"


def test_two_builds_are_byte_identical(tmp_path: Path):
    """Same content and ledger give the same bytes, whatever the process hash seed."""
    first = copy_project("example", tmp_path / "one")
    build(first)
    second = tmp_path / "two" / "example"
    shutil.copytree(first / "content", second / "content")  # same ledger
    env = {**os.environ, "PYTHONHASHSEED": "12345", "SOURCE_DATE_EPOCH": "1800000000"}
    subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(second)], env=env, check=True,
                   capture_output=True)
    assert tree(first / "_site") == tree(second / "_site")


def test_second_build_changes_nothing(example: Path):
    build(example)
    ledger_bytes = ledger_files(example)
    before = tree(example / "_site")
    prepared = build(example, minter=SeededMinter(seed=999))  # a different minter must not be asked
    assert not prepared.ledger_changed
    assert ledger_files(example) == ledger_bytes
    assert tree(example / "_site") == before


def test_links_survive_new_awards_and_moved_files(example: Path):
    first = build(example)
    slugs = {a.key: a.slug for a in first.model.awards}
    awards_dir = example / "content" / "awards"
    food = awards_dir / "2026-food-hygiene.yaml"
    food.write_text(food.read_text() + "  - name: New Person\n    email: New.Person@Example.com \n")
    food.rename(awards_dir / "renamed-food-hygiene.yaml")
    second = build(example, minter=SeededMinter(seed=3))
    after = {a.key: a.slug for a in second.model.awards}
    assert {k: after[k] for k in slugs} == slugs
    assert len(after) == len(slugs) + 1


def test_removing_a_published_award_is_an_error(example: Path):
    build(example)
    before = tree(example / "_site")
    (example / "content/awards/2026-food-hygiene.yaml").unlink()
    prepared = build(example)
    assert prepared.model is None
    assert [d.code for d in prepared.diagnostics] == ["E303"] * 8
    assert tree(example / "_site") == before


def test_frozen_accepts_an_up_to_date_ledger(example: Path):
    build(example, keyring=testkeys.keyring())
    prepared = build(example, frozen=True, keyring=testkeys.keyring())
    assert prepared.model is not None and not prepared.diagnostics


def test_expiry_policy_change_does_not_touch_issued_awards(example: Path):
    build(example)
    award = next(a for a in ledger_awards(example).values()
                 if a["badge"] == "fire-warden")
    badge_file = example / "content/badges/fire-warden.yaml"
    badge_file.write_text(badge_file.read_text().replace("valid_for: 1y", "valid_for: 5y"))
    build(example)
    site = example / "_site"
    assertion = json.loads((site / f"{award_dir(award['slug'])}/assertion.json").read_text())
    assert assertion["expires"] == award["expires"]


def test_failed_build_leaves_previous_site_untouched(example: Path):
    build(example)
    before = tree(example / "_site")
    (example / "templates").mkdir()
    (example / "templates/award.html").write_text("{% extends 'base.html' %}{% block main %}{{ nope }}{% endblock %}")
    prepared = build(example)
    assert [d.code for d in prepared.diagnostics][:1] == ["E601"]
    assert tree(example / "_site") == before
    leftovers = [p.name for p in example.iterdir() if p.name.startswith(".")
                 and p.name not in (".badgekiln-cache", LOCK_FILE)]
    assert leftovers == [], "staging folders must be cleaned up"


def test_crash_half_way_through_writing_keeps_old_site(example: Path):
    build(example)
    before = tree(example / "_site")
    checked = check_project(example, badgekiln.BuildOptions(minter=SeededMinter()))

    def exploding():
        for index, item in enumerate(all_artifacts(checked)):
            if index == 25:
                raise OSError("disk full")
            yield item

    with pytest.raises(OSError):
        write_site(example / "_site", exploding(), example)
    assert tree(example / "_site") == before
    assert [p.name for p in example.iterdir() if p.name.startswith(".")
            and p.name not in (".badgekiln-cache", LOCK_FILE)] == []


def test_writer_refuses_folders_it_does_not_own(example: Path, tmp_path: Path):
    stranger = tmp_path / "important"
    stranger.mkdir()
    (stranger / "thesis.tex").write_text("years of work")
    with pytest.raises(WriteError, match="not made by Badgekiln"):
        write_site(stranger, iter([Artifact("index.html", b"x")]), example)
    assert (stranger / "thesis.tex").read_text() == "years of work"
    for bad in (example, example / "content", example.parent):
        with pytest.raises(WriteError):
            write_site(bad, iter([Artifact("index.html", b"x")]), example)
    with pytest.raises(ValueError, match="escapes"):
        write_site(tmp_path / "out", iter([Artifact("../evil.html", b"x")]), example)
    assert not (tmp_path / "evil.html").exists()


def _count_and_return(counter, item: int) -> int:
    with counter.get_lock():
        counter.value += 1
    return item


def test_parallel_work_waits_for_the_writer_and_stops_with_it():
    """Workers run ahead of the caller by a bounded window (memory flat in N), and a caller
    that stops early (a failed write) is never left waiting on the pool."""
    import multiprocessing

    from badgekiln.pipeline import parallel

    counter = multiprocessing.Value("i", 0)
    results = parallel.map_ordered(_count_and_return, counter, range(20_000), jobs=2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and counter.value < 2 * parallel.IN_FLIGHT_PER_WORKER:
        time.sleep(0.05)
    time.sleep(0.5)  # time enough to run far past the window, were there none
    ahead = counter.value
    assert 2 * parallel.IN_FLIGHT_PER_WORKER <= ahead <= 2 * parallel.IN_FLIGHT_PER_WORKER + 4 * parallel.CHUNK
    results.close()
    # a fresh counter: the closed pool's workers may have been stopped while holding the old one's lock
    counter = multiprocessing.Value("i", 0)
    assert list(parallel.map_ordered(_count_and_return, counter, range(1000), jobs=2)) == list(range(1000))


def test_parallel_build_gives_the_same_bytes_as_serial(tmp_path: Path):
    """Per-award work in forked workers must not change a byte or the order of anything."""
    from badgekiln.pipeline import parallel

    project = copy_project("minimal", tmp_path)
    rows = "".join(f"safety,Learner {n},learner{n}@example.com,2026-01-{1 + n % 28:02d}\n"
                   for n in range(parallel.SERIAL_BELOW + 50))
    (project / "content/awards/roster.csv").write_text("badge,name,email,issued_on\n" + rows)
    prepared = build(project, tmp_path / "setup")  # mint the ledger once
    assert prepared.model is not None and len(prepared.model.awards) > parallel.SERIAL_BELOW
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        build(project, out, jobs=jobs)
        outputs[jobs] = tree(out)
    assert outputs[1] == outputs[2]


def test_a_build_collects_garbage_less_often_and_leaves_the_process_as_it_was(example, monkeypatch):
    """`serve`, the tests and any program that builds keep their own collector settings."""
    import gc

    from badgekiln.model import resolve

    during = []
    original = resolve.build_model

    def observed(*args, **kwargs):
        during.append(gc.get_threshold())
        return original(*args, **kwargs)
    monkeypatch.setattr(resolve, "build_model", observed)
    before = gc.get_threshold()
    build(example, example / "_site")
    with pytest.raises(WriteError):  # and when a build fails
        badgekiln.build(example, badgekiln.BuildOptions(out=example / "content"))
    assert gc.get_threshold() == before and len(during) == 2
    assert all(t[0] > before[0] for t in during)  # collected less often while it ran
