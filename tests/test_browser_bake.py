"""The award page's "Download badge" in Debian's Chromium: the file bake.js makes in the browser is
the Python baker's, byte for byte, and every badge reader takes it.

The site is built by the real pipeline, signed with the TEST-ONLY key, and served on 127.0.0.1:
a PNG badge class with fractional credits (creditsAvailable 2.5 in the credential), an SVG badge
class with a non-ASCII name and narrative (with "]]>" in it, which SVG's CDATA cannot hold as
is), and a revoked award. For each download: the bytes equal bake.bake() on the same inputs,
openbadges-bakery unbakes the PNG to the hosted assertion, Pillow reads the credential from it,
and `badgekiln verify` accepts the file. A withdrawn award offers no download, a stale page of
one makes no file, and without JavaScript the page says how to get the badge.
"""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from badgekiln import bake, canonical, cli
from badgekiln.credentials import ob2
from badgekiln.load import images
from badgekiln.model.routes import Routes
from conftest import FIXED_NOW, REPO, award_dir, build, copy_project
from ob2validator import serve_directory
from openbadges_bakery import unbake as bakery_unbake
from PIL import Image
from test_browser import Visit, browser  # noqa: F401  (the module's Chromium fixture)
from test_pages import signing_key_in_env

NARRATIVE = 'Évacuation menée à bien ]]> « 日本語 » "quoted" \\ back\tslash 🔥'
SVG_BADGE = """name: Sécurité incendie — niveau 2 «Ω» 🔥
description: Mène une évacuation.
image: images/feu.svg
criteria: |
  A mené un exercice d’évacuation.
credits: 4
valid_for: 2y
"""
AWARDS = f"""badge: safety
issued_on: 2026-02-01
awards:
  - recipient: ada
  - name: Bob Brown
    email: bob@example.com
    revoked:
      on: 2026-03-01
      reason: Issued in error.
  - name: Zoë Ångström
    email: zoe@example.com
    badge: feu
    narrative: {json.dumps(NARRATIVE, ensure_ascii=False)}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bake")
    project = copy_project("minimal", tmp)
    content = project / "content"
    shutil.copy(REPO / "content/images/fire-warden.svg", content / "images/feu.svg")
    (content / "badges/feu.yaml").write_text(SVG_BADGE)
    safety = content / "badges/safety.yaml"
    safety.write_text(safety.read_text() + "credits: 2.5\n")
    (content / "awards/2026.yaml").write_text(AWARDS)
    out = tmp / "site"
    with serve_directory(out) as base:
        with signing_key_in_env():
            prepared = build(project, out, base_url=base)
        assert prepared.model is not None, prepared.diagnostics
        yield SimpleNamespace(base=base, model=prepared.model, signing=prepared.signing, out=out, tmp=tmp)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(FIXED_NOW.timestamp())))


def award_named(site, name: str):
    return next(a for a in site.model.awards if a.recipient_name == name)


def python_baked(site, award) -> dict[str, bytes]:
    """What generator/bake makes for this award from the same inputs (the brief's formula)."""
    routes = Routes(site.base)
    badge = site.model.badge(award.badge)
    issuer = site.model.issuer(badge.issuer)
    assertion = ob2.assertion(award, badge, routes)
    credential = site.signing.for_award(award, issuer).credential(award, badge, issuer, site.model.site, routes)
    payload, credential_payload = canonical.dumps(assertion), canonical.dumps(credential)
    files = {"png": bake.bake(bake.bake(images.png_for(badge.image), payload, version="ob2"), credential_payload,
                              version="ob3")}
    if badge.image.format == "svg":
        files["svg"] = bake.bake(badge.image.data, payload, version="ob2", verify=assertion["id"])
        files["credential-svg"] = bake.bake(badge.image.data, credential_payload, version="ob3")
    return files


def open_award(browser, site, path: str, **options) -> Visit:  # noqa: F811
    visit = Visit(browser, site.base, **options)
    visit.open(path)
    return visit


def download(visit: Visit, kind: str) -> tuple[str, bytes]:
    with visit.page.expect_download() as info:
        visit.page.click(f"[data-bake='{kind}']")
    name = info.value.suggested_filename
    visit.page.wait_for_selector(f"#bake-status:has-text('Downloaded {name}.')")
    return name, Path(info.value.path()).read_bytes()


def verify_cli(path: Path, site, capsys) -> tuple[int, str]:
    code = cli.main(["verify", str(path), "--site", str(site.out)])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name, kinds", [
    ("Ada Lovelace", ["png"]),  # PNG art: no SVG wrapper
    ("Zoë Ångström", ["png", "svg", "credential-svg"]),  # SVG art: the PNG is baked into its raster
])
def test_downloads_are_the_python_bakers_and_every_reader_takes_them(browser, site, name, kinds, capsys,  # noqa: F811
                                                                     tmp_path):
    award = award_named(site, name)
    badge = site.model.badge(award.badge)
    expected = python_baked(site, award)
    assert sorted(expected) == sorted(kinds)
    visit = open_award(browser, site, f"{award_dir(award.slug)}/")
    try:
        assert [b.get_attribute("data-bake") for b in visit.page.query_selector_all("[data-bake]")] == kinds
        assert visit.page.is_visible("#bake-list") and not visit.page.is_visible("#bake-nojs")
        for kind in kinds:
            filename, data = download(visit, kind)
            suffix = {"png": ".png", "svg": ".svg", "credential-svg": "-credential.svg"}[kind]
            assert filename == f"{badge.slug}-{award.slug}{suffix}"
            assert data == expected[kind], kind
            saved = tmp_path / filename
            saved.write_bytes(data)
            code, out = verify_cli(saved, site, capsys)
            assert code == 0 and out.startswith("VALID"), out
        assert visit.outside() == [] and visit.errors == []
    finally:
        visit.context.close()
    png = expected["png"]
    hosted = json.loads((site.out / f"{award_dir(award.slug)}/assertion.json").read_text())
    assert json.loads(bakery_unbake(io.BytesIO(png))) == hosted  # openbadges-bakery: the hosted assertion
    credential = json.loads((site.out / f"{award_dir(award.slug)}/credential.json").read_text())
    with Image.open(io.BytesIO(png)) as image:  # Pillow: the signed credential, intact
        assert json.loads(image.text["openbadgecredential"]) == credential


