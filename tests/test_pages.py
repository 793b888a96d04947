"""The HTML pages as built files: sharing parameters, link previews, theming, languages, safety.

Browser behaviour (verification, email check, uploads, accessibility) is in test_browser.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import replace
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from badgekiln.model.domain import Theme
from badgekiln.render import award_state, i18n, pages, social, theme
from conftest import FIXED_NOW, award_dir, build, copy_project, tree
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape
from PIL import Image
from testkeys import env_value

BASE = "https://badges.northwind-academy.example/"


@contextlib.contextmanager
def signing_key_in_env():
    """BADGEKILN_SIGNING_KEYS set to the TEST-ONLY key for the duration (module fixtures build once)."""
    old = os.environ.get("BADGEKILN_SIGNING_KEYS")
    os.environ["BADGEKILN_SIGNING_KEYS"] = env_value()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BADGEKILN_SIGNING_KEYS", None)
        else:
            os.environ["BADGEKILN_SIGNING_KEYS"] = old


class Page(HTMLParser):
    """The parts of a page the tests look at: meta tags, links, scripts, elements by id."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict] = []
        self.resources: list[str] = []
        self.anchors: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.lang = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.by_id[a["id"]] = a
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta.append((a.get("property") or a.get("name"), a.get("content")))
        if tag == "link":
            self.links.append(a)
            if a.get("rel") in ("stylesheet", "icon"):
                self.resources.append(a["href"])
        if tag in ("script", "img") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "a":
            self.anchors.append(a)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[object, dict[str, bytes]]:
    """The example site, signed with the test-only key (so the OB 3.0 files exist)."""
    tmp = tmp_path_factory.mktemp("pages")
    project = copy_project("example", tmp)
    with signing_key_in_env():
        prepared = build(project, tmp / "out")
    assert prepared.model is not None, prepared.diagnostics
    return prepared.model, tree(tmp / "out")


def _award(model, name: str, badge: str):
    return next(a for a in model.awards if a.recipient_name == name and a.badge == badge)


def _page(files, path: str) -> Page:
    return Page(files[path].decode("utf-8"))


# ---------------------------------------------------------------- LinkedIn and share links

def test_linkedin_url_has_the_exact_digest_parameters():
    url = social.linkedin_add_url(
        name="Fire & Safety: Level 2/3", organization_name="Acme Training Ltd.",
        issued=datetime(2026, 1, 20, tzinfo=timezone.utc), expires=datetime(2027, 12, 5, tzinfo=timezone.utc),
        cert_url="https://badges.example.org/a/abc123/", cert_id="abc123")
    assert url == ("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME"
                   "&name=Fire%20%26%20Safety%3A%20Level%202%2F3&organizationName=Acme%20Training%20Ltd."
                   "&issueYear=2026&issueMonth=1&expirationYear=2027&expirationMonth=12"
                   "&certUrl=https%3A%2F%2Fbadges.example.org%2Fa%2Fabc123%2F&certId=abc123")
    with_id = social.linkedin_add_url(name="X", organization_id=2414183, organization_name="ignored",
                                      issued=datetime(2026, 12, 1, tzinfo=timezone.utc), cert_url="u", cert_id="c")
    assert with_id == ("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=X"
                       "&organizationId=2414183&issueYear=2026&issueMonth=12&certUrl=u&certId=c")


