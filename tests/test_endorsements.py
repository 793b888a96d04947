"""Endorsements in both directions, on real fixture sites served on 127.0.0.1.

- The OB 3.0 spec example's signed endorsement, given to a fixture site, is accepted and embedded
  (the tampered, expired, revoked, unknown-badge and not-fetched cases are tests/sites/invalid/E70*).
- Site A endorses a badge of site B (`badgekiln endorse`, signed at build, published at a stable
  URL); B receives it (`badgekiln endorsements add URL`) and an OB 2.0 Endorsement from a third
  site; B's credentials carry the OB 3.0 one, B's BadgeClass lists the OB 2.0 one.
- What we sign passes the 1EdTech EndorsementCredential schemas (formal and live) and Digital
  Bazaar's verifier; B's credentials still pass the AchievementCredential schemas, Digital Bazaar
  and the IMS OB 2.0 validator; B's award page, in Chromium, shows both endorsements verified.
- Issued credentials never change: one signed before an endorsement arrived stays byte-identical,
  a new one carries it, and stays identical after the endorsement leaves content.
- Revoking a given endorsement sets its bit in the issuer's status lists; the receiver's next
  `endorsements fetch` records it and its build refuses it (E704).
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from badgekiln.commands import editing, endorsements
from badgekiln.credentials import status_lists
from badgekiln.crypto import dataintegrity
from badgekiln.diagnostics import format_text
from badgekiln.render import pages
from badgekiln.verify import checker
from badgekiln.verify.fetch import Fetcher
from badgekiln.verify.report import format_text as verification_text
from conftest import FIXED_NOW, TESTS, award_dir, build, copy_project, tree
from ob2validator import validate
from test_browser import browser  # noqa: F401 (Chromium, as test_browser launches it)
from test_independent_verifier import run_verifier
from test_pages import signing_key_in_env
from tools.make_endorsement_fixtures import ENDORSER, KEY, PUBLIC, endorsement

SPEC_ENDORSEMENT = TESTS / "vectors/ob-v3p0-spec-examples/example-37-sample-endorsementcredential.ldp.json"
ENDORSEMENT_SCHEMAS = checker.ENDORSEMENT_SCHEMAS
ACHIEVEMENT_SCHEMAS = checker.ACHIEVEMENT_SCHEMAS


def schema_errors(doc: dict, names) -> dict[str, list[str]]:
    return {name: sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                         for e in checker.schema_validator(name).iter_errors(doc)) for name in names}


class _CorsHandler(http.server.SimpleHTTPRequestHandler):
    """A static host that, like GitHub Pages, lets any origin read its files (browser verifiers need it)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".html": "text/html; charset=utf-8"}

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_CorsHandler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _publish_at(project: Path, base: str, title: str | None = None, issuer: str | None = None) -> None:
    """Set the site's base_url to where the test serves it (and rename it), as a provider would."""
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace("https://badges.minimal.example/", base)
                    .replace("Minimal Badges", title or "Minimal Badges"))
    acme = project / "content/issuers/acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Training", issuer or "Acme Training"))


