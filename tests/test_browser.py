"""The pages in a real browser: Debian's chromium driven by Playwright, site served on 127.0.0.1.

What is proved here, against a site built by the real pipeline (the bundled example, signed
with the TEST-ONLY key so the VC-JWT path runs too):

- the award page verifies itself on load, with the verdict right for a valid, a tampered
  (page copy and signed JWT), a revoked, a suspended, an expired, an expiring and a lapsed award;
- the employer's email check, for the right address and a wrong one;
- /verify/ accepts a baked PNG (and SVG, pasted JWT, a link) and lists every check;
- no request leaves 127.0.0.1 (every request is recorded; anything else is aborted and fails);
- axe-core finds no violations on any page type; pages work without JavaScript;
- hostile Markdown does not run; the certificate prints on one A4 and one Letter page.

Screenshots of every page type at desktop and phone width go to tests/artifacts/ (git-ignored).
Never skipped: a missing browser is a failure, in CI and locally.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from badgekiln import bake
from badgekiln.model.routes import Routes
from conftest import FIXED_NOW, TESTS, award_dir, baked_downloads, build, copy_project
from ob2validator import serve_directory
from playwright.sync_api import sync_playwright
from test_pages import signing_key_in_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = TESTS / "artifacts"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
DONE = "#status:not([data-verdict='issued']):not([data-verdict='checking'])"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The example, built for and served from an ephemeral 127.0.0.1 port."""
    tmp = tmp_path_factory.mktemp("browser")
    project = copy_project("example", tmp)
    out = tmp / "site"
    with serve_directory(out) as base:
        with signing_key_in_env():
            prepared = build(project, out, base_url=base)
        assert prepared.model is not None, prepared.diagnostics
        yield SimpleNamespace(base=base, model=prepared.model, out=out)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-background-networking"])
        yield chromium
        chromium.close()


class Visit:
    """A browser context that records every request and refuses any that leaves the test server."""

    def __init__(self, browser, base: str, **options):
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(**{"viewport": VIEWPORTS["desktop"], **options})
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.clock.set_fixed_time(FIXED_NOW)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def _route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            route.abort()

    def open(self, path: str, wait: str | None = None):
        self.page.goto(self.base + path)
        if wait:
            self.page.wait_for_selector(wait, timeout=10_000)
        return self.page

    def outside(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base)]


@pytest.fixture
def visit(browser, served):
    visits: list[Visit] = []

    def make(**options) -> Visit:
        v = Visit(browser, served.base, **options)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.context.close()
        assert v.outside() == [], f"requests left 127.0.0.1: {v.outside()}"
        assert v.errors == [], v.errors
        assert v.dialogs == [], v.dialogs


def baked(served, award, kind: str = "png") -> Path:
    """The image the award page's download button gives (bake.js; the Python baker makes the same bytes)."""
    path = served.out / "downloads" / f"{award.slug}-{kind}.{'png' if kind == 'png' else 'svg'}"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(baked_downloads(served.out, award)[kind])
    return path


def svg_art(served):
    """An award of an SVG-art badge in good standing and not expiring soon."""
    return next(a for a in served.model.awards if served.model.badge(a.badge).image.format == "svg"
                and a.revocation is None and a.suspension is None and a.cpd is None
                and a.expires and (a.expires - FIXED_NOW).days > 90)


def award_of(model, name: str, badge: str):
    return next(a for a in model.awards if a.recipient_name == name and a.badge == badge)


def verdict(page) -> tuple[str, dict[str, str]]:
    """The verdict and each check's outcome by check id (the last one wins for repeated ids)."""
    page.wait_for_selector(DONE, timeout=10_000)
    checks = {}
    for item in page.query_selector_all("#check-list li"):
        checks.setdefault(item.get_attribute("data-check"), []).append(item.get_attribute("data-outcome"))
    return page.get_attribute("#status", "data-verdict"), checks


def banner(page) -> str:
    return page.inner_text("#status")


