"""Pathways: a badge earned by holding others, awarded automatically by the build.

Real builds of small fixture sites (tests/sites/minimal plus a few badges): the rule met and
not met, met late, `n_of` and `within`, a pathway that requires another, a component revoked
or suspended afterwards (the issued credential stays byte for byte, its status follows),
determinism, the commands, and the credentials judged by the IMS validator, the 1EdTech
schemas and Digital Bazaar's verifier. Invalid rules are tests/sites/invalid/*pathway*.
"""
from __future__ import annotations

import email
import json
import shutil
from email import policy
from pathlib import Path

import testkeys
from badgekiln.commands import due
from badgekiln.credentials import status_lists
from badgekiln.diagnostics import format_text
from badgekiln.model.routes import Routes
from conftest import FIXED_NOW, build, copy_project, ledger_awards, ledger_files, tree
from ob2validator import error_messages, serve_directory, validate
from test_cli import run
from test_independent_verifier import run_verifier
from test_signing import SCHEMA_NAMES, _schema_errors

BASE = "https://badges.minimal.example/"
ROUTES = Routes(BASE)  # every path and URL below comes from the route table, as the build's do
BADGE = """name: {name}
description: Holders know {name}.
image: images/badge.png
criteria: Passed the {name} course.
"""
EPOCH = {"SOURCE_DATE_EPOCH": str(int(FIXED_NOW.timestamp()))}


def _site(tmp_path: Path, awards: str, pathway: str | None = "  all_of: [first-aid, fire-warden]\n",
          champion: str = "") -> Path:
    """minimal + First Aid (3y), Fire Warden (1y), and Safety Champion earned by `pathway`."""
    project = copy_project("minimal", tmp_path)
    badges = project / "content/badges"
    (badges / "first-aid.yaml").write_text(BADGE.format(name="First Aid") + "valid_for: 3y\n")
    (badges / "fire-warden.yaml").write_text(BADGE.format(name="Fire Warden") + "valid_for: 1y\n")
    if pathway is not None:
        (badges / "champion.yaml").write_text(BADGE.format(name="Safety Champion") + champion + "pathway:\n" + pathway)
    (project / "content/awards/2026.yaml").write_text(awards)
    return project


def _built(project: Path, **options):
    checked = build(project, **options)
    assert checked.model is not None and not checked.report.has_errors(), format_text(checked.diagnostics)
    return checked.model


def automatic(model) -> dict[str, object]:
    """Automatic awards by recipient name (one each unless a test says otherwise)."""
    return {a.recipient_name: a for a in model.awards if a.earned_by}


def award_of(model, name: str, badge: str):
    return next(a for a in model.awards if a.recipient_name == name and a.badge == badge and not a.earned_by)


def _ledger(project: Path) -> dict:
    return ledger_awards(project)


def out(project: Path, path: str) -> Path:
    return project / "_site" / path


def _hosted(project: Path, award) -> dict:
    return json.loads(out(project, ROUTES.award_json(award)).read_text())


def page_url(award) -> str:
    return ROUTES.url(ROUTES.award_page(award))


def part_url(model, part) -> str:
    """The page URL of the award a pathway award was earned by."""
    return page_url(next(a for a in model.awards if a.key == part.key))


MET = """awards:
  - {badge: first-aid, recipient: ada, issued_on: 2026-01-10}
  - {badge: fire-warden, recipient: ada, issued_on: 2026-03-01}
  - {badge: first-aid, name: Bob Brown, email: " Bob.Brown@Example.COM ", issued_on: 2026-02-14}
  - {badge: safety, name: Cleo Diaz, email: cleo@example.com, issued_on: 2026-02-01}
  - {badge: fire-warden, name: Cleo Diaz, email: cleo@example.com, issued_on: 2026-02-01}
"""