def ob2_endorsement_site(folder: Path, base: str, badge_url: str) -> str:
    """A third provider's OB 2.0 hosted Endorsement of B's badge (and its issuer Profile)."""
    context = "https://w3id.org/openbadges/v2"
    (folder / "issuer.json").write_text(json.dumps({
        "@context": context, "type": "Issuer", "id": f"{base}issuer.json", "name": "Regional Safety Board",
        "url": "https://board.example/", "email": "board@board.example"}))
    (folder / "endorsement.json").write_text(json.dumps({
        "@context": context, "type": "Endorsement", "id": f"{base}endorsement.json",
        "claim": {"id": badge_url, "endorsementComment": "Recognised by the *Regional Safety Board*."},
        "issuer": f"{base}issuer.json", "issuedOn": "2026-01-15T00:00:00Z", "verification": {"type": "HostedBadge"}}))
    return f"{base}endorsement.json"


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Sites A and B (and C, OB 2.0 only), built and served on 127.0.0.1; A endorses B's badge."""
    tmp = tmp_path_factory.mktemp("endorse")
    a, b = copy_project("minimal", tmp / "a"), copy_project("minimal", tmp / "b")
    a_out, b_out, c_out = tmp / "a-site", tmp / "b-site", tmp / "c-site"
    with serve(a_out) as a_base, serve(b_out) as b_base, serve(c_out) as c_base, signing_key_in_env():
        _publish_at(a, a_base, "Accreditation Council Badges", "Test Accreditation Council")
        _publish_at(b, b_base)
        first = build(b, b_out)  # B publishes its badge before anyone endorses it
        assert first.ok, first.diagnostics
        badge_url = f"{b_base}badges/safety.json"
        report, message = endorsements.endorse(a, badge_url, "Meets the council's **safety** standard.", "3y",
                                               None, None, None, FIXED_NOW, Fetcher())
        assert not report.has_errors(), format_text(report.sorted())
        built_a = build(a, a_out)
        assert built_a.ok, built_a.diagnostics
        given = built_a.model.given[0]
        a_url = f"{a_base}endorsements/{given.slug}.json"
        c_url = ob2_endorsement_site(c_out, c_base, badge_url)
        fetcher = Fetcher(site=a_out)  # A's documents (its DID document is https://, served here over http)
        for source in (a_url, c_url):
            report, _ = endorsements.add(b, source, None, FIXED_NOW, fetcher)
            assert not report.has_errors(), format_text(report.sorted())
        b_before = tree(b_out)
        awards = b / "content/awards/2026.yaml"  # awarded after the endorsement arrived
        awards.write_text(awards.read_text() + "  - name: Zoe New\n    email: zoe.new@example.org\n")
        built_b = build(b, b_out)
        assert built_b.ok, built_b.diagnostics
        newest = next(a for a in built_b.model.awards if a.recipient_name == "Zoe New")
        yield SimpleNamespace(a=a, b=b, a_out=a_out, b_out=b_out, a_base=a_base, b_base=b_base, a_url=a_url,
                              c_url=c_url, given=given, message=message, a_checked=built_a, b_checked=built_b,
                              b_before=b_before, badge_url=badge_url, tmp=tmp, newest=newest,
                              new_credential=b_out / award_dir(newest.slug) / "credential.json")


