"""Builds that cost what changed: the output is always byte-identical to a full build.

Each test builds a real site the way the CLI does (incremental, with the site's state in
.badgekiln-cache/), changes something, builds again, and compares every byte and every file
name with a fresh full build into another folder. What was (not) rewritten is observed on
disk: a file left in place keeps its mtime.
"""
from __future__ import annotations

import base64
import gc
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import badgekiln
import pytest
import testkeys
from badgekiln import cli
from badgekiln.crypto import keys
from badgekiln.model import ledger
from badgekiln.pipeline.site_state import state_path
from conftest import FIXED_NOW, REPO, award_dir, build_result, copy_project, ledger_awards, ledger_files, tree


def incremental(project: Path, **options) -> badgekiln.BuildResult:
    """`badgekiln build` as the CLI runs it: incremental, into project/_site."""
    result = build_result(project, incremental=True, **options)
    assert result.ok, result.checked.diagnostics if result.checked else result
    return result


def same_as_full_build(project: Path, tmp_path: Path, name: str, updated: badgekiln.BuildResult | None = None,
                       **options) -> None:
    """The site in project/_site is byte for byte what a full build makes; and the site as the
    `updated` build measured it (its kept files from the state) is the site the full build measured."""
    full = tmp_path / f"full-{name}"
    whole = build_result(project, full, **options)
    built, fresh = tree(project / "_site"), tree(full)
    assert sorted(built) == sorted(fresh)
    assert [p for p in built if built[p] != fresh[p]] == []
    if updated is not None:
        assert updated.size == whole.size and updated.files == whole.files == len(fresh) - 1  # but the marker


def mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def award_files(site: Path, slug: str) -> list[str]:
    return [p for p in mtimes(site) if p.startswith(f"{award_dir(slug)}/")]


def append_award(project: Path, name: str) -> None:
    roster = project / "content/awards/2026-food-hygiene.yaml"
    email = name.lower().replace(" ", ".") + "@example.com"
    roster.write_text(roster.read_text() + f"  - name: {name}\n    email: {email}\n")


def test_another_badgekiln_rebuilds_what_it_makes_differently(tmp_path: Path, monkeypatch):
    """An upgrade (new code, templates or libraries) with the content unchanged is not 'up to date'."""
    from badgekiln.pipeline import site_state

    project = copy_project("example", tmp_path)
    incremental(project)
    assert incremental(project).unchanged
    monkeypatch.setattr(site_state, "fingerprint", lambda project: "another badgekiln")
    upgraded = incremental(project)
    assert not upgraded.unchanged and upgraded.reused == 0  # every award made again by this code
    same_as_full_build(project, tmp_path, "upgraded")
    assert incremental(project).unchanged  # and then up to date with this Badgekiln


def test_nothing_changed_is_a_stat_of_inputs_and_outputs(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first = incremental(project)
    before = mtimes(project / "_site")
    again = incremental(project)
    assert again.unchanged and again.checked is None  # not even checked: every input is as it was
    assert again.files == first.files and again.summary == {"badges": len(first.checked.model.badges),
                                                            "awards": len(first.checked.model.awards)}
    assert mtimes(project / "_site") == before
    # touching an input (even without changing it) means a real, incremental, build
    (project / "content/site.yaml").touch()
    third = incremental(project)
    assert not third.unchanged and third.reused == len(first.checked.model.awards)
    assert mtimes(project / "_site") == before  # same bytes: nothing rewritten
    same_as_full_build(project, tmp_path, "nothing")


def test_a_build_with_nothing_to_do_never_loads_the_signing_stack(tmp_path: Path):
    """`badgekiln build` that finds the site up to date stats inputs and outputs; loading PyLD
    (and requests, which it imports) was a third of such a build's time at 10^4 awards, and
    Jinja (through `notify`'s messages, at CLI startup) 40 ms more."""
    project = copy_project("minimal", tmp_path)
    subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project)], check=True,
                   capture_output=True)
    probe = (f"import runpy, sys\nsys.argv = ['build.py', '--project', {str(project)!r}]\n"
             f"try:\n    runpy.run_path({str(REPO / 'build.py')!r}, run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('loaded:', *[m for m in ('pyld', 'requests', 'jinja2') if m in sys.modules])")
    run = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert "up to date" in run.stderr.lower(), run.stderr
    assert run.stdout.strip().splitlines()[-1] == "loaded:"