# ---------------------------------------------------------------- the award page checks itself

def test_a_valid_award_verifies_itself(visit, served):
    award = award_of(served.model, "Ada Okafor", "first-aid-at-work")
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, checks = verdict(page)
    assert kind == "valid", banner(page)
    assert "Verified" in banner(page) and "127.0.0.1" in banner(page)
    for check in ("hosted", "match", "badge", "issuer", "origin", "issued", "expiry", "revocation",
                  "signature", "claims", "status", "credential"):
        assert check in checks and set(checks[check]) == {"pass"}, (check, checks)
    assert "Checked just now in your browser" in page.inner_text("#verify-note")


def test_a_tampered_page_copy_is_not_verified(visit, served):
    award = award_of(served.model, "Ada Okafor", "first-aid-at-work")
    html = (served.out / f"{award_dir(award.slug)}/index.html").read_text()
    forged = html.replace('"expires": "2029-03-13T00:00:00Z"', '"expires": "2039-03-13T00:00:00Z"')
    assert forged != html
    (served.out / "tampered-copy").mkdir(exist_ok=True)
    (served.out / "tampered-copy/index.html").write_text(forged)
    page = visit().open("tampered-copy/", DONE)
    kind, checks = verdict(page)
    assert kind == "invalid" and checks["match"] == ["fail"]
    assert "Not verified" in banner(page) and "expires" in banner(page)


def test_a_tampered_signed_credential_fails_its_signature(visit, served):
    award = award_of(served.model, "Dmitri Ivanov", "fire-warden")
    jwt = (served.out / f"{award_dir(award.slug)}/credential.jwt").read_text()
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["validUntil"] = "2036-01-20T00:00:00Z"  # a forger extends the validity
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    (served.out / "tampered-jwt").mkdir(exist_ok=True)
    (served.out / "tampered-jwt/forged.credential.jwt").write_text(f"{header}.{forged_payload}.{signature}")
    html = (served.out / f"{award_dir(award.slug)}/index.html").read_text()
    (served.out / "tampered-jwt/index.html").write_text(
        html.replace(f"{award_dir(award.slug)}/credential.jwt\"", "tampered-jwt/forged.credential.jwt\""))
    page = visit().open("tampered-jwt/", DONE)
    kind, checks = verdict(page)
    assert kind == "invalid" and checks["signature"] == ["fail"], checks
    assert "altered" in banner(page)


def test_a_revoked_award_says_so_with_the_reason(visit, served):
    award = next(a for a in served.model.awards if a.revocation is not None)
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, checks = verdict(page)
    assert kind == "revoked"
    assert award.revocation.reason in banner(page) and "Revoked" in banner(page)
    assert "fail" in checks["revocation"] and "fail" in checks["status"]


def test_a_suspended_award_is_suspended_not_revoked(visit, served):
    award = next(a for a in served.model.awards if a.suspension is not None)
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, _ = verdict(page)
    assert kind == "suspended" and award.suspension.reason in banner(page)


def test_an_expired_award(visit, served):
    award = award_of(served.model, "Kwame Mensah", "first-aid-at-work")  # 2023 cohort, expired 10 Nov 2026
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, checks = verdict(page)
    assert kind == "expired" and checks["expiry"] == ["fail"] and checks["hosted"] == ["pass"]
    assert "expired on 10 November 2026" in banner(page)


def test_an_award_expiring_soon(visit, served):
    award = award_of(served.model, "Hana Sato", "fire-warden")  # expires 8 Dec 2026, ten days after "now"
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, _ = verdict(page)
    assert kind == "expiring" and "in 10 days" in banner(page)


def test_a_lapsed_cpd_badge(visit, served):
    award = next(a for a in served.model.awards if a.cpd and a.cpd.current and a.recipient_name == "Kwame Mensah")
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    kind, _ = verdict(page)
    assert kind == "lapsed" and "CPD" in banner(page)