def test_endorse_adds_an_entry_and_the_build_signs_and_publishes_it(sites):
    assert "given-endorsements.yaml" in sites.message and sites.a_url in sites.message
    text = (sites.a / "content/given-endorsements.yaml").read_text()
    assert f"about: \"{sites.badge_url}\"" in text and "name: \"Safety Basics\"" in text  # name from B's JSON
    assert sites.given.about_name == "Safety Basics" and sites.given.expires.year == FIXED_NOW.year + 3
    doc = json.loads((sites.a_out / f"endorsements/{sites.given.slug}.json").read_text())
    assert doc["id"] == sites.a_url and doc["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert doc["issuer"]["id"].startswith("did:web:127.0.0.1") and doc["credentialSubject"]["id"] == sites.badge_url
    assert doc["credentialStatus"]["statusListCredential"] == f"{sites.a_base}status/acme/revocation.json"
    ledger = json.loads((sites.a / "content/ledger.json").read_text())["endorsements"]["given"][sites.given.slug]
    assert ledger["status_index"] == sites.given.status_index and ledger["credential"]["proofValue"]
    page = (sites.a_out / "endorsements/index.html").read_text()
    assert "Endorsements we give" in page and "Safety Basics" in page and "<strong>safety</strong>" in page


def test_every_endorsement_we_sign_passes_the_schemas_and_digital_bazaar(sites):
    path = sites.a_out / f"endorsements/{sites.given.slug}.json"
    doc = json.loads(path.read_text())
    assert schema_errors(doc, ENDORSEMENT_SCHEMAS) == {name: [] for name in ENDORSEMENT_SCHEMAS}
    results = run_verifier([path], "--now", FIXED_NOW.isoformat().replace("+00:00", "Z"),
                           did_doc=sites.a_out / ".well-known/did.json")
    assert results[path.name]["verified"], results
    tampered = sites.tmp / "tampered-endorsement.json"
    tampered.write_text(json.dumps({**doc, "credentialSubject": {**doc["credentialSubject"],
                                                                "endorsementComment": "Anything goes."}}))
    results = run_verifier([tampered], "--now", FIXED_NOW.isoformat().replace("+00:00", "Z"),
                           did_doc=sites.a_out / ".well-known/did.json")
    assert not results[tampered.name]["verified"]


def test_the_receiver_records_the_fetch_and_embeds_the_endorsement(sites):
    folder = sites.b / "content/endorsements"
    records = {p.name: json.loads(p.read_text()) for p in folder.glob("*.check.json")}
    ob3 = next(r for r in records.values() if r["fetched"]["url"] == sites.a_url)
    assert ob3["status"]["state"] == "clear" and list(ob3["keys"]) == [
        json.loads(ob3["fetched"]["text"])["proof"][0]["verificationMethod"]]
    ob2 = next(r for r in records.values() if r["fetched"]["url"] == sites.c_url)
    assert ob2["endorser"]["name"] == "Regional Safety Board" and ob2["status"]["state"] == "clear"
    model = sites.b_checked.model
    assert {e.version for e in model.endorsements} == {"ob2", "ob3"}
    credential = json.loads(sites.new_credential.read_text())
    embedded = credential["credentialSubject"]["achievement"]["endorsement"]
    assert [e["id"] for e in embedded] == [sites.a_url]  # OB 2.0 Endorsements have no place in OB 3.0
    badge_class = json.loads((sites.b_out / "badges/safety.json").read_text())
    assert badge_class["endorsement"] == [sites.c_url]  # OB 2.0 lists only OB 2.0 Endorsements
    page = (sites.b_out / "badges/safety/index.html").read_text()
    assert "Endorsed by <a href=\"https://accreditation" not in page
    assert "Test Accreditation Council" in page and "Regional Safety Board" in page
    assert "<em>Regional Safety Board</em>" in page  # the comment is rendered (sanitised) Markdown


def test_credentials_carrying_endorsements_still_pass_schemas_digital_bazaar_and_the_ims_validator(sites):
    paths = sorted((sites.b_out / "a").glob("*/*/credential.json"))
    assert json.loads(sites.new_credential.read_text())["credentialSubject"]["achievement"]["endorsement"]
    for path in paths:
        doc = json.loads(path.read_text())
        assert schema_errors(doc, ACHIEVEMENT_SCHEMAS) == {name: [] for name in ACHIEVEMENT_SCHEMAS}
    results = run_verifier(paths, "--now", FIXED_NOW.isoformat().replace("+00:00", "Z"),
                           did_doc=sites.b_out / ".well-known/did.json")
    assert all(r["verified"] for r in results.values()), results
    award = sites.newest
    [result] = validate([f"{sites.b_base}{award_dir(award.slug)}/assertion.json"], recipient=award.email)
    assert result["valid"], result["messages"]


def spec_endorsed_site(tmp_path: Path) -> Path:
    """tests/sites/minimal whose issuer is the one the OB 3.0 spec example endorses, with that endorsement."""
    project = copy_project("minimal", tmp_path)
    acme = project / "content/issuers/acme.yaml"
    acme.write_text(acme.read_text().replace("https://acme.example/", "https://1edtech.edu/issuers/565049"))
    (project / "content/endorsements").mkdir()
    shutil.copy(SPEC_ENDORSEMENT, project / "content/endorsements/sde.json")
    return project


def test_verify_reports_each_embedded_endorsement(tmp_path):
    project = spec_endorsed_site(tmp_path)
    with signing_key_in_env():
        assert build(project, tmp_path / "out").ok
    credential = next((tmp_path / "out/a").glob("*/*/credential.json"))
    result = checker.verify(str(credential), site=tmp_path / "out", now=FIXED_NOW, network=False)
    assert result.valid, verification_text(result)
    [check] = [c for c in result.findings[0].checks if c.name == "endorsement"]
    assert check.ok is True and check.message == "by State Department of Education: valid"
    doc = json.loads(credential.read_text())
    doc["issuer"]["endorsement"][0]["credentialSubject"]["endorsementComment"] = "forged"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    result = checker.verify(str(forged), site=tmp_path / "out", now=FIXED_NOW, network=False)
    assert not result.valid
    failed = [c.message for c in result.findings[0].checks if c.ok is False]
    assert any(m.startswith("by State Department of Education: proof:") for m in failed), failed


def test_issued_credentials_never_change_and_new_ones_carry_the_current_set(sites, tmp_path):
    before = {k: v for k, v in sites.b_before.items() if k.endswith("/credential.json")}
    after = tree(sites.b_out)
    assert before and all(after[k] == v for k, v in before.items()), "an issued credential changed"
    assert all("endorsement" not in json.loads(v)["credentialSubject"]["achievement"] for v in before.values())


def test_frozen_credentials_embed_what_they_embedded_even_after_the_endorsement_leaves(tmp_path):
    project = copy_project("minimal", tmp_path)
    acme = project / "content/issuers/acme.yaml"
    acme.write_text(acme.read_text().replace("https://acme.example/", "https://1edtech.edu/issuers/565049"))
    with signing_key_in_env():
        first = build(project, tmp_path / "one")
        (project / "content/endorsements").mkdir()
        shutil.copy(SPEC_ENDORSEMENT, project / "content/endorsements/sde.json")
        awards = project / "content/awards/2026.yaml"
        original_awards = awards.read_text()
        awards.write_text(original_awards + "  - name: Zoe New\n    email: zoe.new@example.org\n")
        second = build(project, tmp_path / "two")
        assert second.ok, format_text(second.diagnostics)
        # a preview signs every credential itself, each with the endorsements current now (its check
        # of the frozen ones, which embed none, must not hand those to the preview's pages)
        preview = build(project, tmp_path / "preview", base_url="http://127.0.0.1:8123/")
        assert preview.ok, format_text(preview.diagnostics)
        (project / "content/endorsements/sde.json").unlink()
        third = build(project, tmp_path / "three")
        assert third.ok, format_text(third.diagnostics)
    one, two, three = tree(tmp_path / "one"), tree(tmp_path / "two"), tree(tmp_path / "three")
    old = [k for k in one if k.endswith("/credential.json")]
    new = [k for k in two if k.endswith("/credential.json") and k not in one]
    assert old and len(new) == 1
    assert all(two[k] == one[k] == three[k] for k in old)
    assert "endorsement" in json.loads(two[new[0]])["issuer"] and three[new[0]] == two[new[0]]
    previewed = [v for k, v in tree(tmp_path / "preview").items() if k.endswith("/credential.json")]
    assert len(previewed) == len(old) + 1 and all("endorsement" in json.loads(v)["issuer"] for v in previewed)
    issuer_page = "issuers/acme/index.html"
    assert b"State Department of Education" in two[issuer_page] and b"State Department" not in three[issuer_page]
    assert first.ok


def test_the_spec_example_endorsement_is_accepted(tmp_path):
    project = spec_endorsed_site(tmp_path)
    checked = build(project, tmp_path / "out")
    assert checked.ok, format_text(checked.diagnostics)
    # its 1EdTechRevocationList is at a host this test cannot reach: accepted, with that said
    assert [d.code for d in checked.diagnostics] == ["W701"]
    [endorsement] = checked.model.endorsements
    assert endorsement.endorser == "State Department of Education" and endorsement.targets == (("issuer", "acme"),)
    page = (tmp_path / "out/issuers/acme/index.html").read_text()
    assert "Endorsed by <a href=\"https://state.gov/issuers/565049\">State Department of Education</a>" in page
    assert "1EdTech University is in good standing" in page


def test_endorser_origins_in_the_page_policy_are_plain_hosts():
    """Origins come from third-party documents: nothing that could end a CSP source list gets in."""
    hostile = SimpleNamespace(url="https://ok.example/e.json", document={
        "issuer": {"id": "did:web:evil.example;form-action *"},
        "credentialStatus": {"id": "https://x.example;script-src 'unsafe-inline'/list"}})
    assert pages.endorser_origins((hostile,)) == ["https://ok.example"]


def test_a_signed_hostile_endorsement_cannot_inject_html_or_links(tmp_path):
    """A received endorsement is third-party text: its comment is sanitised, its links http(s) only."""
    project = copy_project("minimal", tmp_path)
    (project / "content/endorsements").mkdir()
    doc = endorsement("https://badges.minimal.example/badges/safety.json",
                      comment="<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))")
    doc["issuer"]["url"] = "javascript:alert(4)"
    doc = dataintegrity.sign(dataintegrity.unsecured(doc), KEY, verification_method=f"{ENDORSER}#{PUBLIC}",
                             created="2025-01-01T00:00:00Z")
    (project / "content/endorsements/council.json").write_text(json.dumps(doc))
    checked = build(project, tmp_path / "out")
    assert checked.ok, format_text(checked.diagnostics)
    page = (tmp_path / "out/badges/safety/index.html").read_text()
    assert "Test Accreditation Council" in page
    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page


def test_an_altered_hostile_endorsement_is_refused(tmp_path):
    """Script in a comment or a javascript: link cannot be slipped into a signed endorsement."""
    project = copy_project("minimal", tmp_path)
    acme = project / "content/issuers/acme.yaml"
    acme.write_text(acme.read_text().replace("https://acme.example/", "https://1edtech.edu/issuers/565049"))
    (project / "content/endorsements").mkdir()
    doc = json.loads(SPEC_ENDORSEMENT.read_text())
    doc["credentialSubject"]["endorsementComment"] = "<script>alert(1)</script>[x](javascript:alert(2))"
    doc["issuer"]["url"] = "javascript:alert(3)"
    (project / "content/endorsements/sde.json").write_text(json.dumps(doc))
    checked = build(project, tmp_path / "out")
    assert [d.code for d in checked.diagnostics] == ["E702"]  # changed after signing: refused
    assert checked.model is None


def test_the_browser_verifier_on_bs_award_page_shows_the_endorsements_verified(sites, browser):  # noqa: F811
    award = sites.newest
    context = browser.new_context()
    outside: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith("http://127.0.0.1:"):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.clock.set_fixed_time(FIXED_NOW)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{sites.b_base}{award_dir(award.slug)}/")
        # the badge's own verdict is shown once every endorsement has its own
        page.wait_for_selector("#status:not([data-verdict='issued']):not([data-verdict='checking'])", timeout=20_000)
        badge_verdict = page.get_attribute("#status", "data-verdict")
        checks = [li.inner_text() for li in page.query_selector_all("#check-list li[data-check='endorsement']")]
        verdicts = {item.query_selector(".endorsement__by").inner_text():
                    item.query_selector(".endorsement__verdict").get_attribute("data-verdict")
                    for item in page.query_selector_all("li.endorsement")}
    finally:
        context.close()
    assert errors == [] and outside == []
    assert badge_verdict == "valid" and len(checks) == 2, checks
    assert sorted(verdicts.values()) == ["valid", "valid"], verdicts
    assert any("Test Accreditation Council" in who for who in verdicts)


def test_revoking_a_given_endorsement_uses_the_status_lists_and_the_receiver_refuses_it(sites):
    with signing_key_in_env():
        report, message = editing.run(sites.a, "revoke", sites.given.slug, "Course no longer meets the standard",
                                      "2026-11-28")
        assert not report.has_errors(), format_text(report.sorted())
        rebuilt = build(sites.a, sites.a_out)
        assert rebuilt.ok, rebuilt.diagnostics
        status = json.loads((sites.a_out / "status/acme/revocation.json").read_text())
        bits = status_lists.decode(status["credentialSubject"]["encodedList"])
        assert status_lists.bit(bits, sites.given.status_index)
        listed = json.loads((sites.a_out / "status/acme/1edtech-revocations.json").read_text())["revokedCredential"]
        reason = "Course no longer meets the standard"
        assert listed == [{"id": sites.a_url, "revoked": True, "revocationReason": reason}]
        assert "Withdrawn on 28 November 2026." in (sites.a_out / "endorsements/index.html").read_text()
        report, _ = endorsements.fetch(sites.b, [], FIXED_NOW, Fetcher(site=sites.a_out))
        codes = [d.code for d in report.sorted()]
        assert "E704" in codes, format_text(report.sorted())
        refused = build(sites.b, sites.tmp / "b-refused")
    assert refused.model is None and "E704" in format_text(refused.diagnostics)
    assert "revoked" in message