def test_award_page_linkedin_link(site):
    model, files = site
    award = _award(model, "Ada Okafor", "first-aid-at-work")
    page = _page(files, f"{award_dir(award.slug)}/index.html")
    href = page.by_id["linkedin-add"]["href"]
    assert href.startswith("https://www.linkedin.com/profile/add?")
    assert parse_qsl(urlsplit(href).query) == [
        ("startTask", "CERTIFICATION_NAME"), ("name", "First Aid at Work"),
        ("organizationName", "Northwind Safety Academy"), ("issueYear", "2026"), ("issueMonth", "3"),
        ("expirationYear", "2029"), ("expirationMonth", "3"), ("certUrl", f"{BASE}{award_dir(award.slug)}/"),
        ("certId", award.slug)]
    assert page.by_id["linkedin-add"]["target"] == "_blank"
    # a badge that never expires sends no expiration month or year
    forever = next(a for a in model.awards if a.badge == "manual-handling")
    link = _page(files, f"{award_dir(forever.slug)}/index.html").by_id["linkedin-add"]["href"]
    query = dict(parse_qsl(urlsplit(link).query))
    assert "expirationYear" not in query and "expirationMonth" not in query
    assert (query["issueYear"], query["issueMonth"]) == (str(forever.issued_on.year), str(forever.issued_on.month))


def test_issuer_linkedin_page_id_is_used_when_configured(tmp_path: Path):
    project = copy_project("example", tmp_path)
    issuer = project / "content/issuers/northwind.yaml"
    issuer.write_text(issuer.read_text() + "linkedin_organization_id: 2414183\n")
    prepared = build(project, tmp_path / "out")
    assert prepared.model is not None, prepared.diagnostics
    award = prepared.model.awards[0]
    page = Page((tmp_path / f"out/{award_dir(award.slug)}/index.html").read_text())
    query = parse_qsl(urlsplit(page.by_id["linkedin-add"]["href"]).query)
    assert ("organizationId", "2414183") in query and "organizationName" not in dict(query)


def test_share_links_are_plain_links_with_encoded_text(site):
    model, files = site
    award = _award(model, "Ada Okafor", "first-aid-at-work")
    page = _page(files, f"{award_dir(award.slug)}/index.html")
    shares = {a["data-share"]: a["href"] for a in page.anchors if "data-share" in a}
    url = quote(f"{BASE}{award_dir(award.slug)}/", safe="")
    text = quote("I earned the First Aid at Work badge from Northwind Safety Academy.", safe="")
    assert shares == {
        "linkedin": f"https://www.linkedin.com/sharing/share-offsite/?url={url}",
        "x": f"https://twitter.com/intent/tweet?text={text}&url={url}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={url}",
        "email": f"mailto:?subject={quote('Ada Okafor earned First Aid at Work', safe='')}"
                 f"&body={text}%0A%0A{url}",
    }
    assert page.by_id["page-link"]["value"] == f"{BASE}{award_dir(award.slug)}/"


def test_withdrawn_awards_are_not_offered_for_sharing(site):
    model, files = site
    revoked = next(a for a in model.awards if a.revocation is not None)
    page = _page(files, f"{award_dir(revoked.slug)}/index.html")
    assert "linkedin-add" not in page.by_id and not [a for a in page.anchors if "data-share" in a]
    html = files[f"{award_dir(revoked.slug)}/index.html"].decode()
    assert 'data-verdict="revoked"' in html and revoked.revocation.reason in html


# ---------------------------------------------------------------- Open Graph / Twitter

def test_award_page_open_graph_and_twitter_tags_exactly(site):
    model, files = site
    award = _award(model, "Ada Okafor", "first-aid-at-work")
    page = _page(files, f"{award_dir(award.slug)}/index.html")
    description = ("Issued by Northwind Safety Academy on 13 March 2026. Holders can give emergency first aid at "
                   "work: assessing an incident, CPR and use of an AED, managing bleeding, burns, fractures and "
                   "shock, and recording what…")
    image = f"{BASE}badges/first-aid-at-work/share.png"
    alt = "First Aid at Work badge, issued by Northwind Safety Academy"
    assert [m for m in page.meta if m[0] not in ("viewport", "referrer")] == [
        ("robots", "noindex"),
        ("description", description),
        ("og:type", "website"),
        ("og:site_name", "Northwind Safety Academy Badges"),
        ("og:title", "Ada Okafor earned First Aid at Work"),
        ("og:description", description),
        ("og:url", f"{BASE}{award_dir(award.slug)}/"),
        ("og:image", image),
        ("og:image:type", "image/png"),
        ("og:image:width", "1200"),
        ("og:image:height", "627"),
        ("og:image:alt", alt),
        ("twitter:card", "summary_large_image"),
        ("twitter:title", "Ada Okafor earned First Aid at Work"),
        ("twitter:description", description),
        ("twitter:image", image),
        ("twitter:image:alt", alt),
    ]
    rels = [(link.get("rel"), link.get("type"), link["href"]) for link in page.links]
    assert ("canonical", None, f"{BASE}{award_dir(award.slug)}/") in rels
    assert ("alternate", "application/ld+json", f"{BASE}{award_dir(award.slug)}/assertion.json") in rels
    assert ("alternate", "application/vc+ld+json", f"{BASE}{award_dir(award.slug)}/credential.json") in rels