def test_rule_met_awards_it_automatically_on_the_day_it_was_met(tmp_path: Path):
    project = _site(tmp_path, MET)
    # Bob's fire-warden award is in another file, his email typed differently: the same person
    (project / "content/awards/fire.yaml").write_text(
        "badge: fire-warden\nawards:\n  - name: Bob Brown\n    email: bob.brown@example.com\n"
        "    issued_on: 2026-04-20\n")
    model = _built(project)
    auto = automatic(model)
    assert sorted(auto) == ["Ada Lovelace", "Bob Brown"]  # Cleo lacks First Aid
    ada = auto["Ada Lovelace"]
    assert ada.badge == "champion" and ada.issued_on.date().isoformat() == "2026-03-01" and ada.expires is None
    parts = [award_of(model, "Ada Lovelace", "first-aid"), award_of(model, "Ada Lovelace", "fire-warden")]
    assert [(p.key, p.slug, p.badge_name) for p in ada.earned_by] == [
        (parts[0].key, parts[0].slug, "First Aid"), (parts[1].key, parts[1].slug, "Fire Warden")]
    assert auto["Bob Brown"].issued_on.date().isoformat() == "2026-04-20"
    # minted in the ledger like any award, with the awards it was earned by
    entry = _ledger(project)[ada.key]
    assert ada.key.endswith("#pathway-1") and ada.key.startswith("champion/")
    assert entry["earned_by"] == [parts[0].key, parts[1].key] and entry["issued_on"] == "2026-03-01T00:00:00Z"
    assert {"slug", "salt", "status_index"} <= set(entry)
    # OB 2.0: evidence links the pages of the awards it was earned by
    hosted = _hosted(project, ada)
    assert hosted["issuedOn"] == "2026-03-01T00:00:00Z" and "expires" not in hosted
    assert hosted["evidence"] == [{"type": "Evidence", "id": page_url(p), "name": name}
                                  for p, name in zip(parts, ("First Aid", "Fire Warden"))]
    # the award page lists them; the badge page draws the pathway; the components point to it
    page = out(project, ROUTES.award_page(ada)).read_text()
    assert "How it was earned" in page and all(f'href="{page_url(p)}"' in page for p in parts)
    badge_page = out(project, ROUTES.badge_page(model.badge("champion"))).read_text()
    assert 'class="pathway-diagram"' in badge_page and "all 2 of these badges at the same time" in badge_page
    for slug in ("first-aid", "fire-warden"):
        component = model.badge(slug)
        assert f'href="{ROUTES.url(ROUTES.badge_page(component))}"' in badge_page
        component_page = out(project, ROUTES.badge_page(component)).read_text()
        assert "Part of a pathway" in component_page
        assert f'href="{ROUTES.url(ROUTES.badge_page(model.badge("champion")))}"' in component_page
    assert "Part of a pathway" not in out(project, ROUTES.badge_page(model.badge("safety"))).read_text()
    assert not any(b"bob.brown@example.com" in data.lower() for data in tree(project / "_site").values())


NOT_MET = """awards:
  # never held at once: First Aid had expired when Fire Warden came
  - {badge: first-aid, recipient: ada, issued_on: 2021-01-10}
  - {badge: fire-warden, recipient: ada, issued_on: 2025-01-10}
  # revoked: never counts
  - badge: first-aid
    name: Bob Brown
    email: bob@example.com
    issued_on: 2026-01-10
    revoked: {on: 2026-05-01, reason: Issued in error}
  - {badge: fire-warden, name: Bob Brown, email: bob@example.com, issued_on: 2026-03-01}
  # suspended when Fire Warden came; met on the day it is reinstated
  - badge: first-aid
    name: Cleo Diaz
    email: cleo@example.com
    issued_on: 2026-01-10
    suspended: {on: 2026-02-01, reason: Under review}
    reinstated: {on: 2026-04-15}
  - {badge: fire-warden, name: Cleo Diaz, email: cleo@example.com, issued_on: 2026-03-01}
  # only one of the two
  - {badge: fire-warden, name: Dan Eriksen, email: dan@example.com, issued_on: 2026-03-01}
"""