def test_adding_an_award_writes_that_award_and_the_shared_files_it_touches(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first = incremental(project)
    before = mtimes(project / "_site")
    append_award(project, "New Starter")
    second = incremental(project)
    model = second.checked.model
    assert len(model.awards) == len(first.checked.model.awards) + 1
    assert second.reused == len(first.checked.model.awards)
    after = mtimes(project / "_site")
    newcomer = next(a for a in model.awards if a.recipient_name == "New Starter")
    rewritten = sorted(p for p in after if before.get(p) != after[p])
    new_files = set(award_files(project / "_site", newcomer.slug))
    assert new_files and new_files <= set(rewritten)
    shared = [p for p in rewritten if p not in new_files]
    # the index (badge counts), the badge page (holders) and the issuer's status and revocation lists
    assert "index.html" in shared and "badges/food-hygiene/index.html" in shared
    assert all(not p.startswith("a/") for p in shared), shared  # no other award was touched
    assert len(shared) < 12, shared
    same_as_full_build(project, tmp_path, "added", updated=second)


def test_every_kind_of_change_equals_a_full_build(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first = incremental(project)
    total = len(first.checked.model.awards)
    from badgekiln.commands.editing import Change, apply
    from badgekiln.diagnostics import Report
    from badgekiln.validate.values import parse_datetime

    def change(action: str, award) -> None:
        report, _ = apply(project, Change(action, award.slug, "Under review.", parse_datetime("2026-11-01")),
                          Report())
        assert not report.has_errors(), report.sorted()

    target = next(a for a in first.checked.model.awards if a.revocation is None and a.suspension is None
                  and a.cpd is None and not a.earned_by)
    change("revoke", target)
    revoked = incremental(project)
    assert revoked.reused >= total - 2  # the award (and any pathway award it carried)
    same_as_full_build(project, tmp_path, "revoked", updated=revoked)

    other = next(a for a in first.checked.model.awards if a.revocation is None and a.suspension is None
                 and a.cpd is None and a.key != target.key and not a.earned_by and a.badge == "food-hygiene")
    change("suspend", other)
    incremental(project)
    same_as_full_build(project, tmp_path, "suspended")

    badge_file = project / "content/badges/food-hygiene.yaml"
    badge_file.write_text(badge_file.read_text().replace("name: ", "name: Level 2 ", 1))
    result = incremental(project)
    assert result.reused == total - len(result.checked.model.awards_of("food-hygiene"))
    same_as_full_build(project, tmp_path, "badge", updated=result)

    issuer_file = project / "content/issuers/northwind.yaml"
    issuer_file.write_text(issuer_file.read_text().replace("description: ", "description: Since 1998. ", 1))
    assert incremental(project).reused == 0
    same_as_full_build(project, tmp_path, "issuer")

    catalogue = project / "templates/i18n/en.yaml"  # a project override of one string
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text("nav:\n  badges: All badges\n")
    assert incremental(project).reused == 0
    same_as_full_build(project, tmp_path, "template")

    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "outputs: full\n")  # per-award baked images appear
    incremental(project)
    append_award(project, "Baked Starter")  # the others' baked images are kept, and measured from the state
    same_as_full_build(project, tmp_path, "full", updated=incremental(project))
    site_yaml.write_text(site_yaml.read_text().replace("outputs: full\n", ""))  # ... and go again
    incremental(project)
    assert not list((project / "_site/a").rglob("badge.png"))
    same_as_full_build(project, tmp_path, "minimal")


def test_a_signed_site_reuses_its_awards_until_the_signer_changes(tmp_path: Path):
    project = copy_project("example", tmp_path)
    first = incremental(project, keyring=testkeys.keyring())
    total = len(first.checked.model.awards)
    assert incremental(project, keyring=testkeys.keyring()).unchanged
    append_award(project, "Signed Starter")
    added = incremental(project, keyring=testkeys.keyring())
    assert added.reused == total
    same_as_full_build(project, tmp_path, "signed", updated=added, keyring=testkeys.keyring())
    # no key this time: the recorded JWT and OB 2.0 JWS files cannot be made, so nothing is published
    before = tree(project / "_site")
    refused = build_result(project, incremental=True, keyring=keys.Keyring())
    assert not refused.written and [d.code for d in refused.checked.diagnostics] == ["E507"]
    assert tree(project / "_site") == before
    # with those forms switched off the site is published without the key, and every award made again
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("vc_jwt: true", "vc_jwt: false")
                         .replace("ob2_signed: true", "ob2_signed: false"))
    result = incremental(project, keyring=keys.Keyring())
    assert result.reused == 0 and not list((project / "_site/a").rglob("*.jwt"))
    same_as_full_build(project, tmp_path, "unsigned", keyring=keys.Keyring())
    # now the key signs nothing an award publishes (its credentials are frozen in the ledger): a
    # build with it, or again without it, keeps every award
    for keyring in (testkeys.keyring(), keys.Keyring()):
        append_award(project, f"Starter {len(keyring.keys)}")
        again = incremental(project, keyring=keyring)
        assert again.reused == len(again.checked.model.awards) - 1  # all but the one added
        same_as_full_build(project, tmp_path, f"keyring-{len(keyring.keys)}", updated=again, keyring=keyring)


