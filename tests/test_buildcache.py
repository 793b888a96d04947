"""Incremental builds: unchanged awards are reused, and the output never differs from a full build.

Each test builds real sites twice, once through the cache and once from scratch into another
folder, and compares every byte. Reuse is observed on disk: a reused file keeps its mtime.
"""
from __future__ import annotations

import json
from pathlib import Path

import badgekiln
import testkeys
from badgekiln.crypto import keys
from badgekiln.pipeline.cache import manifest_path
from conftest import build, build_result, copy_project, tree


def cached_build(project: Path, **options) -> tuple[badgekiln.CheckResult, badgekiln.BuildResult]:
    """`python build.py` as the CLI runs it: through the cache of project/_site."""
    result = build_result(project, incremental=True, **options)
    assert result.ok, result.checked.diagnostics
    return result.checked, result


def _same_as_full_build(project: Path, tmp_path: Path, name: str, **options) -> None:
    full = tmp_path / f"full-{name}"
    build(project, full, **options)
    cached, fresh = tree(project / "_site"), tree(full)
    assert sorted(cached) == sorted(fresh)
    assert [p for p in cached if cached[p] != fresh[p]] == []


def _mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def _award_files(site: Path, slug: str) -> list[str]:
    return [p for p in _mtimes(site) if f"/{slug}." in f"/{p}" or p.startswith(f"a/{slug}/")]


def test_adding_an_award_renders_only_that_award(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first, result = cached_build(project)
    assert result.reused == 0
    awards = len(first.model.awards)
    before = _mtimes(project / "_site")
    roster = project / "content/awards/2026-food-hygiene.yaml"
    roster.write_text(roster.read_text() + "  - name: New Starter\n    email: new.starter@example.com\n")
    second, result = cached_build(project)
    assert len(second.model.awards) == awards + 1 and result.reused == awards
    after = _mtimes(project / "_site")
    newcomer = next(a for a in second.model.awards if a.recipient_name == "New Starter")
    for award in first.model.awards:  # untouched on disk: linked from the previous site
        for path in _award_files(project / "_site", award.slug):
            assert after[path] == before[path], path
    assert _award_files(project / "_site", newcomer.slug)
    _same_as_full_build(project, tmp_path, "added")


def test_every_kind_of_change_reaches_the_awards_it_affects(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first, _ = cached_build(project)
    total = len(first.model.awards)
    from badgekiln.commands.editing import Change, apply
    from badgekiln.diagnostics import Report
    from badgekiln.validate.values import parse_datetime

    target = next(a for a in first.model.awards if a.revocation is None and a.suspension is None)
    report, _ = apply(project, Change("revoke", target.slug, "Issued in error.", parse_datetime("2026-11-01")),
                      Report())
    assert not report.has_errors()
    _, result = cached_build(project)
    assert result.reused == total - 1
    _same_as_full_build(project, tmp_path, "revoked")

    badge_file = project / "content/badges/food-hygiene.yaml"
    badge_file.write_text(badge_file.read_text().replace("name: ", "name: Level 2 ", 1))
    prepared, result = cached_build(project)
    assert result.reused == total - len(prepared.model.awards_of("food-hygiene"))
    _same_as_full_build(project, tmp_path, "badge")

    catalogue = project / "templates/i18n/en.yaml"  # a project override of one string
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text("nav:\n  badges: All badges\n")
    _, result = cached_build(project)
    assert result.reused == 0
    _same_as_full_build(project, tmp_path, "template")


def test_a_file_edited_by_hand_is_rendered_again(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    first, _ = cached_build(project)
    [award] = first.model.awards
    page = project / f"_site/a/{award.slug}/index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>edited</p></body>"))
    _, result = cached_build(project)
    assert result.reused == 0 and b"edited" not in page.read_bytes()
    _same_as_full_build(project, tmp_path, "edited")


def test_signed_awards_are_reused_until_the_signer_changes(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first, _ = cached_build(project, keyring=testkeys.keyring())
    total = len(first.model.awards)
    _, result = cached_build(project, keyring=testkeys.keyring())
    assert result.reused == total
    _same_as_full_build(project, tmp_path, "signed", keyring=testkeys.keyring())
    # no key this time: the published JWT and OB 2.0 JWS files cannot be made, so nothing is published
    before = tree(project / "_site")
    refused = build_result(project, incremental=True, keyring=keys.Keyring())
    assert not refused.written and [d.code for d in refused.checked.diagnostics] == ["E507"]
    assert tree(project / "_site") == before
    # with those forms switched off, a build without the key republishes the frozen credentials,
    # but no award's files are reused: their signer changed
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace("vc_jwt: true", "vc_jwt: false").replace("ob2_signed: true",
                                                                                     "ob2_signed: false"))
    _, result = cached_build(project, keyring=keys.Keyring())
    assert result.reused == 0 and not list((project / "_site/a").glob("*.jwt"))
    assert len(list((project / "_site/a").glob("*.credential.json"))) == total
    _same_as_full_build(project, tmp_path, "unsigned", keyring=keys.Keyring())


def test_an_unreadable_or_stale_manifest_means_a_full_build(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    cached_build(project)
    manifest = manifest_path(project, project / "_site")
    manifest.write_text("{not json")
    _, result = cached_build(project)
    assert result.reused == 0
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "fingerprint": "an older Badgekiln"}))
    _, result = cached_build(project)
    assert result.reused == 0
    _, result = cached_build(project)
    assert result.reused == 1
    _same_as_full_build(project, tmp_path, "manifest")


def test_a_hostile_manifest_cannot_pull_files_from_outside_the_site(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    cached_build(project)
    outside = tmp_path / "secret.txt"
    outside.write_text("not for publishing")
    manifest = manifest_path(project, project / "_site")
    doc = json.loads(manifest.read_text())
    stat = outside.stat()
    for key in doc["awards"]:
        doc["awards"][key] = [[str(outside), stat.st_size, stat.st_mtime_ns],
                              ["../secret.txt", stat.st_size, stat.st_mtime_ns]]
    manifest.write_text(json.dumps(doc))
    _, result = cached_build(project)
    assert result.reused == 0
    assert b"not for publishing" not in b"".join(tree(project / "_site").values())
    _same_as_full_build(project, tmp_path, "hostile")