def test_rule_not_met(tmp_path: Path):
    model = _built(_site(tmp_path, NOT_MET))
    auto = automatic(model)
    assert sorted(auto) == ["Cleo Diaz"]
    assert auto["Cleo Diaz"].issued_on.date().isoformat() == "2026-04-15"
    assert [p.key for p in auto["Cleo Diaz"].earned_by] == [award_of(model, "Cleo Diaz", "first-aid").key,
                                                           award_of(model, "Cleo Diaz", "fire-warden").key]


LATE = """  # long expired by the time the rule is written
  - {badge: first-aid, name: Eve Ng, email: eve@example.com, issued_on: 2022-06-01}
  - {badge: fire-warden, name: Eve Ng, email: eve@example.com, issued_on: 2024-09-01}
"""


def test_met_late_is_issued_on_the_day_the_components_met_it(tmp_path: Path):
    project = _site(tmp_path, MET + LATE, pathway=None)
    before = _built(project)
    assert not automatic(before)
    entries, files = _ledger(project), tree(project / "_site")
    # the provider adds the pathway months later
    (project / "content/badges/champion.yaml").write_text(
        BADGE.format(name="Safety Champion") + "pathway:\n  all_of: [first-aid, fire-warden]\n")
    model = _built(project)
    auto = automatic(model)
    assert {name: a.issued_on.date().isoformat() for name, a in auto.items()} == {
        "Ada Lovelace": "2026-03-01", "Eve Ng": "2024-09-01"}  # dates of the components, not of the rule
    assert auto["Eve Ng"].revocation is None  # its components expiring changes nothing
    after = _ledger(project)
    assert {k: v for k, v in after.items() if k in entries} == entries  # nothing issued before changed
    assert set(after) - set(entries) == {a.key for a in auto.values()}
    for award in before.awards:
        assert out(project, ROUTES.award_json(award)).read_bytes() == files[ROUTES.award_json(award)]


def test_issued_automatic_awards_are_frozen_when_the_rule_changes(tmp_path: Path):
    project = _site(tmp_path, MET)
    ada = automatic(_built(project))["Ada Lovelace"]
    frozen = (ada.key, ada.slug, ada.salt, ada.issued_on, ada.expires, ada.status_index, ada.earned_by)
    hosted = out(project, ROUTES.award_json(ada)).read_bytes()
    champion = project / "content/badges/champion.yaml"
    for rule in ("pathway:\n  all_of: [first-aid, fire-warden, safety]\n", ""):  # stricter, then none at all
        champion.write_text(BADGE.format(name="Safety Champion") + rule)
        model = _built(project, frozen=True)  # the ledger does not change
        [again] = automatic(model).values()
        assert (again.key, again.slug, again.salt, again.issued_on, again.expires, again.status_index,
                again.earned_by) == frozen
        assert out(project, ROUTES.award_json(ada)).read_bytes() == hosted
        assert "How it was earned" in out(project, ROUTES.award_page(ada)).read_text()


def test_n_of_within_a_span(tmp_path: Path):
    awards = """awards:
  - {badge: first-aid, recipient: ada, issued_on: 2026-01-10}
  - {badge: safety, recipient: ada, issued_on: 2026-07-10}
  - {badge: first-aid, name: Bob Brown, email: bob@example.com, issued_on: 2025-01-10}
  - {badge: fire-warden, name: Bob Brown, email: bob@example.com, issued_on: 2025-07-11}
  - {badge: first-aid, name: Cleo Diaz, email: cleo@example.com, issued_on: 2025-01-10}
  - {badge: fire-warden, name: Cleo Diaz, email: cleo@example.com, issued_on: 2025-03-01}
  - {badge: safety, name: Cleo Diaz, email: cleo@example.com, issued_on: 2025-05-01}
"""
    rule = "  n_of: 2\n  badges: [first-aid, fire-warden, safety]\n  within: 6m\n"
    project = _site(tmp_path, awards, pathway=rule, champion="valid_for: 2y\n")
    model = _built(project)
    auto = automatic(model)
    assert sorted(auto) == ["Ada Lovelace", "Cleo Diaz"]  # Bob's two are six months and a day apart
    assert auto["Ada Lovelace"].issued_on.date().isoformat() == "2026-07-10"  # exactly six months: within
    cleo = auto["Cleo Diaz"]
    assert cleo.issued_on.date().isoformat() == "2025-03-01" and cleo.expires.date().isoformat() == "2027-03-01"
    assert [p.badge for p in cleo.earned_by] == ["first-aid", "fire-warden"]  # n of them, in rule order
    page = out(project, ROUTES.badge_page(model.badge("champion"))).read_text()
    assert "2 of these 3 badges at the same time" in page and "within 6 months of each other" in page
    assert ">2 of 3<" in page