def test_a_new_key_signs_every_award_s_rs256_forms_again(tmp_path: Path, capsys):
    """The example publishes VC-JWT copies and OB 2.0 JWS files, signed with the current key: after
    `keys rotate` no award is kept (its frozen credential is republished as it was)."""
    project = copy_project("example", tmp_path)

    def kids() -> set[str]:
        return {json.loads(base64.urlsafe_b64decode(jwt.read_text().split(".")[0] + "=="))["kid"]
                for jwt in (project / "_site/a").rglob("credential.jwt")}
    assert cli.main(["--project", str(project), "keys", "new"]) == 0
    incremental(project)
    before = kids()
    assert cli.main(["--project", str(project), "keys", "rotate"]) == 0
    capsys.readouterr()
    rotated = incremental(project)
    assert rotated.reused == 0
    assert len(before) == len(kids()) == 1 and kids() != before
    same_as_full_build(project, tmp_path, "rotated", updated=rotated)


def test_the_ledger_s_records_stay_in_their_index_and_follow_the_ledger_files(tmp_path: Path):
    """An incremental build leaves each credential record in .badgekiln-cache/ (pipeline/
    ledger_records.py) and reads it back when needed. When the ledger files go back to an older
    version (a `git checkout`), what is published is what those files hold, never what the index
    held; a damaged index is made again."""
    project = copy_project("example", tmp_path)
    keyring = testkeys.keyring()
    index = project / ".badgekiln-cache/ledger-records.sqlite"
    # the first build's new records go to the index as they are signed, and leave it when it is done
    first = incremental(project, keyring=keyring).checked
    assert first.signing.records and all(isinstance(r, ledger.Stored) and r.signed
                                         for r in first.signing.records.values())
    assert all(isinstance(e.credential, ledger.Stored) for e in first.ledger.entries.values() if e.credential)
    db = sqlite3.connect(index, isolation_level=None)
    assert db.execute("SELECT COUNT(*) FROM signed").fetchone() == (len(first.signing.records),)
    db.execute("INSERT INTO signed VALUES ('killed', 'k', '{}', 0)")  # a build killed long ago left this
    del first
    gc.collect()
    append_award(project, "Indexed Starter")
    checked = incremental(project, keyring=keyring).checked
    # the first build's rows and the killed one's are gone: only this build's one new record is there
    assert db.execute("SELECT build, COUNT(*) FROM signed GROUP BY build").fetchall() == [
        (next(e for e in checked.ledger_read.entries.values() if e.credential).credential.index.build, 1)]
    db.close()
    written = ledger_awards(project)
    signed = {k: e for k, e in checked.ledger_read.entries.items() if e.credential is not None}
    assert signed and all(isinstance(e.credential, ledger.Stored) for e in signed.values())
    kept = [k for k in signed if isinstance(checked.signing.records.get(k), ledger.Stored)]
    assert len(kept) == len(signed)  # none held in memory: each read back from the index
    assert all(checked.signing.record_of(k) == written[k]["credential"] for k in kept)
    # sign the food-hygiene credentials again (--reissue), build once more (the index takes the new
    # files), then go back to the commit before the reissue
    roster, badge_file = project / "content/awards/2026-food-hygiene.yaml", project / "content/badges/food-hygiene.yaml"
    before = {**ledger_files(project), **{str(f.relative_to(project)): f.read_bytes() for f in (roster, badge_file)}}
    badge_file.write_text(badge_file.read_text().replace("name: ", "name: Level 2 ", 1))
    reissued = incremental(project, keyring=keyring, reissue=True)
    assert any(n.startswith("re-issued") for n in reissued.checked.notices)
    append_award(project, "Reissued Starter")
    incremental(project, keyring=keyring)
    for path in set(ledger_files(project)) - set(before):
        (project / path).unlink()
    for path, data in before.items():
        (project / path).write_bytes(data)
    restored = incremental(project, keyring=keyring)
    assert restored.checked.ledger_changed is False  # the records published are the restored ones
    same_as_full_build(project, tmp_path, "restored", updated=restored, keyring=keyring)
    index.write_bytes(b"not a database" * 100)
    append_award(project, "Second Indexed Starter")
    same_as_full_build(project, tmp_path, "reindexed", updated=incremental(project, keyring=keyring),
                       keyring=keyring)
    # a row damaged, another lost: each is read again from its ledger file
    db = sqlite3.connect(index)
    damaged, lost = [key for (key,) in db.execute("SELECT key FROM records ORDER BY key LIMIT 2")]
    db.execute("UPDATE records SET record='{' WHERE key=?", (damaged,))
    db.execute("DELETE FROM records WHERE key=?", (lost,))
    db.commit()
    db.close()
    append_award(project, "Third Indexed Starter")
    same_as_full_build(project, tmp_path, "repaired", updated=incremental(project, keyring=keyring),
                       keyring=keyring)