def test_without_javascript_the_page_states_the_facts(visit, served):
    award = award_of(served.model, "Kwame Mensah", "first-aid-at-work")
    page = visit(java_script_enabled=False).open(f"{award_dir(award.slug)}/")
    text = page.inner_text("main")
    assert "Issued on 10 November 2023" in text and "Valid until 10 November 2026." in text
    assert "With JavaScript on, this page checks itself" in text
    assert not page.is_visible("#email-check") and not page.is_visible("#copy-link")


def test_a_pathway_award_verifies_itself_and_links_what_earned_it(visit, served):
    award = next(a for a in served.model.awards if a.earned_by and a.recipient_name == "Dmitri Ivanov")
    page = visit().open(Routes(served.base).award_page(award), DONE)
    kind, checks = verdict(page)
    assert kind == "valid" and set(checks["signature"]) == {"pass"}, (banner(page), checks)
    links = page.locator(".earned-by__list a")
    assert links.all_inner_texts() == ["First Aid at Work", "Fire Warden", "Safe Manual Handling"]
    links.first.click()  # the award it was earned by, which verifies too
    assert verdict(page)[0] == "valid" and page.inner_text("#award-title") == "First Aid at Work"
    assert "Dmitri Ivanov" in page.inner_text(".recipient")


def test_the_pathway_diagram_without_javascript(visit, served):
    routes, model = Routes(served.base), served.model
    page = visit(java_script_enabled=False).open(routes.badge_page(model.badge("safety-champion")))
    diagram = page.locator("figure.pathway-diagram")
    assert diagram.is_visible()
    label = page.inner_text("#" + diagram.get_attribute("aria-labelledby"))
    assert label == "Awarded automatically to everyone who holds all 3 of these badges at the same time."
    parts = diagram.locator(".pathway-diagram__parts a")
    assert parts.all_inner_texts() == ["First Aid at Work", "Fire Warden", "Safe Manual Handling"]
    assert page.get_attribute(".pathway-diagram__join", "aria-hidden") == "true"
    boxes = [parts.nth(i).bounding_box() for i in range(3)] + [diagram.locator(".pathway-node--result").bounding_box()]
    assert boxes[3]["y"] > max(b["y"] + b["height"] for b in boxes[:3])  # the badge below what earns it
    parts.nth(1).click()
    assert page.url == routes.url(routes.badge_page(model.badge("fire-warden")))
    assert "Workplace Safety Champion" in page.inner_text(".pathway-towards")
    page = visit(java_script_enabled=False).open(routes.badge_page(model.badge("safety-champion")))
    # listed only where every award of the person may be listed and shows the name (Hana hides hers)
    assert page.locator(".earner-list a").all_inner_texts() == ["Dmitri Ivanov", "Gareth Pritchard",
                                                                "Jolene Fairweather"]


# ---------------------------------------------------------------- the employer's email check

@pytest.mark.parametrize("typed, answer", [
    ("  Ada.Okafor@Example.COM ", "yes"),
    ("someone.else@example.com", "no"),
])
def test_email_check(visit, served, typed, answer):
    award = award_of(served.model, "Ada Okafor", "first-aid-at-work")
    page = visit().open(f"{award_dir(award.slug)}/", DONE)
    page.fill("#email-input", typed)
    page.click("#email-check button[type=submit]")
    page.wait_for_selector(f"#email-result[data-match='{answer}']")
    result = page.inner_text("#email-result")
    assert result.startswith("Yes: this badge was issued to" if answer == "yes" else "No: this badge was not")


# ---------------------------------------------------------------- /verify/

def test_verify_page_accepts_a_baked_png(visit, served):
    award = award_of(served.model, "Dmitri Ivanov", "first-aid-at-work")
    page = visit().open("verify/", "#verify-form:not([hidden])")
    page.set_input_files("#badge-file", str(baked(served, award)))
    kind, checks = verdict(page)
    assert kind == "valid", banner(page)
    assert checks["hosted"] == ["pass"] and checks["match"] == ["pass"] and "credential" in checks
    assert "First Aid at Work" in page.inner_text("#facts")
    # and the recipient check works there too
    page.fill("#email-input", "dmitri.ivanov@example.com")
    page.click("#email-check button[type=submit]")
    page.wait_for_selector("#email-result[data-match='yes']")