def test_withdrawn_award_titles_and_previews_say_so(site):
    model, files = site
    for kind, attribute in (("Revoked", "revocation"), ("Suspended", "suspension")):
        award = next(a for a in model.awards if getattr(a, attribute) is not None and a.show_name)
        html = files[f"{award_dir(award.slug)}/index.html"].decode()
        meta = dict(Page(html).meta)
        badge = model.badge(award.badge).name
        expected = f"{kind}: {badge} badge of {award.recipient_name}"
        assert meta["og:title"] == meta["twitter:title"] == expected
        assert f"<title>{expected} · " in html.replace("&#39;", "'")
        assert meta["og:description"].startswith(f"Northwind Safety Academy {kind.lower()} this badge on ")
        assert "earned" not in meta["og:title"]


def test_hidden_name_stays_out_of_titles_and_previews(site):
    model, files = site
    hidden = next(a for a in model.awards if not a.show_name)
    html = files[f"{award_dir(hidden.slug)}/index.html"].decode()
    page = Page(html)
    assert hidden.recipient_name not in html
    assert dict(page.meta)["og:title"] == f"{model.badge(hidden.badge).name}, awarded by Northwind Safety Academy"
    assert hidden.recipient_name not in files[f"{award_dir(hidden.slug)}/index.html"].decode()


def test_share_image_is_a_1200x627_png_per_badge(site):
    model, files = site
    for badge in model.badges:
        data = files[f"badges/{badge.slug}/share.png"]
        with Image.open(io.BytesIO(data)) as img:
            assert (img.format, img.size, img.mode) == ("PNG", (1200, 627), "RGB")
            assert set(img.info) <= {"dpi", "gamma"}  # no text chunks, no timestamps
    # the same inputs draw the same bytes (pinned fonts, layout engine, PNG settings)
    badge = model.badges[0]
    strings = i18n.load(None, "en")
    first = {a.path: a.data for a in pages.badge_files(badge, model.issuer(badge.issuer), model.site, _routes(model),
                                                       strings)}
    again = {a.path: a.data for a in pages.badge_files(badge, model.issuer(badge.issuer), model.site, _routes(model),
                                                       strings)}
    assert first == again and first[f"badges/{badge.slug}/share.png"] == files[f"badges/{badge.slug}/share.png"]


def _routes(model):
    from badgekiln.model.routes import Routes

    return Routes(model.site.base_url)


# ---------------------------------------------------------------- the pages' content

