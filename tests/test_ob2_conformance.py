"""The built example site, judged by tools nobody on this team wrote.

The IMS Open Badges 2.0 validator (badgecheck) fetches every assertion over HTTP from the
site served on 127.0.0.1, exactly as a consumer would; openbadges-bakery unbakes every image.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import defusedxml.minidom
import pytest
from conftest import award_dir, baked_downloads, build, copy_project
from ob2validator import error_messages, serve_directory, validate
from openbadges_bakery import unbake as bakery_unbake


@pytest.fixture(scope="module", params=["minimal", "full"])
def served_example(tmp_path_factory, request):
    """The example built for the loopback URL it is served at, in both `outputs:` modes."""
    project = copy_project("example", tmp_path_factory.mktemp("ob2"))
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + f"outputs: {request.param}\n")
    site = project / "_site"
    site.mkdir()
    with serve_directory(site) as base_url:
        prepared = build(project, site, base_url=base_url)
        assert prepared.model is not None, prepared.diagnostics
        yield prepared, site, base_url


def test_every_assertion_passes_the_ims_validator(served_example):
    prepared, site, base_url = served_example
    urls = [f"{base_url}{award_dir(a.slug)}/assertion.json" for a in prepared.model.awards]
    results = validate(urls)
    assert len(results) == len(prepared.model.awards) >= 40
    failures = {r["input"]: error_messages(r) for r in results if not r["valid"] or r["errorCount"]}
    now = datetime.now(timezone.utc)
    expired = {f"{base_url}{award_dir(a.slug)}/assertion.json": a for a in prepared.model.awards
               if a.expires and a.expires < now}
    assert expired, "the example shows an expired award"
    # revoked and suspended awards are served as the revoked stub, which badgecheck reports invalid
    revoked = {f"{base_url}{award_dir(a.slug)}/assertion.json" for a in prepared.model.awards
               if a.revocation or a.suspension}
    assert revoked, "the example shows a revoked award"
    assert set(failures) == set(expired) | revoked, failures
    for url, award in expired.items():  # expired awards fail for exactly that reason
        if url not in revoked:
            assert failures[url] == [f"Assertion {url} expired on {award.expires:%Y-%m-%dT%H:%M:%SZ}"]
    for url in revoked:
        assert len(failures[url]) == 1 and "Chosen OBClass None not implemented yet" in failures[url][0]
    assert all(not r["blockedUrls"] for r in results)


def test_recipient_email_check_in_the_ims_validator(served_example):
    prepared, site, base_url = served_example
    award = next(a for a in prepared.model.awards if a.badge == "manual-handling")
    url = f"{base_url}{award_dir(award.slug)}/assertion.json"
    typed = "  " + award.email.upper() + " "  # as a hurried verifier types it, normalised by us
    right, wrong = validate([url], recipient=award.email)[0], validate([url], recipient="someone@example.com")[0]
    assert right["valid"] and right["errorCount"] == 0, error_messages(right)
    assert not wrong["valid"]
    assert any("did not match" in m for m in error_messages(wrong))
    assert typed.strip().lower() == award.email


def test_every_baked_image_unbakes_to_the_hosted_assertion(served_example):
    """Published per award (`outputs: full`) or baked at download (what assets/bake.js makes)."""
    prepared, site, base_url = served_example
    full = prepared.model.site.outputs == "full"
    for award in prepared.model.awards:
        folder = site / award_dir(award.slug)
        hosted = json.loads((folder / "assertion.json").read_bytes())
        if award.revocation or award.suspension:
            # the hosted file is the revoked stub; a published image keeps the assertion as issued, same id
            assert set(hosted) == {"@context", "id", "revoked", "revocationReason"} and hosted["revoked"] is True
            if full:
                baked = json.loads(bakery_unbake(io.BytesIO((folder / "badge.png").read_bytes())))
                assert baked["id"] == hosted["id"] and baked["type"] == "Assertion"
            continue
        images = {name: (folder / f"badge.{name}").read_bytes() for name in ("png", "svg")
                  if (folder / f"badge.{name}").is_file()} if full else baked_downloads(site, award)
        assert set(images) == ({"png", "svg"} if prepared.model.badge(award.badge).image.format == "svg" else {"png"})
        assert json.loads(bakery_unbake(io.BytesIO(images["png"]))) == hosted
        if "svg" not in images:  # PNG art gets no SVG: it would be the same picture again
            continue
        svg = images["svg"]
        assert bakery_unbake(io.BytesIO(svg)) == hosted["id"]  # the bakery returns `verify` for SVG
        node = defusedxml.minidom.parseString(svg).getElementsByTagNameNS("http://openbadges.org", "assertion")[0]
        body = "".join(n.nodeValue for n in node.childNodes if n.nodeType == n.CDATA_SECTION_NODE)
        assert json.loads(body) == hosted


def test_badge_classes_and_issuer_are_served_as_json(served_example):
    prepared, site, base_url = served_example
    issuer = json.loads((site / "issuers/northwind.json").read_text())
    assert issuer["id"] == f"{base_url}issuers/northwind.json"
    assert {"name", "url", "email"} <= set(issuer)
    for badge in prepared.model.badges:
        doc = json.loads((site / f"badges/{badge.slug}.json").read_text())
        assert doc["issuer"] == issuer["id"]
        assert doc["image"].startswith(base_url) and (site / doc["image"][len(base_url):]).is_file()