def test_a_pathway_can_require_another_and_a_hand_made_award_is_not_doubled(tmp_path: Path):
    awards = MET + """  - {badge: safety, recipient: ada, issued_on: 2026-02-01}
  - {badge: fire-warden, name: Bob Brown, email: bob@example.com, issued_on: 2026-05-02}
  # recognised by hand (prior learning) before the pathway existed
  - {badge: champion, name: Bob Brown, email: bob@example.com, issued_on: 2026-01-05}
  - {badge: safety, name: Bob Brown, email: bob@example.com, issued_on: 2026-06-01}
"""
    project = _site(tmp_path, awards)
    (project / "content/badges/mentor.yaml").write_text(
        BADGE.format(name="Safety Mentor") + "pathway:\n  all_of: [champion, safety]\n")
    model = _built(project)
    mentors = {a.recipient_name: a for a in model.awards if a.badge == "mentor"}
    champions = [a for a in model.awards if a.badge == "champion"]
    assert sorted((a.recipient_name, bool(a.earned_by)) for a in champions) == [("Ada Lovelace", True),
                                                                                   ("Bob Brown", False)]
    # Ada: Safety 2026-02-01 and her automatic Champion of 2026-03-01; Bob: his own Champion and Safety
    assert {n: a.issued_on.date().isoformat() for n, a in mentors.items()} == {
        "Ada Lovelace": "2026-03-01", "Bob Brown": "2026-06-01"}
    ada_champion = next(a for a in champions if a.earned_by)
    assert [p.key for p in mentors["Ada Lovelace"].earned_by][0] == ada_champion.key


def test_earned_again_by_a_component_issued_after_it_expired(tmp_path: Path):
    awards = """awards:
  - {badge: first-aid, recipient: ada, issued_on: 2024-01-10}
  - {badge: fire-warden, recipient: ada, issued_on: 2024-03-01}
  - {badge: fire-warden, recipient: ada, id: again, issued_on: 2025-06-01}
  - {badge: first-aid, name: Bob Brown, email: bob@example.com, issued_on: 2024-01-10}
  - {badge: fire-warden, name: Bob Brown, email: bob@example.com, issued_on: 2024-03-01}
  - {badge: fire-warden, name: Bob Brown, email: bob@example.com, id: early, issued_on: 2025-02-01}
"""
    model = _built(_site(tmp_path, awards, champion="valid_for: 1y\n"))
    mine = {}
    for award in sorted((a for a in model.awards if a.earned_by), key=lambda a: a.key):
        mine.setdefault(award.recipient_name, []).append(
            (award.key.rpartition("#")[2], award.issued_on.date().isoformat(), award.expires.date().isoformat()))
    assert mine == {
        "Ada Lovelace": [("pathway-1", "2024-03-01", "2025-03-01"), ("pathway-2", "2025-06-01", "2026-06-01")],
        # renewed while the first still stood: nothing new starts after it expired
        "Bob Brown": [("pathway-1", "2024-03-01", "2025-03-01")]}
    second = max((a for a in model.awards if a.earned_by and a.recipient_name == "Ada Lovelace"), key=lambda a: a.key)
    assert [p.key for p in second.earned_by] == [award_of(model, "Ada Lovelace", "first-aid").key,
                                                 next(a.key for a in model.awards if a.key.endswith("/again"))]


REVOKABLE = """awards:
  - badge: first-aid
    recipient: ada
    issued_on: 2026-01-10
  - badge: fire-warden
    recipient: ada
    issued_on: 2026-03-01
"""