def test_award_page_shows_the_record(site):
    model, files = site
    award = next(a for a in model.awards if a.evidence)
    html = files[f"{award_dir(award.slug)}/index.html"].decode()
    badge = model.badge(award.badge)
    for text in (badge.name, f"Awarded to {award.recipient_name}", "Northwind Safety Academy", "13 March 2026",
                 "13 March 2029", "18 credits", "Emergency first aid at work", "WSF-FA-01", "workplace safety",
                 award.evidence[0].name, "<strong>18 hours</strong>"):
        assert text in html, text
    page = Page(html)
    downloads = {a["data-download"]: a["href"] for a in page.anchors if "data-download" in a}
    folder = f"{BASE}{award_dir(award.slug)}"
    assert downloads == {"json": f"{folder}/assertion.json", "credential": f"{folder}/credential.json",
                         "jwt": f"{folder}/credential.jwt"}  # images are baked when downloaded
    assert all(path.removeprefix(BASE) in files for path in downloads.values())
    # the badge image is baked in the browser (bake.js) from the class image and the published JSON
    baking = json.loads(re.search(r'<script type="application/json" id="bk-baking">(.*?)</script>', html).group(1))
    stem = f"first-aid-at-work-{award.slug}"
    assert baking == {"image": f"{BASE}badges/first-aid-at-work.png", "format": "png",
                      "png": f"{BASE}badges/first-aid-at-work.png", "assertion": f"{folder}/assertion.json",
                      "credential": f"{folder}/credential.json", "stem": stem,
                      "files": [{"id": "png", "label": "download.baked_png", "name": f"{stem}.png"}]}
    assert all(url.removeprefix(BASE) in files for url in (baking["png"], baking["assertion"], baking["credential"]))
    assert f'class="award-card__image" src="{BASE}badges/first-aid-at-work.png"' in html
    # the embedded JSON-LD is the assertion, with `<` escaped so it cannot close the script
    embedded = re.search(r'<script type="application/ld\+json" id="bk-assertion">(.*?)</script>', html, re.S).group(1)
    assert embedded.startswith('{"@context": "https://w3id.org/openbadges/v2"')


@pytest.mark.parametrize("outputs", ["minimal", "full"])
def test_the_page_bakes_in_the_browser_or_links_the_baked_files(site, outputs):
    """`baking` for bake.js, or links to the per-award baked files `outputs: full` publishes; SVG art
    gets SVG downloads, PNG art none; a withdrawn award offers no badge image either way."""
    model, files = site
    routes = _routes(model)
    strings = i18n.load(None, "en")
    full = outputs == "full"

    def context(award):
        badge = model.badge(award.badge)
        published = {p for p in files if p.startswith(award_dir(award.slug) + "/")}
        if full:
            published |= {routes.award_png(award)} | ({routes.award_svg(award), routes.award_credential_svg(award)}
                                                      if badge.image.format == "svg" else set())
        assertion = {"id": routes.url(routes.award_json(award))}
        return pages.award_context(award, badge, model.issuer(badge.issuer), assertion,
                                   replace(model.site, outputs=outputs), routes, strings, published=published)

    svg_art = _award(model, "Dmitri Ivanov", "fire-warden")
    png_art = _award(model, "Ada Okafor", "first-aid-at-work")
    withdrawn = next(a for a in model.awards if a.revocation is not None)
    assert model.badge(svg_art.badge).image.format == "svg"
    links = {award: [d["id"] for d in context(award)["downloads"]] for award in (svg_art, png_art, withdrawn)}
    if not full:
        assert links[svg_art] == links[png_art] == links[withdrawn] == ["json", "credential", "jwt"]
        baking = context(svg_art)["baking"]
        assert [f["id"] for f in baking["files"]] == ["png", "svg", "credential-svg"]
        assert baking["image"] == f"{BASE}badges/fire-warden.svg"
        assert baking["png"] == f"{BASE}badges/fire-warden/bake.png"
        assert "badges/fire-warden/bake.png" in files
        assert [f["id"] for f in context(png_art)["baking"]["files"]] == ["png"]
        assert context(svg_art)["image_url"] == f"{BASE}badges/fire-warden.svg"
    else:
        assert links[svg_art] == ["png", "svg", "json", "credential", "credential-svg", "jwt"]
        assert links[png_art] == ["png", "json", "credential", "jwt"]  # PNG art: no SVG wrapper
        assert links[withdrawn] == ["json", "credential", "jwt"]
        assert context(svg_art)["baking"] is None and context(png_art)["baking"] is None
        assert context(svg_art)["image_url"] == f"{BASE}{award_dir(svg_art.slug)}/badge.png"
    assert context(withdrawn)["baking"] is None


