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
from conftest import build, copy_project
from ob2validator import error_messages, serve_directory, validate
from openbadges_bakery import unbake as bakery_unbake


@pytest.fixture(scope="module")
def served_example(tmp_path_factory):
    """The example built for the loopback URL it is served at."""
    project = copy_project("example", tmp_path_factory.mktemp("ob2"))
    site = project / "_site"
    site.mkdir()
    with serve_directory(site) as base_url:
        prepared = build(project, site, base_url=base_url)
        assert prepared.model is not None, prepared.diagnostics
        yield prepared, site, base_url


def test_every_assertion_passes_the_ims_validator(served_example):
    prepared, site, base_url = served_example
    urls = [f"{base_url}a/{a.slug}.json" for a in prepared.model.awards]
    results = validate(urls)
    assert len(results) == len(prepared.model.awards) >= 40
    failures = {r["input"]: error_messages(r) for r in results if not r["valid"] or r["errorCount"]}
    now = datetime.now(timezone.utc)
    expired = {f"{base_url}a/{a.slug}.json": a for a in prepared.model.awards if a.expires and a.expires < now}
    assert expired, "the example shows an expired award"
    # revoked and suspended awards are served as the revoked stub, which badgecheck reports invalid
    revoked = {f"{base_url}a/{a.slug}.json" for a in prepared.model.awards if a.revocation or a.suspension}
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
    url = f"{base_url}a/{award.slug}.json"
    typed = "  " + award.email.upper() + " "  # as a hurried verifier types it, normalised by us
    right, wrong = validate([url], recipient=award.email)[0], validate([url], recipient="someone@example.com")[0]
    assert right["valid"] and right["errorCount"] == 0, error_messages(right)
    assert not wrong["valid"]
    assert any("did not match" in m for m in error_messages(wrong))
    assert typed.strip().lower() == award.email


def test_every_baked_image_unbakes_to_the_hosted_assertion(served_example):
    prepared, site, base_url = served_example
    for award in prepared.model.awards:
        hosted = json.loads((site / f"a/{award.slug}.json").read_bytes())
        if award.revocation or award.suspension:
            # the hosted file is the revoked stub; the images keep the assertion as issued, same id
            assert set(hosted) == {"@context", "id", "revoked", "revocationReason"} and hosted["revoked"] is True
            baked = json.loads(bakery_unbake(io.BytesIO((site / f"a/{award.slug}.png").read_bytes())))
            assert baked["id"] == hosted["id"] and baked["type"] == "Assertion"
            continue
        png = (site / f"a/{award.slug}.png").read_bytes()
        assert json.loads(bakery_unbake(io.BytesIO(png))) == hosted
        svg = (site / f"a/{award.slug}.svg").read_bytes()
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