def test_forked_workers_read_the_records_they_render_from_the_index(tmp_path: Path):
    """Awards made again in forked workers read their records back there (a connection each): more
    than the plan's last batch of looked-up records, which the workers inherit."""
    from badgekiln.pipeline import ledger_records, parallel

    project = copy_project("minimal", tmp_path)
    rows = "".join(f"safety,Learner {n},learner{n}@example.com,2026-01-{1 + n % 28:02d}\n"
                   for n in range(ledger_records._BATCH + parallel.SERIAL_BELOW))
    (project / "content/awards/roster.csv").write_text("badge,name,email,issued_on\n" + rows)
    keyring = testkeys.keyring()
    incremental(project, keyring=keyring, jobs=2)
    catalogue = project / "templates/i18n/en.yaml"  # every award page changes; no credential does
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    catalogue.write_text("nav:\n  badges: All badges\n")
    restyled = incremental(project, keyring=keyring, jobs=2)
    assert restyled.reused == 0 and len(restyled.checked.model.awards) > parallel.SERIAL_BELOW
    assert all(isinstance(r, ledger.Stored) for r in restyled.checked.signing.records.values())
    same_as_full_build(project, tmp_path, "restyled", updated=restyled, keyring=keyring)


PREVIEW = {"base_url": "http://127.0.0.1:8123/", "record_ledger": False}  # what `serve` builds


def test_a_preview_signs_and_renders_only_what_changed_and_equals_a_full_preview(tmp_path: Path):
    """`serve` builds a preview: its own base URL, every credential signed under its own DID, the
    ledger left alone. From save to save it keeps every unchanged award (credential and files), and
    it is byte for byte a full preview build."""
    project = copy_project("example", tmp_path)
    keyring = testkeys.keyring()
    incremental(project, keyring=keyring)  # the published site: the ledger holds every credential
    out, full = tmp_path / "preview", tmp_path / "full-preview"
    first = incremental(project, out=out, keyring=keyring, **PREVIEW)
    total = len(first.checked.model.awards)
    assert any(n.startswith(f"signed {total} credential(s)") for n in first.checked.notices)
    assert not any("re-issued" in n for n in first.checked.notices)  # a preview re-issues nothing
    append_award(project, "Preview Learner")
    again = incremental(project, out=out, keyring=keyring, **PREVIEW)
    assert again.reused == total and "signed 1 credential(s)" in again.checked.notices
    new_key = next(a.key for a in again.checked.model.awards if a.recipient_name == "Preview Learner")
    found = [r for key, r in again.checked.signing.records.items() if key != new_key]
    assert len(found) == total  # remembered records share one copy of their field names and repeated values
    assert len({id(name) for r in found for name in r}) == len({name for r in found for name in r})
    assert len({id(r["verificationMethod"]) for r in found}) == 1 and len({id(r["parts"]) for r in found}) < total
    build_result(project, full, keyring=keyring, **PREVIEW)
    assert tree(out) == tree(full)
    # what a preview remembered is only a cache: forgotten, everything is signed again, the same
    db = sqlite3.connect(project / ".badgekiln-cache/memo.sqlite")
    with db:
        db.execute("UPDATE previews SET preview_key = 'forgotten'")
    db.close()
    append_award(project, "Second Previewer")
    forgot = incremental(project, out=out, keyring=keyring, **PREVIEW)
    assert any(n.startswith(f"signed {total + 2} credential(s)") for n in forgot.checked.notices)
    build_result(project, full, keyring=keyring, **PREVIEW)
    assert tree(out) == tree(full)


def test_a_preview_after_each_kind_of_change_equals_a_full_preview(tmp_path: Path):
    """Revoking, suspending and rewording, saved while `serve` runs on a signed site: each preview
    signs again only the award that changed (none for a reworded template string), and is byte
    for byte a full preview build."""
    from badgekiln.commands.editing import Change, apply
    from badgekiln.diagnostics import Report
    from badgekiln.validate.values import parse_datetime

    project = copy_project("example", tmp_path)
    keyring = testkeys.keyring()
    first = incremental(project, keyring=keyring)
    out, full = tmp_path / "preview", tmp_path / "full-preview"
    incremental(project, out=out, keyring=keyring, **PREVIEW)
    plain = [a for a in first.checked.model.awards
             if a.revocation is None and a.suspension is None and a.cpd is None and not a.earned_by]
    for step, action in enumerate(["revoke", "suspend", "reword"]):
        if action == "reword":
            catalogue = project / "templates/i18n/en.yaml"
            catalogue.parent.mkdir(parents=True)
            catalogue.write_text("nav:\n  badges: All badges\n")
        else:
            report, _ = apply(project, Change(action, plain[step].slug, "Under review.",
                                              parse_datetime("2026-11-01")), Report())
            assert not report.has_errors(), report.sorted()
        result = incremental(project, out=out, keyring=keyring, **PREVIEW)
        signed = [n for n in result.checked.notices if n.startswith("signed")]
        assert signed == ([] if action == "reword" else ["signed 1 credential(s)"]), action  # the award changed
        build_result(project, full, keyring=keyring, **PREVIEW)
        assert tree(out) == tree(full), action