def test_verify_page_accepts_a_dropped_file(visit, served):
    award = svg_art(served)
    svg = baked(served, award, "svg")
    page = visit().open("verify/", "#verify-form:not([hidden])")
    page.evaluate("""async (url) => {
        const bytes = await (await fetch(url)).arrayBuffer();
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'badge.svg', { type: 'image/svg+xml' }));
        const zone = document.getElementById('dropzone');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        }
    }""", f"{served.base}{svg.relative_to(served.out).as_posix()}")
    kind, checks = verdict(page)
    assert kind == "valid" and checks["match"] == ["pass"]


def test_verify_page_rejects_a_tampered_png(visit, served):
    award = award_of(served.model, "Dmitri Ivanov", "fire-warden")
    png = baked(served, award).read_bytes()
    ob2 = next(b for b in bake.unbake(png) if b.version == "ob2")
    forged = json.loads(ob2.payload)
    forged["expires"] = "2040-01-20T00:00:00Z"
    path = served.out / "tampered.png"
    path.write_bytes(bake.bake(png, json.dumps(forged), version="ob2"))
    page = visit().open("verify/", "#verify-form:not([hidden])")
    page.set_input_files("#badge-file", str(path))
    kind, checks = verdict(page)
    assert kind == "invalid" and checks["match"] == ["fail"]


@pytest.mark.parametrize("how", ["svg", "jwt", "url", "json", "ob2-jws"])
def test_verify_page_other_inputs(visit, served, how):
    award = award_of(served.model, "Eilidh MacLeod", "first-aid-at-work")
    page = visit().open("verify/", "#verify-form:not([hidden])")
    if how == "svg":
        page.set_input_files("#badge-file", str(baked(served, svg_art(served), "svg")))
    elif how == "jwt":
        page.fill("#badge-text", (served.out / f"{award_dir(award.slug)}/credential.jwt").read_text())
        page.click("#verify-form button[type=submit]")
    elif how == "ob2-jws":
        page.fill("#badge-text", (served.out / f"{award_dir(award.slug)}/assertion.jws").read_text())
        page.click("#verify-form button[type=submit]")
    elif how == "json":
        page.fill("#badge-text", (served.out / f"{award_dir(award.slug)}/assertion.json").read_text())
        page.click("#verify-form button[type=submit]")
    else:
        page.fill("#badge-url", f"{served.base}{award_dir(award.slug)}/")
        page.click("#verify-form button[type=submit]")
    kind, checks = verdict(page)
    assert kind == "valid", (banner(page), checks)
    assert all(outcome == "pass" for outcomes in checks.values() for outcome in outcomes), checks
    if how in ("jwt", "ob2-jws"):
        assert checks["signature"] == ["pass"]


@pytest.mark.parametrize("state", ["suspended", "revoked"])
def test_verify_page_reads_the_lists_beside_a_lone_revocation_entry(visit, served, state):
    """The credential names only the revocation list; the suspension and 1EdTech lists beside it
    still tell a suspension (and the reason) to our verifier."""
    award = next(a for a in served.model.awards
                 if (a.suspension is not None and a.revocation is None) == (state == "suspended")
                 and (a.revocation is not None) == (state == "revoked"))
    credential = (served.out / f"{award_dir(award.slug)}/credential.json").read_text()
    assert json.loads(credential)["credentialStatus"]["statusPurpose"] == "revocation"
    page = visit().open("verify/", "#verify-form:not([hidden])")
    page.fill("#badge-text", credential)
    page.click("#verify-form button[type=submit]")
    kind, checks = verdict(page)
    assert kind == state, (banner(page), checks)
    reason = (award.suspension or award.revocation).reason
    assert reason in banner(page)
    assert "fail" in checks["status"] and "pass" in checks["status"], checks  # one list clear, one flagged