def test_no_page_loads_anything_from_another_site(site):
    model, files = site
    for path, data in files.items():
        if path.endswith(".html"):
            page = Page(data.decode())
            for url in page.resources:
                assert url.startswith(BASE) or url.startswith("data:"), (path, url)
            csp = next(v for k, v in _http_equiv(data.decode()))
            assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
    css = files["assets/site.css"].decode() + files["assets/theme.css"].decode()
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    for name in ("app.js", "verify.js", "bake.js"):
        js = files[f"assets/{name}"].decode()
        assert "http://" not in js.replace("http://www.w3.org/2000/svg", "").replace("http://openbadges.org", "")
        assert not re.search(r"https://(?!purl\.imsglobal\.org/ob/v3p0')", js), name


def _http_equiv(html: str):
    for match in re.finditer(r'<meta http-equiv="([^"]+)" content="([^"]+)">', html):
        yield match.group(1), match.group(2)


def test_badge_page_lists_only_earners_who_agreed(site):
    model, files = site
    badge = model.badge("first-aid-at-work")
    html = files["badges/first-aid-at-work/index.html"].decode()
    awards = model.awards_of("first-aid-at-work")
    standing = [a for a in awards if a.revocation is None and a.suspension is None]
    assert f"{len(standing)} people" in html
    for award in awards:
        listed = award.listed and award.show_name and award in standing
        assert (f'href="{BASE}{award_dir(award.slug)}/"' in html) == listed, award.recipient_name
    assert badge.criteria.splitlines()[0] in html


def test_index_issuer_404_and_verify_pages(site):
    model, files = site
    index = files["index.html"].decode()
    assert all(b.name in index for b in model.badges) and f'href="{BASE}verify/"' in index
    issuer = files["issuers/northwind/index.html"].decode()
    assert "badges@northwind-academy.example" in issuer and all(b.name in issuer for b in model.badges)
    assert "Page not found" in files["404.html"].decode()
    verify = files["verify/index.html"].decode()
    assert 'id="badge-file"' in verify and 'id="badge-text"' in verify and 'id="badge-url"' in verify
    # the verifier may fetch other issuers' badges, at the visitor's request; award pages may not
    assert "connect-src 'self' https: http:" in verify
    assert "connect-src 'self';" in files[f"{award_dir(model.awards[0].slug)}/index.html"].decode()


def test_the_certificate_is_the_award_pages_print_view(site):
    """One page per award: printing it gives the certificate, whose QR code the page's script draws."""
    model, files = site
    award = _award(model, "Ada Okafor", "first-aid-at-work")
    html = files[f"{award_dir(award.slug)}/index.html"].decode()
    url = f"{BASE}{award_dir(award.slug)}/"
    page = Page(html)
    certificate = page.by_id["certificate"]
    assert certificate is not None and page.by_id["print-certificate"]["href"] == "#certificate"
    assert f'data-qr="{url}"' in html and f'aria-label="QR code linking to {url}"' in html
    assert "Ada Okafor" in html and "First Aid at Work" in html and '<meta name="robots" content="noindex">' in html
    css = files["assets/site.css"].decode()
    assert "@page { size: landscape; margin: 10mm; }" in css
    assert ".page--award main > :not(.certificate-wrap) { display: none !important; }" in css
    assert not [p for p in files if p.endswith("certificate.html")]


def test_cpd_history_and_lapse_date_are_on_the_page(site):
    model, files = site
    current = next(a for a in model.awards if a.cpd is not None and a.cpd.current and a.cpd.period.needed)
    html = files[f"{award_dir(current.slug)}/index.html"].decode()
    assert "Continuing professional development" in html and "CPD history" in html
    for activity in current.cpd.period.activities:
        assert activity.title in html
    assert 'id="cpd-due"' in html