def test_a_preview_mints_a_new_award_once_and_keeps_it_from_save_to_save(tmp_path: Path):
    """`serve` never records new awards; it mints them from a secret in the project's cache, so a
    new award's preview page keeps its address and its credential is signed once."""
    project = copy_project("example", tmp_path)
    keyring = testkeys.keyring()
    incremental(project, keyring=keyring)
    recorded = ledger_files(project)
    out = tmp_path / "preview"

    def preview() -> badgekiln.BuildResult:
        return incremental(project, out=out, keyring=keyring, minter=badgekiln.api.preview_minter(project), **PREVIEW)

    def slug_of(result: badgekiln.BuildResult, name: str) -> str:
        return next(a.slug for a in result.checked.model.awards if a.recipient_name == name)

    total = len(preview().checked.model.awards)
    append_award(project, "First Newcomer")
    first = preview()
    append_award(project, "Second Newcomer")
    second = preview()
    assert slug_of(second, "First Newcomer") == slug_of(first, "First Newcomer")
    assert second.reused == total + 1 and "signed 1 credential(s)" in second.checked.notices
    assert (out / award_dir(slug_of(second, "First Newcomer")) / "index.html").is_file()
    assert ledger_files(project) == recorded  # a preview records nothing
    # another project (another secret) mints other addresses: they are not guessable from the key
    other = copy_project("example", tmp_path / "other")
    append_award(other, "First Newcomer")
    elsewhere = build_result(other, keyring=keyring, minter=badgekiln.api.preview_minter(other), **PREVIEW)
    assert slug_of(elsewhere, "First Newcomer") != slug_of(first, "First Newcomer")


def test_a_preview_forgets_the_credentials_of_awards_no_longer_in_content(tmp_path: Path):
    """What a preview signed is remembered per award; an award taken out of content (a test entry
    while `serve` runs) takes its remembered credential with it, and an award put back is signed again."""
    from badgekiln.api import preview_minter

    project = copy_project("example", tmp_path)
    keyring = testkeys.keyring()
    out = tmp_path / "preview"
    roster = project / "content/awards/2026-food-hygiene.yaml"
    before = roster.read_text()

    def preview() -> badgekiln.BuildResult:
        return incremental(project, out=out, keyring=keyring, minter=preview_minter(project), **PREVIEW)

    def remembered() -> set[str]:
        with sqlite3.connect(project / ".badgekiln-cache/memo.sqlite") as db:
            return {row[0] for row in db.execute("SELECT key FROM previews")}

    total = len(preview().checked.model.awards)
    append_award(project, "Test Entry")
    keys = {a.key for a in preview().checked.model.awards}
    assert remembered() == keys and len(keys) == total + 1
    roster.write_text(before)
    shown = preview()
    assert remembered() == {a.key for a in shown.checked.model.awards} and len(remembered()) == total
    append_award(project, "Test Entry")
    assert "signed 1 credential(s)" in preview().checked.notices
    with_error = roster.read_text() + "  - name: Broken\n    email: not-an-email\n"
    roster.write_text(with_error)  # a preview that fails forgets nothing
    failed = build_result(project, out=out, keyring=keyring, minter=preview_minter(project), incremental=True,
                          **PREVIEW)
    assert not failed.ok and len(remembered()) == total + 1


def surveyed_in_another_process(monkeypatch) -> list:
    """Make every build stat its published files in a forked survey (as at 10^4 awards, on 2 cores);
    the list gets each survey's answer (None: it failed, and the build stated the files itself)."""
    from badgekiln.pipeline import site_state

    answers = []
    answer = site_state.SiteState._survey_answer

    def noted(state):
        asked = state._survey is not None  # the first time: its answer is taken from the other process
        got = answer(state)
        if asked:
            answers.append(got)
        return got
    monkeypatch.setattr(site_state, "SURVEY_FROM", 0)
    monkeypatch.setenv("BADGEKILN_JOBS", "2")
    monkeypatch.setattr(site_state.SiteState, "_survey_answer", noted)
    return answers


@pytest.mark.parametrize("survey", [False, True], ids=["stated in the build", "stated by a survey"])
def test_files_changed_added_or_removed_by_hand_are_put_right(tmp_path: Path, monkeypatch, survey):
    answers = surveyed_in_another_process(monkeypatch) if survey else None
    project = copy_project("example", tmp_path)
    first = incremental(project)
    award = first.checked.model.awards[0]
    site = project / "_site"
    page = site / award_dir(award.slug) / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>edited</p></body>"))
    (site / "index.html").write_text("defaced")
    (site / "badges/stray.html").write_text("not ours")
    (site / award_dir(award.slug) / "notes.txt").write_text("not ours either")
    (site / award_dir(first.checked.model.awards[1].slug) / "assertion.json").unlink()
    result = incremental(project)
    assert not result.unchanged and result.reused == len(first.checked.model.awards) - 2
    assert b"edited" not in page.read_bytes() and b"defaced" not in (site / "index.html").read_bytes()
    same_as_full_build(project, tmp_path, "by-hand")
    if survey:  # the answers came from the other process: the two damaged awards, the defaced shared page,
        [(damaged, moved)] = answers  # and the three folders given or robbed of a file by hand
        assert len(damaged - {""}) == 2 and "" in damaged
        assert sorted(moved) == sorted(["badges", award_dir(award.slug), award_dir(first.checked.model.awards[1].slug)])