def test_verify_page_explains_bad_input(visit, served):
    page = visit().open("verify/", "#verify-form:not([hidden])")
    page.fill("#badge-text", "{not json")
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#input-error:not([hidden])")
    assert "not valid JSON" in page.inner_text("#input-error")
    page.set_input_files("#badge-file", str(served.out / "badges/fire-warden.svg"))  # an unbaked image
    page.wait_for_selector("#input-error:not([hidden])")
    assert "no badge data" in page.inner_text("#input-error")


# ---------------------------------------------------------------- privacy, accessibility, looks

def page_types(model) -> dict[str, tuple[str, str | None]]:
    award = award_of(model, "Ada Okafor", "first-aid-at-work")
    cpd = next(a for a in model.awards if a.cpd and a.cpd.current and a.cpd.number)
    return {
        "award": (f"{award_dir(award.slug)}/", DONE),
        "award-revoked": (f"{award_dir(next(a for a in model.awards if a.revocation).slug)}/", DONE),
        "award-cpd": (f"{award_dir(cpd.slug)}/", DONE),
        "award-hidden-name": (f"{award_dir(next(a for a in model.awards if not a.show_name).slug)}/", DONE),
        "award-expired": (f"{award_dir(award_of(model, 'Kwame Mensah', 'first-aid-at-work').slug)}/", DONE),
        "award-pathway": (Routes(model.site.base_url).award_page(next(a for a in model.awards if a.earned_by)),
                          DONE),
        "certificate": (f"{award_dir(award.slug)}/#certificate", "#certificate .qr svg"),
        "badge": ("badges/first-aid-at-work/", None),
        "badge-pathway": (Routes(model.site.base_url).badge_page(model.badge("safety-champion")), None),
        "issuer": ("issuers/northwind/", None),
        "index": ("", None),
        "verify": ("verify/", "#verify-form:not([hidden])"),
        "404": ("404.html", None),
    }


def test_no_request_leaves_the_site(visit, served):
    v = visit()
    for path, wait in page_types(served.model).values():
        v.open(path, wait)
    assert v.requests and all(url.startswith(served.base) for url in v.requests)
    assert any(url.endswith("/credential.jwt") for url in v.requests)
    assert any(url.endswith("/.well-known/did.json") for url in v.requests)


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                      "best-practice"]},
               "rules": {"target-size": {"enabled": True}}, "resultTypes": ["violations"]}


def test_axe_finds_no_violations(visit, served):
    """WCAG 2.2 A/AA and axe's best practices, on every page type (award pages after their checks ran)."""
    axe = Axe()
    failures = {}
    v = visit()
    for name, (path, wait) in page_types(served.model).items():
        v.open(path, wait)
        if name == "verify":  # also the page with a result on it
            v.page.set_input_files("#badge-file", str(baked(served, served.model.awards[-1])))
            v.page.wait_for_selector(DONE)
        if name.startswith("award"):
            v.page.click("#checks summary")
        results = axe.run(v.page, options=AXE_OPTIONS)
        assert "target-size" in v.page.evaluate("axe.getRules(['wcag22aa']).map(r => r.ruleId)")
        if results.violations_count:
            failures[name] = [(x["id"], x["help"], [n["target"] for n in x["nodes"]][:3])
                              for x in results.response["violations"]]
    assert failures == {}