def test_markdown_script_and_event_handlers_render_inert(tmp_path: Path):
    project = copy_project("example", tmp_path)
    badge = project / "content/badges/manual-handling.yaml"
    badge.write_text(badge.read_text().replace(
        "Completed the two-hour practical session",
        'Completed <script>alert("x")</script> the <img src=x onerror="alert(1)"> practical session'))
    prepared = build(project, tmp_path / "out")
    assert prepared.model is not None, prepared.diagnostics
    for path, data in tree(tmp_path / "out").items():
        if path.endswith(".html"):
            text = data.decode()
            assert "<script>alert" not in text and "onerror" not in text, path


# ---------------------------------------------------------------- languages and theming

def test_catalogues_have_the_same_keys_and_no_empty_strings():
    en, fr = i18n.load(None, "en"), i18n.load(None, "fr")
    assert set(en.strings) ^ set(fr.strings) == {"date.first_day"}
    for catalogue in (en, fr):
        for key, value in catalogue.strings.items():
            assert value, key
            placeholders = set(re.findall(r"\{(\w+)\}", str(en.strings.get(key, ""))))
            assert placeholders == set(re.findall(r"\{(\w+)\}", str(value))), (catalogue.language, key)
    assert i18n.languages() == ("en", "fr")


_ARGUMENT = st.one_of(st.text(alphabet='<>&"\'{}ab é', max_size=8), st.integers(-3, 3),
                      st.text(alphabet='<>&"ab', max_size=6).map(Markup), st.none())


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='{}<>&"ab_ {{}}', max_size=14) | st.sampled_from(
    ["{name}", "{name} and {link}", "{{name}}", "{name!r}", "{name:>5}", "{0}", "{a.b}", "<b>{name}</b> {{x}}"]),
    arguments=st.dictionaries(st.sampled_from(["name", "link", "count", "a", "x"]), _ARGUMENT, max_size=4))
def test_a_string_with_arguments_is_the_markup_formatters(text: str, arguments: dict):
    """t() (Catalogue.markup) gives exactly what `Markup(escape(text)).format(...)` gives, or the same error."""
    catalogue = i18n.Catalogue("en", {"key": text})
    try:
        expected = Markup(escape(text)).format(**arguments)
    except Exception as exc:  # noqa: BLE001 - the same kind of error, whatever it is
        with pytest.raises(type(exc)):
            catalogue.markup("key", **arguments)
        return
    for _ in range(2):  # the second call takes the string escaped the first time
        found = catalogue.markup("key", **arguments)
        assert type(found) is Markup and found == expected


def test_every_shipped_string_is_the_markup_formatters():
    for language in i18n.languages():
        catalogue = i18n.load(None, language)
        for key, value in catalogue.strings.items():
            if isinstance(value, str):
                arguments = {name: f"<i>{name}</i>" for name in re.findall(r"\{(\w+)\}", value)}
                assert catalogue.markup(key, **arguments) == Markup(escape(value)).format(**arguments), key


def test_a_french_site_is_french_everywhere(tmp_path: Path):
    project = copy_project("example", tmp_path)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("language: en", "language: fr"))
    prepared = build(project, tmp_path / "out")
    assert prepared.model is not None, prepared.diagnostics
    award = _award(prepared.model, "Ada Okafor", "first-aid-at-work")
    html = (tmp_path / f"out/{award_dir(award.slug)}/index.html").read_text()
    assert '<html lang="fr">' in html
    for text in ("Délivré le 13 mars 2026", "Valable jusqu’au 13 mars 2029.", "Ajouter au profil LinkedIn",
                 "Ce badge est-il authentique ?", "Décerné à Ada Okafor"):
        assert text in html, text
    assert '"lang": "fr"' in html
    assert '"months":["janvier"' in (tmp_path / "out/assets/strings.js").read_text()
    first = next(a for a in prepared.model.awards if a.issued_on.day == 1)
    assert "1er" in (tmp_path / f"out/{award_dir(first.slug)}/index.html").read_text()