def test_a_survey_that_dies_leaves_the_build_to_stat_the_files_itself(tmp_path: Path, monkeypatch):
    from badgekiln.pipeline import site_state

    answers = surveyed_in_another_process(monkeypatch)
    project = copy_project("example", tmp_path)
    first = incremental(project)
    award = first.checked.model.awards[0]
    (project / "_site" / award_dir(award.slug) / "assertion.json").write_text("{}")
    monkeypatch.setattr(site_state, "_survey", lambda *args: os._exit(3))  # killed before it answers
    result = incremental(project)
    assert answers == [None] and result.reused == len(first.checked.model.awards) - 1
    same_as_full_build(project, tmp_path, "survey-died")


def test_a_damaged_or_foreign_state_means_a_full_build(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    incremental(project)
    db = state_path(project, project / "_site")
    db.write_bytes(b"not a database at all")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert incremental(project).reused == 0
    same_as_full_build(project, tmp_path, "damaged")


@pytest.mark.parametrize("survey", [False, True], ids=["stated in the build", "stated by a survey"])
def test_a_hostile_state_cannot_reach_outside_the_site(tmp_path: Path, monkeypatch, survey):
    """Rows naming files outside the site are never read, linked or deleted."""
    answers = surveyed_in_another_process(monkeypatch) if survey else []
    project = copy_project("minimal", tmp_path)
    incremental(project)
    outside = tmp_path / "secret.txt"
    outside.write_text("not for publishing")
    db = sqlite3.connect(state_path(project, project / "_site"))
    stat = outside.stat()
    with db:
        db.execute("UPDATE files SET path=? WHERE path LIKE 'a/%/assertion.json'", (str(outside),))
        db.execute("INSERT INTO files VALUES ('../secret.txt', '', ?, ?, NULL)", (stat.st_size, stat.st_mtime_ns))
        db.execute("UPDATE meta SET value='' WHERE key='stamp'")
    db.close()
    incremental(project)
    assert outside.read_text() == "not for publishing"
    assert b"not for publishing" not in b"".join(tree(project / "_site").values())
    same_as_full_build(project, tmp_path, "hostile")
    assert all(answer is not None for answer in answers)


KILL_POINTS = 6


def test_a_build_killed_at_random_points_is_repaired_by_the_next(tmp_path: Path):
    """SIGKILL a real build process at random moments while it publishes a change; the next
    build leaves exactly what a full build makes, and the old site is never left broken."""
    project = copy_project("example", tmp_path)
    incremental(project)
    rng = random.Random(20261201)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(FIXED_NOW.timestamp()))}
    for round_ in range(KILL_POINTS):
        append_award(project, f"Killed Build {round_}")
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--project", str(project)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert (project / "_site/index.html").is_file()  # the published site is still there
        repaired = build_result(project, incremental=True, now=FIXED_NOW.replace(hour=13))
        assert repaired.ok, repaired.checked.diagnostics if repaired.checked else repaired
        assert not [p for p in tmp_path.rglob(".*staging*")]
        same_as_full_build(project, tmp_path, f"killed-{round_}")


def restyle(project: Path) -> None:
    """The provider's own award page over the shipped one: every award page changes."""
    page = (REPO / "templates/award.html").read_text(encoding="utf-8")
    (project / "templates").mkdir(exist_ok=True)
    (project / "templates/award.html").write_text(page.replace('class="wrap award"', 'class="wrap award restyled"'),
                                                  encoding="utf-8")