def test_the_credential_keeps_its_numbers_and_text(site):
    """creditsAvailable 2.5 and the non-ASCII text are in the baked bytes exactly as canonical JSON has them."""
    ada, zoe = award_named(site, "Ada Lovelace"), award_named(site, "Zoë Ångström")
    assert b'"creditsAvailable":2.5' in python_baked(site, ada)["png"]
    svg = python_baked(site, zoe)["svg"]
    assert "Zoë".encode() not in svg  # the recipient stays a hash
    assert json.dumps(NARRATIVE, ensure_ascii=False).replace("]]>", "]]\\u003e").encode() in svg
    assert "Sécurité incendie — niveau 2 «Ω» 🔥".encode() in python_baked(site, zoe)["credential-svg"]


def test_a_withdrawn_award_offers_no_badge_download(browser, site):  # noqa: F811
    bob = award_named(site, "Bob Brown")
    visit = open_award(browser, site, f"{award_dir(bob.slug)}/")
    try:
        assert visit.page.query_selector("[data-bake]") is None and visit.page.query_selector("#bk-baking") is None
        links = [a.get_attribute("data-download") for a in visit.page.query_selector_all("[data-download]")]
        assert links == ["json", "credential"]
    finally:
        visit.context.close()


@pytest.mark.parametrize("problem, message", [
    ("revoked", "This badge has been withdrawn by its issuer, so there is no badge image to download."),
    ("missing", "did not answer. Try again later."),
])
def test_a_stale_page_makes_no_file(browser, site, problem, message):  # noqa: F811
    """A page saved before the award was revoked, or one whose files are gone: a message, no file."""
    ada, bob = award_named(site, "Ada Lovelace"), award_named(site, "Bob Brown")
    html = (site.out / f"{award_dir(ada.slug)}/index.html").read_text()
    target = f"{award_dir(bob.slug)}/assertion.json" if problem == "revoked" else f"{award_dir(ada.slug)}/missing.json"
    stale = html.replace(f'"credential": "{site.base}{award_dir(ada.slug)}/credential.json"',
                         f'"credential": "{site.base}{target}"')
    if problem == "revoked":
        stale = stale.replace(f'"assertion": "{site.base}{award_dir(ada.slug)}/assertion.json"',
                              f'"assertion": "{site.base}{target}"')
    assert stale.count(target) >= 1 and stale != html
    folder = site.out / f"stale-{problem}"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(stale)
    visit = open_award(browser, site, f"stale-{problem}/")
    downloads = []
    visit.page.on("download", lambda d: downloads.append(d))
    try:
        visit.page.click("[data-bake='png']")
        visit.page.wait_for_selector(f"#bake-status:has-text('{message}')")
        visit.page.wait_for_load_state("networkidle")
        assert downloads == [] and visit.errors == []
    finally:
        visit.context.close()


def test_without_javascript_the_page_says_how_to_get_the_badge(browser, site):  # noqa: F811
    zoe = award_named(site, "Zoë Ångström")
    visit = open_award(browser, site, f"{award_dir(zoe.slug)}/", java_script_enabled=False)
    try:
        text = visit.page.inner_text(".downloads")
        assert "turn on JavaScript to download it, or download the badge data below" in text
        assert not visit.page.is_visible("[data-bake]")
        links = [a.get_attribute("data-download") for a in visit.page.query_selector_all("[data-download]")]
        assert links == ["json", "credential"]
        assert re.search(r"/badges/feu\.svg$", visit.page.get_attribute(".award-card__image", "src"))
    finally:
        visit.context.close()