def test_a_component_revoked_afterwards_revokes_it_and_the_credential_never_changes(tmp_path: Path):
    project = _site(tmp_path, REVOKABLE)
    keyring = testkeys.keyring()
    ada = automatic(_built(project, keyring=keyring))["Ada Lovelace"]
    credential = out(project, ROUTES.award_credential_json(ada)).read_bytes()
    entry = _ledger(project)[ada.key]
    first_aid = ada.earned_by[0]

    refused = run(project, "revoke", ada.slug, "--reason", "Wrong", env=EPOCH)
    assert refused.returncode == 1 and "[E309]" in refused.stderr and first_aid.slug in refused.stderr
    done = run(project, "revoke", first_aid.slug, "--reason", "Issued in error", "--on", "2026-06-15", env=EPOCH)
    assert done.returncode == 0, done.stderr
    assert "follow its status automatically: Safety Champion" in done.stdout

    model = _built(project, keyring=keyring)
    revoked = automatic(model)["Ada Lovelace"]
    assert revoked.key == ada.key and revoked.revocation.on.date().isoformat() == "2026-06-15"
    reason = "Earned by holding First Aid, which was revoked: Issued in error"
    assert revoked.revocation.reason == reason
    assert out(project, ROUTES.award_credential_json(ada)).read_bytes() == credential  # never changes
    assert _ledger(project)[ada.key] == entry
    assert _hosted(project, ada) == {"@context": "https://w3id.org/openbadges/v2",
                                     "id": ROUTES.url(ROUTES.award_json(ada)), "revoked": True,
                                     "revocationReason": reason}
    status = json.loads(out(project, ROUTES.status_list(model.issuer("acme"), "revocation")).read_text())
    bits = status_lists.decode(status["credentialSubject"]["encodedList"])
    flagged = {a.badge for a in model.awards if status_lists.bit(bits, a.status_index)}
    assert flagged == {"first-aid", "champion"}  # the component and, automatically, the pathway award
    assert reason in out(project, ROUTES.award_page(ada)).read_text()

    # a retake of First Aid completes the rule again: a new automatic award, the old one stays revoked
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text() + "  - badge: first-aid\n    recipient: ada\n    id: retake\n"
                                           "    issued_on: 2026-07-01\n")
    model = _built(project, keyring=keyring)
    mine = sorted((a for a in model.awards if a.earned_by), key=lambda a: a.key)
    assert [(a.key.rpartition("#")[2], a.issued_on.date().isoformat(), a.revocation is None) for a in mine] == [
        ("pathway-1", "2026-03-01", False), ("pathway-2", "2026-07-01", True)]
    assert out(project, ROUTES.award_credential_json(ada)).read_bytes() == credential


def test_a_suspended_component_suspends_it_until_reinstated(tmp_path: Path):
    project = _site(tmp_path, REVOKABLE)
    ada = automatic(_built(project))["Ada Lovelace"]
    hosted = _hosted(project, ada)
    awards = project / "content/awards/2026.yaml"
    suspended = REVOKABLE.replace("    issued_on: 2026-03-01\n", "    issued_on: 2026-03-01\n"
                                  "    suspended: {on: 2026-08-01, reason: Under review}\n")
    awards.write_text(suspended)
    model = _built(project)
    paused = automatic(model)["Ada Lovelace"]
    assert paused.suspension.reason == "Earned by holding Fire Warden, which is suspended: Under review"
    assert _hosted(project, ada)["revocationReason"].startswith("Suspended: Earned by holding Fire Warden")
    status = json.loads(out(project, ROUTES.revocation_list_1edtech(model.issuer("acme"))).read_text())
    assert {e["id"] for e in status["revokedCredential"]} == {ROUTES.url(ROUTES.award_credential_json(a))
                                                              for a in model.awards if a.badge != "first-aid"}
    awards.write_text(suspended + "    reinstated: {on: 2026-09-01}\n")
    back = automatic(_built(project))["Ada Lovelace"]
    assert back.suspension is None and back.reinstatement.on.date().isoformat() == "2026-09-01"
    assert _hosted(project, ada) == hosted
    assert "Reinstated on 1 September 2026" in out(project, ROUTES.award_page(ada)).read_text()