@pytest.mark.parametrize("written", ["a line each", "whole, by an earlier Badgekiln"])
def test_an_update_that_dies_at_its_commit_point_is_finished_by_the_next_build(tmp_path: Path, monkeypatch,
                                                                              written):
    """A restyle that also drops every baked image replaces and deletes files of every award: its
    journal names them a line each as they are found (never a list of them in memory), and the
    build dies the moment it is committed. Nothing published has changed; the next build applies
    the journal, and the site is what a full build makes. A journal written whole, by the
    Badgekiln before this one, is applied too; no line of either reaches outside the site."""
    from badgekiln.pipeline import writer

    project = copy_project("example", tmp_path)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "outputs: full\n")
    first = incremental(project)
    awards = first.checked.model.awards
    before = tree(project / "_site")
    site_yaml.write_text(site_yaml.read_text().replace("outputs: full\n", ""))
    restyle(project)

    class Died(Exception):
        pass

    def dies_once_committed(state):
        if writer.journal_path(state).exists():
            raise Died
        return False
    with monkeypatch.context() as patched, pytest.raises(Died):
        patched.setattr(writer, "finish_interrupted", dies_once_committed)
        incremental(project)
    assert tree(project / "_site") == before  # the commit point passed, nothing published yet
    journal = writer.journal_path(badgekiln.pipeline.site_state.SiteState(project, project / "_site"))
    head, *lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    replaced, deleted = [e[0] for e in lines if len(e) == 3], [e[0] for e in lines if len(e) == 1]
    assert lines == sorted(lines, key=len, reverse=True)  # every replacement, then every deletion
    assert {award_dir(a.slug) + "/index.html" for a in awards} <= set(replaced)
    assert {os.path.dirname(p) for p in deleted} == {award_dir(a.slug) for a in awards}
    assert not list(journal.parent.glob("*-pending"))
    outside = tmp_path / "outside.txt"  # a journal's lines reach nothing outside the site
    outside.write_text("not the site's")
    hostile = [[str(outside)], ["../outside.txt"], ["../outside.txt", "", None]]
    if written == "a line each":
        with journal.open("a", encoding="utf-8") as more:
            more.writelines(json.dumps(entry) + "\n" for entry in hostile)
    else:
        journal.write_text(json.dumps({**head, "changes": [e for e in lines if len(e) == 3] + hostile[2:],
                                       "deleted": deleted + [e[0] for e in hostile[:2]]}))
    assert incremental(project).unchanged  # finishing the journal finished the update it stamped
    assert outside.read_text() == "not the site's"
    assert not journal.exists()
    assert b"restyled" in (project / "_site" / award_dir(awards[0].slug) / "index.html").read_bytes()
    same_as_full_build(project, tmp_path, "died-at-commit")


def test_the_credential_memo_keeps_every_note_written_in_batches(tmp_path: Path, monkeypatch):
    """A first build notes 10^5 credentials: they go to SQLite in batches, in one transaction."""
    from badgekiln.pipeline import build_memo

    monkeypatch.setattr(build_memo, "_BATCH", 2)
    memo = build_memo.BuildMemo(tmp_path, "code-1")
    notes = [(f"badge/{n:016x}", f"inputs-{n}", f"digest-{n}") for n in range(5)]
    for note in notes:
        memo.note(*note)
    assert len(memo.notes) == 1 and memo.db.in_transaction  # two batches written, one note waiting
    memo.save()
    again = build_memo.BuildMemo(tmp_path, "code-1")
    assert all(again.verified(*note) for note in notes) and not again.verified("badge/x", "inputs-0", "digest-0")
    again.save()
    other = build_memo.BuildMemo(tmp_path, "code-2")  # another Badgekiln: nothing counts
    assert not any(other.verified(*note) for note in notes)
    other.save()


