"""Output weight: a 3,000-award site measured against every host profile, and a host that refuses it.

The layout promises at most ~2,000 entries per folder at any size, two files per award by
default (three when signed), small JSON and HTML only, and badge art published once per class.
Every build measures the site as it is written; a host whose limits the site would break stops
the build (E801) before anything is published, with the numbers.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import testkeys
from badgekiln.pipeline import hosts
from badgekiln.validate import schema
from conftest import build_result, tree
from hypothesis import given
from hypothesis import strategies as st

AWARDS = 3000


def make_site(root: Path, awards: int, *, host: str, outputs: str = "minimal", svg_art: bool = False,
              signed_forms: bool = False) -> Path:
    """A provider's site with one roster of `awards` learners (real content, built by the real pipeline)."""
    content = root / "content"
    for folder in ("issuers", "badges", "awards", "images"):
        (content / folder).mkdir(parents=True)
    signing = "signing: {vc_jwt: true, ob2_signed: true}\n" if signed_forms else ""
    (content / "site.yaml").write_text(f"title: Host Test Academy\nbase_url: https://badges.host.example/\n"
                                       f"host: {host}\noutputs: {outputs}\n{signing}")
    (content / "issuers/academy.yaml").write_text("name: Host Test Academy\nurl: https://host.example/\n"
                                                  "email: badges@host.example\n")
    art = "safety-practitioner.svg" if svg_art else "first-aid-at-work.png"
    (content / "images" / art).write_bytes((Path(__file__).parent.parent / "content/images" / art).read_bytes())
    (content / "badges/course.yaml").write_text(f"name: Course\ndescription: A course.\nimage: images/{art}\n"
                                                "criteria: Passed it.\nvalid_for: 3y\n")
    rows = "".join(f"course,Learner {n},learner{n}@example.com,2026-0{1 + n % 9}-1{n % 10}\n" for n in range(awards))
    (content / "awards/roster.csv").write_text("badge,name,email,issued_on\n" + rows)
    return root


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    project = make_site(tmp_path_factory.mktemp("hosts"), AWARDS, host="cloudflare-pages")
    result = build_result(project, incremental=False)
    assert result.ok, result.checked.diagnostics
    return project, result


def test_the_layout_keeps_every_folder_small_and_awards_light(measured):
    project, result = measured
    site = project / "_site"
    files = tree(site)
    folders = {str(d.relative_to(site)): len(list(d.iterdir())) for d in site.rglob("*") if d.is_dir()}
    assert max(folders.values()) <= 1300 and max(folders.values()) == result.size.fullest[1]
    assert result.size.files == len(files) - 1  # everything but the writer's own marker file
    award_folders = [d for d in folders if d.count("/") == 2 and d.startswith("a/")]
    assert len(award_folders) == AWARDS and all(folders[d] == 2 for d in award_folders)
    assert result.size.award_files == 2 * AWARDS
    per_award = result.size.award_bytes / AWARDS
    assert per_award < 40 * 1024, per_award
    assert not [p for p in files if p.startswith("a/") and not p.endswith((".html", ".json"))]
    assert sum(1 for p in files if p.startswith("badges/") and p.endswith(".png")) == 2  # art once, share image once


@pytest.mark.parametrize("name", list(hosts.PROFILES))
def test_every_host_profile_reports_the_site_against_its_limits(measured, name):
    _, result = measured
    host = hosts.PROFILES[name]
    size = result.size
    assert size.breaches(host) == []  # a 3,000-award site fits every profile
    report = size.report(host, AWARDS)
    folder, count = size.fullest
    assert f"Site size: {size.files:,} files" in report and f"fullest folder {folder}/ ({count:,} entries)" in report
    assert f"Per award: 2.0 files, {hosts.format_size(size.award_bytes / AWARDS)}." in report
    room = size.room(host, AWARDS)
    if name == "cloudflare-pages":  # the file count is the floor there: 20,000 files at 2 per award
        assert room == (20_000 - size.files) // 2 and f"room for about {room:,} more award(s)" in report
    elif name in ("github-pages", "gitlab-pages"):  # 1 GB
        assert room is not None and room > 25_000
    elif name in ("netlify", "s3"):
        assert room is None and "no limit applies" in report
    elif name == "none":
        assert "set `host:` in site.yaml" in report


def test_the_profiles_are_the_ones_site_yaml_accepts():
    assert tuple(hosts.PROFILES) == schema.HOSTS


def test_a_host_whose_limit_is_too_small_fails_with_the_numbers(tmp_path):
    """Cloudflare's free plan takes 20,000 files: a full-output, signed site of 3,000 awards has more."""
    project = make_site(tmp_path, AWARDS, host="cloudflare-pages", outputs="full", svg_art=True, signed_forms=True)
    (project / "_site").mkdir()
    (project / "_site/.badgekiln-site").write_text("")
    (project / "_site/index.html").write_text("the site as published before")
    result = build_result(project, keyring=testkeys.keyring(), incremental=False)
    assert not result.written
    [problem] = [d for d in result.checked.diagnostics if d.code == "E801"]
    assert "the site would break Cloudflare Pages (free)'s limits: 20,001 files, over the limit of 20,000" \
        in problem.message
    assert "outputs: minimal" in problem.hint and "host:" in problem.hint
    assert tree(project / "_site") == {".badgekiln-site": b"", "index.html": b"the site as published before"}
    assert not [p for p in tmp_path.iterdir() if ".staging" in p.name]


def test_netlify_and_cloudflare_get_a_headers_file_for_other_sites_verifiers(tmp_path):
    for host, expected in (("netlify", True), ("cloudflare-pages", True), ("github-pages", False)):
        project = make_site(tmp_path / host, 3, host=host)
        assert build_result(project, incremental=False).ok
        headers = project / "_site/_headers"
        assert headers.is_file() == expected, host
        if expected:
            text = headers.read_text()
            for folder in hosts.CORS_FOLDERS:
                assert f"/{folder}/*\n  Access-Control-Allow-Origin: *\n" in text
            assert "/.well-known/did.json\n  Access-Control-Allow-Origin: *" in text


@given(st.sets(st.lists(st.sampled_from("abc"), min_size=1, max_size=4).map("/".join), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_a_site_is_measured_as_its_tree_whatever_order_its_files_come_in(names, rng):
    """Folders and the entries of each (files and subfolders), counted once each as files stream in."""
    paths = [f"{name}/f.txt" if n % 3 else f"{name}.json" for n, name in enumerate(sorted(names))]
    rng.shuffle(paths)
    size = hosts.SiteSize()
    for path in paths:
        size.add(path, 1)
    folders = {"/".join(parts[:i]) for parts in (p.split("/") for p in paths) for i in range(1, len(parts))}
    entries = {folder: len({p[len(folder) + 1 if folder else 0:].split("/")[0]
                            for p in paths if not folder or p.startswith(folder + "/")})
               for folder in folders | {""}}
    assert size.folders == len(folders) and size.files == len(paths)
    assert size.fullest[1] == max(entries.values())
    assert entries["" if size.fullest[0] == "." else size.fullest[0]] == size.fullest[1]