def test_rebuilds_are_byte_identical(tmp_path: Path):
    project = _site(tmp_path, MET + LATE + """  - {badge: first-aid, name: Fay Li, email: fay@example.com,
     issued_on: 2026-01-10, revoked: {on: 2026-05-01, reason: Issued in error}}
  - {badge: fire-warden, name: Fay Li, email: fay@example.com, issued_on: 2026-03-01}
""")
    _built(project, out=tmp_path / "one")
    ledger_bytes = ledger_files(project)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    _built(copy, out=tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert ledger_files(copy) == ledger_bytes  # a second build mints nothing
    # the command line in other processes (other string hashing): the same bytes, incremental or not
    for seed, out in (("1", "three"), ("2", "four")):
        result = run(project, "build", "--out", str(tmp_path / out), env={**EPOCH, "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        assert tree(tmp_path / out) == tree(tmp_path / "one")
    assert ledger_files(project) == ledger_bytes


def test_notify_announces_an_automatic_award_and_due_lists_it(tmp_path: Path):
    project = _site(tmp_path, REVOKABLE.replace("2026-03-01", "2025-12-15"), champion="valid_for: 1y\n")
    site = project / "content/site.yaml"
    site.write_text(site.read_text() + 'smtp:\n  host: 127.0.0.1\n  from: "Badges <badges@minimal.example>"\n')
    ada = automatic(_built(project))["Ada Lovelace"]
    outbox = tmp_path / "outbox"
    result = run(project, "notify", "--dry-run", "--outbox", str(outbox), env=EPOCH)
    assert result.returncode == 0, result.stdout + result.stderr
    messages = [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in outbox.glob("*.eml")]
    [message] = [m for m in messages if "Safety Champion" in m["Subject"]]
    champion = message.get_body(("plain",)).get_content()
    assert message["To"] == "Ada Lovelace <ada@example.com>" and page_url(ada) in champion
    assert "You earned it automatically by holding First Aid, Fire Warden." in champion
    report, text = due.run(project, "60d", False, now=FIXED_NOW)
    assert not report.has_errors()
    assert "Safety Champion: Ada Lovelace" in text and "2026-12-15" in text  # the pathway award expires


def test_credentials_pass_the_ims_validator_the_1edtech_schemas_and_digital_bazaar(tmp_path: Path):
    project = _site(tmp_path, MET + "  - {badge: fire-warden, name: Bob Brown, email: bob.brown@example.com, "
                                    "issued_on: 2026-04-20}\n")
    model = _built(project, keyring=testkeys.keyring())
    auto = list(automatic(model).values())
    credentials = [out(project, ROUTES.award_credential_json(a)) for a in auto]
    for path, award in zip(credentials, auto):
        doc = json.loads(path.read_text())
        assert [e["id"] for e in doc["evidence"]] == [part_url(model, p) for p in award.earned_by]
        assert doc["validFrom"] == doc["awardedDate"] == award.issued_on.strftime("%Y-%m-%dT%H:%M:%SZ")
        for name in SCHEMA_NAMES:
            assert _schema_errors(name, doc) == [], (name, path.name)
    results = run_verifier(credentials, "--now", "valid-from", did_doc=out(project, ROUTES.did_document()))
    assert len(results) == 2 and all(r["verified"] for r in results.values()), results
    # OB 2.0, fetched over HTTP by the IMS validator from the site served on 127.0.0.1
    served = tmp_path / "served"
    with serve_directory(served) as base:
        checked = build(project, served, base_url=base)
        assert checked.model is not None, checked.diagnostics
        for award in (a for a in checked.model.awards if a.earned_by):
            local = Routes(base)
            [result] = validate([local.url(local.award_json(award))], recipient=award.email)
            assert result["valid"] and result["errorCount"] == 0, error_messages(result)