def test_a_memo_from_another_badgekiln_is_dropped_whatever_its_tables(tmp_path: Path):
    """Another version's memo counts for nothing, and its tables (of another shape) go with it."""
    from badgekiln.pipeline import build_memo

    path = tmp_path / ".badgekiln-cache/memo.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        old.execute("INSERT INTO meta VALUES ('code', 'an older badgekiln')")
        old.execute("CREATE TABLE verified (key TEXT PRIMARY KEY, inputs TEXT, digest TEXT)")
        old.execute("CREATE TABLE credentials (key TEXT)")
    old.close()
    memo = build_memo.BuildMemo(tmp_path, "code-1")
    memo.note("badge/a", "inputs", "digest", "origin")
    memo.save()
    again = build_memo.BuildMemo(tmp_path, "code-1")
    assert again.verified("badge/a", "inputs", "digest") and again.inputs_from("badge/a", "origin") == "inputs"
    tables = {row[0] for row in again.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    again.save()
    assert "verified" not in tables and "credentials" in tables


def test_inputs_found_by_their_origin_are_the_inputs_computed_afresh(tmp_path: Path, monkeypatch):
    """A frozen credential's inputs are not computed again while its awards file, its ledger file
    and the build's context are as when they were noted: after every kind of change, the inputs
    taken that way are the ones computing them gives."""
    from badgekiln.commands.editing import Change, apply
    from badgekiln.credentials import endorsement, signing
    from badgekiln.diagnostics import Report
    from badgekiln.pipeline import build_memo
    from badgekiln.validate.values import parse_datetime

    taken: list[tuple[str, str]] = []
    real = build_memo.BuildMemo.inputs_from

    def spied(self, key, origin):
        found = real(self, key, origin)
        if found is not None:
            taken.append((key, found))
        return found

    monkeypatch.setattr(build_memo.BuildMemo, "inputs_from", spied)
    project = copy_project("example", tmp_path)

    def build_and_compare():
        """The build's model, and how many inputs it took by their origin (each compared)."""
        taken.clear()
        checked = incremental(project, keyring=testkeys.keyring()).checked
        model, state = checked.model, checked.signing
        for key, inputs in taken:
            award = next(a for a in model.awards if a.key == key)
            badge = model.badge(award.badge)
            issuer = model.issuer(badge.issuer)
            assert inputs == signing._memo_inputs({}, model.site, issuer, badge, state.did, award, endorsement.current(
                award, badge, issuer, model), state.record_of(key)), key
        return model, len(taken)

    def change(action: str, award) -> None:
        report, _ = apply(project, Change(action, award.slug, "Under review.", parse_datetime("2026-11-01")),
                          Report())
        assert not report.has_errors(), report.sorted()

    build_and_compare()  # signs everything, and notes where each credential's inputs come from
    append_award(project, "First Starter")
    model, found = build_and_compare()
    assert found > 0  # ... and takes them from there (the awards of the other awards files)
    append_award(project, "Second Starter")
    assert build_and_compare()[1] == found  # the ledger file the new award went into was noted as written
    plain = [a for a in model.awards if a.revocation is None and a.suspension is None and a.cpd is None
             and not a.earned_by and a.badge != "food-hygiene" and a.issued_on < parse_datetime("2026-11-01")]
    change("revoke", plain[0])
    assert build_and_compare()[1] > 0
    change("suspend", plain[-1])
    assert build_and_compare()[1] > 0
    badge = (project / "content/badges/food-hygiene.yaml").read_text()  # every awards file is read against it
    (project / "content/badges/food-safety-refresher.yaml").write_text(badge.replace("name: ", "name: Refresher ", 1))
    assert build_and_compare()[1] == 0
    append_award(project, "Third Starter")
    assert build_and_compare()[1] > 0


@pytest.mark.parametrize("twice_at", [3, 700])  # in the batch being noted, and against an earlier batch
@pytest.mark.parametrize("way", ["update", "whole", "whole, unrecorded"])
def test_a_write_refuses_two_files_for_one_path_and_changes_nothing(example, twice_at, way):
    from badgekiln.artifacts import Artifact
    from badgekiln.pipeline.site_state import SiteState
    from badgekiln.pipeline.writer import WriteError, update_site, write_site

    incremental(example)
    before = tree(example / "_site")
    files = [Artifact(f"extra/{n}.txt", b"x") for n in range(800)]
    files.insert(twice_at, Artifact("extra/1.txt", b"again"))
    state = SiteState(example, example / "_site")
    try:
        with pytest.raises(WriteError, match="two files want the output path extra/1.txt"):
            if way == "update":
                update_site(example / "_site", files, example, state)
            else:
                write_site(example / "_site", files, example, state=state if way == "whole" else None)
    finally:
        state.close()
    assert tree(example / "_site") == before


@pytest.mark.parametrize("form", ["one Kept item", "Reused file by file"])
@pytest.mark.parametrize("clash", ["fresh file at a kept file's path", "one award kept twice",
                                   "one award kept twice, batches apart"])
def test_an_update_refuses_a_kept_awards_path_twice_and_changes_nothing(example, clash, form):
    """An unchanged award is noted once for all its files (not once per file): a new file at one of
    its paths, or the same award kept twice, is still refused like any path published twice."""
    from badgekiln.artifacts import Artifact, Kept, Reused
    from badgekiln.pipeline.site_state import SiteState
    from badgekiln.pipeline.writer import WriteError, update_site

    incremental(example)
    before = tree(example / "_site")
    state = SiteState(example, example / "_site")
    try:
        owner = state.db.execute("SELECT owner FROM files WHERE owner != '' AND owner NOT LIKE 'shared:%' "
                                 "ORDER BY owner LIMIT 1").fetchone()[0]
        its_files = next(state.files_each([owner]))
        assert len(its_files) > 1
        kept = ([Artifact(its_files[0][0], Kept(len(its_files)), owner)] if form == "one Kept item" else
                [Artifact(path, Reused(str(example / "_site" / path), size), owner) for path, size in its_files])
        fresh = [Artifact(f"extra/{n}.txt", b"x") for n in range(800)]
        if clash == "fresh file at a kept file's path":
            twice = its_files[-1][0]
            files = kept + fresh + [Artifact(twice, b"again")]
        else:
            files = kept + fresh[:3 if clash == "one award kept twice" else 700] + kept
            twice = kept[0].path
        with pytest.raises(WriteError, match=f"two files want the output path {re.escape(twice)}"):
            update_site(example / "_site", files, example, state)
    finally:
        state.close()
    assert tree(example / "_site") == before


def test_shared_files_drawn_from_images_are_drawn_once(tmp_path: Path):
    """The raster of SVG badge art and the badges' share images are kept while their inputs are the same."""
    from badgekiln.load import images
    from badgekiln.render import pages

    project = copy_project("example", tmp_path)
    incremental(project)
    drawn: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(images, "png_for", lambda image: drawn.append(image.source) or b"")
        patch.setattr(pages, "badge_files", lambda badge, *args: drawn.append(badge.slug) or [])
        append_award(project, "New Starter")
        incremental(project)
    assert drawn == []
    same_as_full_build(project, tmp_path, "drawn once")