def test_screenshots_of_every_page_type(browser, served):
    ARTIFACTS.mkdir(exist_ok=True)
    for width, viewport in VIEWPORTS.items():
        v = Visit(browser, served.base, viewport=viewport)
        try:
            for name, (path, wait) in page_types(served.model).items():
                v.open(path, wait)
                target = ARTIFACTS / f"{name}-{width}.png"
                v.page.screenshot(path=str(target), full_page=True)
                assert target.stat().st_size > 5000
            v.open("verify/", "#verify-form:not([hidden])")
            award = award_of(served.model, "Ada Okafor", "first-aid-at-work")
            v.page.set_input_files("#badge-file", str(baked(served, award)))
            v.page.wait_for_selector(DONE)
            v.page.screenshot(path=str(ARTIFACTS / f"verify-result-{width}.png"), full_page=True)
            # nothing sticks out sideways at phone width
            if width == "phone":
                for path, wait in page_types(served.model).values():
                    v.open(path, wait)
                    wide = v.page.evaluate("""w => [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > w + 0.5)
                        .map(e => e.tagName + '.' + e.className)""", viewport["width"])
                    assert v.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (path, wide)
                    assert v.page.evaluate("""() => [...document.querySelectorAll('.table-scroll')]
                        .every(e => e.scrollWidth <= e.clientWidth)"""), path
        finally:
            v.context.close()
        assert v.outside() == [] and v.errors == []


def test_certificate_prints_on_one_a4_and_one_letter_page(visit, served):
    award = award_of(served.model, "Ada Okafor", "first-aid-at-work")
    page = visit().open(f"{award_dir(award.slug)}/", "#print-certificate")
    page.wait_for_selector("#certificate .qr svg", state="attached")  # drawn by the page's script (qr.js)
    page.emulate_media(media="print")
    assert page.is_visible("#certificate .certificate") and not page.is_visible("#verification-title")
    assert page.is_visible("#certificate .qr svg")
    page.emulate_media(media="screen")
    assert not page.is_visible("#certificate .certificate")  # on screen the page is the award, not the certificate
    page.emulate_media(media="print")  # page.pdf() prints with the emulated media
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, landscape=True, print_background=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, paper
        (ARTIFACTS / f"certificate-{paper}.pdf").parent.mkdir(exist_ok=True)
        (ARTIFACTS / f"certificate-{paper}.pdf").write_bytes(pdf)


def test_hostile_markdown_does_not_run(browser, tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    badge = project / "content/badges/safety.yaml"
    badge.write_text(badge.read_text().replace(
        "criteria: |\n  Attended the course and passed the quiz.",
        'criteria: |\n  Passed <script>window.pwned = 1; alert("x")</script> the '
        '<img src=x onerror="window.pwned = 2; alert(1)"> quiz. [click](javascript:alert(1))'))
    out = tmp_path / "site"
    with serve_directory(out) as base:
        prepared = build(project, out, base_url=base)
        assert prepared.model is not None, prepared.diagnostics
        v = Visit(browser, base)
        try:
            for path in (f"{award_dir(prepared.model.awards[0].slug)}/", "badges/safety/"):
                page = v.open(path)
                page.wait_for_load_state("networkidle")
                assert page.evaluate("window.pwned") is None
                assert "quiz" in page.inner_text("main")
        finally:
            v.context.close()
        assert v.dialogs == [] and v.outside() == []


def test_a_french_site_verifies_in_french(browser, tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "language: fr\n")
    out = tmp_path / "site"
    with serve_directory(out) as base:
        prepared = build(project, out, base_url=base)
        assert prepared.model is not None, prepared.diagnostics
        v = Visit(browser, base)
        try:
            page = v.open(f"{award_dir(prepared.model.awards[0].slug)}/", DONE)
            assert verdict(page)[0] == "valid"
            assert page.inner_text("#status .status__title") == "Vérifié"
            assert "Valable jusqu’au 1er février 2028." in page.inner_text("#status")
            page.fill("#email-input", "nobody@example.com")
            page.click("#email-check button[type=submit]")
            page.wait_for_selector("#email-result[data-match='no']")
            assert page.inner_text("#email-result") == "Non : ce badge n’a pas été délivré à nobody@example.com."
        finally:
            v.context.close()
        assert v.outside() == [] and v.errors == []