def test_a_provider_rewords_a_string_and_overrides_a_template(tmp_path: Path):
    project = copy_project("example", tmp_path)
    (project / "templates/i18n").mkdir(parents=True)
    (project / "templates/i18n/en.yaml").write_text("award:\n  eyebrow: Northwind credential\n")
    (project / "templates/404.html").write_text(
        "{% extends 'base.html' %}{% block main %}<p>Lost? {{ t('nav.badges') }}</p>{% endblock %}")
    prepared = build(project, tmp_path / "out")
    assert prepared.model is not None, prepared.diagnostics
    award = prepared.model.awards[0]
    assert "Northwind credential" in (tmp_path / f"out/{award_dir(award.slug)}/index.html").read_text()
    assert "<p>Lost? Badges</p>" in (tmp_path / "out/404.html").read_text()


def test_a_missing_string_is_a_located_error(tmp_path: Path):
    project = copy_project("example", tmp_path)
    (project / "templates").mkdir()
    (project / "templates/404.html").write_text("{% extends 'base.html' %}{% block main %}{{ t('nope.missing') }}"
                                                "{% endblock %}")
    prepared = build(project, tmp_path / "out")
    messages = [(d.code, d.message) for d in prepared.diagnostics]
    assert ("E601", "404.html: no string 'nope.missing' in the 'en' catalogue (templates/i18n/en.yaml)") in messages
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("primary, accent", [("#1f4e79", "#c8102e"), ("#ffe600", "#7fffd4"), ("#000000", "#ffffff")])
def test_theme_colours_are_made_readable(primary, accent):
    colours = theme.palette(Theme(primary, accent, None))
    assert theme.contrast(colours["primary"], colours["on-primary"]) >= 4.5
    assert theme.contrast(colours["primary-text"], "#ffffff") >= 4.5
    assert theme.contrast(colours["accent"], "#ffffff") >= 4.5
    assert colours["primary"] == primary  # the brand colour itself is kept for surfaces


def test_theme_stylesheet_logo_and_footer_come_from_site_yaml(site):
    model, files = site
    assert files["assets/theme.css"] == theme.stylesheet(model.site.theme)
    assert b"--primary: #1f4e79;" in files["assets/theme.css"]
    assert files["assets/logo.png"] == model.site.theme.logo.data
    for path in ("index.html", "404.html", "verify/index.html", "badges/food-hygiene/index.html"):
        html = files[path].decode()
        assert f'class="brand__logo" src="{BASE}assets/logo.png"' in html, path
        assert "12 Harbour Road, Northwind" in html and 'href="https://northwind-academy.example/privacy"' in html


# ---------------------------------------------------------------- status

def test_award_state_reads_the_lifecycle_from_the_model(site):
    model, _ = site
    revoked = next(a for a in model.awards if a.revocation is not None)
    state = award_state.award_state(revoked)
    assert (state.kind, state.reason, state.since) == ("revoked", revoked.revocation.reason, revoked.revocation.on)
    suspended = next(a for a in model.awards if a.suspension is not None)
    assert award_state.award_state(suspended).kind == "suspended" and award_state.award_state(suspended).withdrawn
    plain = next(a for a in model.awards if a.revocation is None and a.suspension is None)
    assert award_state.award_state(plain).kind == "active"


def test_expiry_state_matches_the_browser_rule():
    expires = datetime(2026, 12, 8, tzinfo=timezone.utc)
    assert award_state.expiry_state(None, FIXED_NOW) == "valid"
    assert award_state.expiry_state(expires, FIXED_NOW) == "expiring"
    assert award_state.expiry_state(datetime(2027, 6, 1, tzinfo=timezone.utc), FIXED_NOW) == "valid"
    assert award_state.expiry_state(datetime(2026, 11, 10, tzinfo=timezone.utc), FIXED_NOW) == "expired"
    assert award_state.expiry_state(FIXED_NOW, FIXED_NOW) == "expired"
    assert f"soonDays: Number(page.soonDays || {award_state.EXPIRING_SOON_DAYS})" in (
        Path(__file__).resolve().parent.parent / "templates/assets/app.js").read_text()
