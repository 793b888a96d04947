"""Baking tests on real image bytes: round trips, byte preservation, and independent readers.

openbadges-bakery (concentricsky) and Pillow read our output without any of our code, which is the
evidence that the bytes match what other badge software expects.
"""
from __future__ import annotations

import io
import json
import random
import struct
import zlib
from pathlib import Path

import defusedxml.minidom
import pytest
from badgekiln.bake import Baked, BakeError, bake, sniff, unbake
from openbadges_bakery import bake as bakery_bake
from openbadges_bakery import unbake as bakery_unbake
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures" / "bake"
PNGS = ["badge-rgba.png", "badge-palette.png"]
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"

ASSERTION_ID = "https://badges.example.org/assertions/9f0c2a.json"
ASSERTION = json.dumps(
    {
        "@context": "https://w3id.org/openbadges/v2",
        "badge": "https://badges.example.org/badges/python.json",
        "id": ASSERTION_ID,
        "issuedOn": "2024-05-01T00:00:00Z",
        "narrative": "Zoë Ångström 日本 passed",
        "recipient": {"hashed": True, "identity": "sha256$abc", "type": "email"},
        "type": "Assertion",
        "verification": {"type": "HostedBadge"},
    },
    sort_keys=True, ensure_ascii=False, separators=(",", ":"),
)
CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "credentialSubject": {"achievement": {"name": "Zoë Ångström 日本"}},
        "id": "urn:uuid:3b0f7e5e-1111-4222-8333-444455556666",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
    },
    sort_keys=True, ensure_ascii=False, separators=(",", ":"),
)
JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUub3JnIn0.c2lnbmF0dXJlLWJ5dGVz"
TRICKY = json.dumps({"id": ASSERTION_ID, "note": "a ]]> b ]]]]> c <x> & 'q' \"d\""})


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def chunks(png: bytes) -> list[bytes]:
    """Raw chunk bytes (length..CRC), walked independently of generator.bake."""
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        out.append(png[pos:pos + 12 + length])
        pos += 12 + length
    return out


def itxt(keyword: bytes, text: bytes, flag: int = 0) -> bytes:
    data = keyword + b"\x00" + bytes([flag, 0]) + b"\x00\x00" + text
    return struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))


def svg_kwargs(version: str, payload: str) -> dict:
    hosted = version == "ob2" and payload.startswith("{")
    return {"version": version, "verify": ASSERTION_ID if hosted else None}


# --- sniffing -------------------------------------------------------------------------------------

def test_sniff():
    assert sniff(fixture("badge-rgba.png")) == "png"
    assert sniff(fixture("badge.svg")) == "svg"
    assert sniff(b'\xef\xbb\xbf<!-- <html> --><?pi x?>\n<s:svg xmlns:s="http://www.w3.org/2000/svg"/>') == "svg"


@pytest.mark.parametrize("data", [
    b"", b"garbage bytes", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"GIF89a", b"<html><svg/></html>",
    b"<!-- <svg> -->", "<svg/>".encode("utf-16"),
])
def test_sniff_rejects(data):
    with pytest.raises(BakeError) as err:
        sniff(data)
    assert err.value.code == "E403"


def test_sniff_rejects_non_bytes():
    with pytest.raises(BakeError) as err:
        unbake("<svg/>")  # type: ignore[arg-type]
    assert err.value.code == "E403"


# --- PNG ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PNGS)
@pytest.mark.parametrize("version", ["ob2", "ob3"])
@pytest.mark.parametrize("payload", [ASSERTION, CREDENTIAL, JWS, TRICKY])
def test_png_round_trip(name, version, payload):
    baked = bake(fixture(name), payload, version=version)
    assert unbake(baked) == [Baked(version, payload, None)]


def test_png_unbaked_image_has_no_badges():
    assert unbake(fixture("badge-rgba.png")) == []


@pytest.mark.parametrize("name", PNGS)
def test_png_keeps_pixels_and_chunks(name):
    original = fixture(name)
    baked = bake(original, ASSERTION, version="ob2")
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(baked))
    assert (after.mode, after.size) == (before.mode, before.size)
    assert after.tobytes() == before.tobytes()
    assert after.getpalette() == before.getpalette()
    old = chunks(original)
    assert chunks(baked) == old[:-1] + [itxt(b"openbadges", ASSERTION.encode())] + old[-1:]
    assert baked[:8] == original[:8]


def test_png_chunk_layout_is_exact():
    baked = bake(fixture("badge-rgba.png"), CREDENTIAL, version="ob3")
    new = chunks(baked)[-2]
    assert new[4:8] == b"iTXt"
    assert new[8:8 + 24] == b"openbadgecredential\x00\x00\x00\x00\x00"
    assert new[8 + 24:-4] == CREDENTIAL.encode("utf-8")
    assert chunks(baked)[-1] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def test_png_pillow_reads_itxt():
    baked = bake(bake(fixture("badge-rgba.png"), ASSERTION, version="ob2"), CREDENTIAL, version="ob3")
    img = Image.open(io.BytesIO(baked))
    img.load()
    assert img.text["openbadges"] == ASSERTION
    assert img.text["openbadgecredential"] == CREDENTIAL
    assert img.info["Software"] == "Badgekiln test fixture"


def test_png_rebake_replaces():
    once = bake(fixture("badge-rgba.png"), TRICKY, version="ob2")
    twice = bake(once, ASSERTION, version="ob2")
    assert twice == bake(fixture("badge-rgba.png"), ASSERTION, version="ob2")
    assert sum(c[8:19] == b"openbadges\x00" for c in chunks(twice)) == 1
    assert unbake(twice) == [Baked("ob2", ASSERTION)]


def test_png_carries_both_versions_in_file_order():
    ob3_first = bake(bake(fixture("badge-palette.png"), CREDENTIAL, version="ob3"), ASSERTION, version="ob2")
    assert unbake(ob3_first) == [Baked("ob3", CREDENTIAL), Baked("ob2", ASSERTION)]
    rebaked = bake(ob3_first, JWS, version="ob3")  # replacing one keeps the other
    assert unbake(rebaked) == [Baked("ob2", ASSERTION), Baked("ob3", JWS)]


def test_png_is_deterministic():
    a = bake(fixture("badge-rgba.png"), ASSERTION, version="ob2")
    b = bake(bytearray(fixture("badge-rgba.png")), ASSERTION, version="ob2")
    assert a == b


def test_png_legacy_text_chunk():
    original = fixture("legacy-text.png")
    url = "https://badges.example.org/assertions/legacy.json"
    assert unbake(original) == [Baked("ob2", url, None)]
    rebaked = bake(original, ASSERTION, version="ob2")
    assert unbake(rebaked) == [Baked("ob2", ASSERTION)]
    assert not any(c[4:8] == b"tEXt" for c in chunks(rebaked))


def test_png_compressed_itxt_is_read():
    old = chunks(fixture("badge-rgba.png"))
    compressed = itxt(b"openbadges", zlib.compress(ASSERTION.encode()), 1)
    png = b"\x89PNG\r\n\x1a\n" + b"".join(old[:1] + [compressed] + old[1:])
    assert unbake(png) == [Baked("ob2", ASSERTION)]


def test_openbadges_bakery_reads_our_png():
    baked = bake(fixture("badge-rgba.png"), ASSERTION, version="ob2")
    assert bakery_unbake(io.BytesIO(baked)) == ASSERTION
    both = bake(baked, CREDENTIAL, version="ob3")
    assert bakery_unbake(io.BytesIO(both)) == ASSERTION


def test_we_read_and_rebake_openbadges_bakery_png():
    theirs = bakery_bake(io.BytesIO(fixture("badge-rgba.png")), TRICKY).read()
    assert chunks(theirs)[1][4:8] == b"iTXt"  # the bakery puts it right after IHDR
    assert unbake(theirs) == [Baked("ob2", TRICKY)]
    ours = bake(theirs, ASSERTION, version="ob2")
    assert unbake(ours) == [Baked("ob2", ASSERTION)]
    assert sum(c[4:8] == b"iTXt" for c in chunks(ours)) == 1


def _bad_crc_ihdr(png: bytes) -> bytes:
    return png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]


@pytest.mark.parametrize("damage", [
    lambda p: p[:-5],                       # truncated IEND
    lambda p: p[:40],                       # truncated mid-chunk
    lambda p: p[:8],                        # signature only
    lambda p: b"\x89PNG\r\n\x1a\x0b" + p[8:],  # damaged signature (still sniffed? no -> E403)
    _bad_crc_ihdr,
    lambda p: p[:-12],                      # missing IEND
    lambda p: p + b"trailing",
    lambda p: p[:8] + p[33:],               # IHDR removed
    lambda p: p[:-12] + itxt(b"openbadges", b"x")[:-1] + b"\x00" + p[-12:],  # bad CRC on our chunk
    lambda p: p[:-12] + struct.pack(">I", 5) + b"iT#t" + b"x" * 9 + p[-12:],  # invalid chunk type
])
def test_png_damage_raises_coded_error(damage):
    png = damage(fixture("badge-rgba.png"))
    for call in (lambda: unbake(png), lambda: bake(png, ASSERTION, version="ob2")):
        with pytest.raises(BakeError) as err:
            call()
        assert err.value.code in ("E402", "E403")


@pytest.mark.parametrize("text, flag", [
    (b"no separators", 0), (b"\x00only-one", 0), (b"\x00\x00\xff\xfe", 0), (b"\x00\x00not zlib", 1),
    (b"\x00\x00" + zlib.compress(b"{}")[:-3], 1),
])
def test_png_damaged_badge_chunk(text, flag):
    old = chunks(fixture("badge-rgba.png"))
    data = b"openbadges\x00" + bytes([flag, 0]) + text
    bad = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    png = b"\x89PNG\r\n\x1a\n" + b"".join(old[:-1] + [bad] + old[-1:])
    with pytest.raises(BakeError) as err:
        unbake(png)
    assert err.value.code == "E402"


def test_png_every_truncation_is_a_coded_error():
    baked = bake(fixture("badge-palette.png"), ASSERTION, version="ob2")
    for end in range(len(baked)):
        with pytest.raises(BakeError):
            unbake(baked[:end])


# --- SVG ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["ob2", "ob3"])
@pytest.mark.parametrize("payload", [ASSERTION, CREDENTIAL, JWS])
def test_svg_round_trip(version, payload):
    kwargs = svg_kwargs(version, payload)
    baked = bake(fixture("badge.svg"), payload, **kwargs)
    verify = kwargs["verify"] or (payload if payload == JWS else None)
    assert unbake(baked) == [Baked(version, payload, verify)]


def test_svg_ob2_hosted_markup_is_exact():
    original = fixture("badge.svg")
    baked = bake(original, ASSERTION, version="ob2", verify=ASSERTION_ID)
    element = (f'<openbadges:assertion verify="{ASSERTION_ID}"><![CDATA[{ASSERTION}]]>'
               "</openbadges:assertion>").encode()
    root_end = original.index(b'data-note="a > b &amp; c">') + len(b'data-note="a > b &amp; c"')
    expected = (original[:root_end] + f' xmlns:openbadges="{OB2_NS}"'.encode() + b">" + element
                + original[root_end + 1:])
    assert baked == expected


@pytest.mark.parametrize("version, payload, element", [
    ("ob2", JWS, f'<openbadges:assertion verify="{JWS}"/>'),
    ("ob3", JWS, f'<openbadges:credential verify="{JWS}"></openbadges:credential>'),
    ("ob3", CREDENTIAL, f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>"),
])
def test_svg_element_shapes(version, payload, element):
    baked = bake(b'<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>', payload, version=version)
    ns = OB2_NS if version == "ob2" else OB3_NS
    assert baked == (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{ns}">'
                     f"{element}<g/></svg>").encode()


def test_svg_rebake_replaces_and_is_deterministic():
    original = fixture("badge.svg")
    once = bake(original, TRICKY, version="ob2", verify="https://other.example/a.json")
    twice = bake(once, ASSERTION, version="ob2", verify=ASSERTION_ID)
    assert twice == bake(original, ASSERTION, version="ob2", verify=ASSERTION_ID)
    assert twice.count(b"<openbadges:assertion") == 1
    assert twice.count(b"xmlns:openbadges") == 1
    assert unbake(twice) == [Baked("ob2", ASSERTION, ASSERTION_ID)]


def test_svg_removes_element_anywhere_by_namespace():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg"><g><ob:assertion xmlns:ob="http://openbadges.org" '
           b'verify="https://x.example/old"><![CDATA[{"id":"old"}]]></ob:assertion></g></svg>')
    baked = bake(svg, JWS, version="ob2")
    assert unbake(baked) == [Baked("ob2", JWS, JWS)]
    assert b"old" not in baked and b"<g></g>" in baked


def test_svg_keeps_everything_else():
    original = fixture("badge.svg")
    baked = bake(original, CREDENTIAL, version="ob3")
    element = f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>".encode()
    stripped = baked.replace(element, b"").replace(f' xmlns:openbadges="{OB3_NS}"'.encode(), b"")
    assert stripped == original


@pytest.mark.parametrize("svg, expected", [
    (b'<svg xmlns="http://www.w3.org/2000/svg" a="x/>y"/>',
     b'<svg xmlns="http://www.w3.org/2000/svg" a="x/>y" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
     b"{E}</svg>"),
    (b"<?xml version='1.0' encoding='utf-8'?>\n<!-- <svg bogus='1'> -->\n<?app x?>\n"
     b"<svg xmlns='http://www.w3.org/2000/svg'\n  b='>'\n/>\n<!-- after -->\n",
     b"<?xml version='1.0' encoding='utf-8'?>\n<!-- <svg bogus='1'> -->\n<?app x?>\n"
     b"<svg xmlns='http://www.w3.org/2000/svg'\n  b='>' xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">"
     b"{E}</svg>\n<!-- after -->\n"),
    (b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
     b'<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:rect/></s:svg>',
     b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
     b'<s:svg xmlns:s="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
     b"{E}<s:rect/></s:svg>"),
])
def test_svg_root_start_tag_is_found_robustly(svg, expected):
    element = f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>".encode()
    baked = bake(svg, CREDENTIAL, version="ob3")
    assert baked == expected.replace(b"{E}", element)
    assert unbake(baked) == [Baked("ob3", CREDENTIAL)]


def test_svg_existing_same_namespace_declaration_is_reused():
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB3_NS}"></svg>'.encode()
    baked = bake(svg, JWS, version="ob3")
    assert baked.count(b"xmlns:openbadges") == 1
    assert unbake(baked) == [Baked("ob3", JWS, JWS)]


def test_svg_prefix_bound_elsewhere_is_refused():
    ob2 = bake(fixture("badge.svg"), ASSERTION, version="ob2", verify=ASSERTION_ID)
    with pytest.raises(BakeError) as err:
        bake(ob2, CREDENTIAL, version="ob3")
    assert err.value.code == "E406" and "separate files" in err.value.message


@pytest.mark.parametrize("version", ["ob2", "ob3"])
def test_svg_cdata_terminator_in_payload(version):
    baked = bake(fixture("badge.svg"), TRICKY, **svg_kwargs(version, TRICKY))
    (found,) = unbake(baked)
    assert "]]>" not in found.payload and "\\u003e" in found.payload
    assert json.loads(found.payload) == json.loads(TRICKY)


def test_svg_unicode_payload_bytes():
    baked = bake(fixture("badge.svg"), CREDENTIAL, version="ob3")
    assert "Zoë Ångström 日本".encode("utf-8") in baked
    assert unbake(baked)[0].payload == CREDENTIAL


def test_svg_attribute_is_escaped():
    url = 'https://badges.example.org/a?x=1&y="2"<'
    baked = bake(b"<svg/>", ASSERTION, version="ob2", verify=url)
    assert b'verify="https://badges.example.org/a?x=1&amp;y=&quot;2&quot;&lt;"' in baked
    assert unbake(baked) == [Baked("ob2", ASSERTION, url)]


def test_openbadges_bakery_reads_our_svg():
    hosted = bake(fixture("badge.svg"), ASSERTION, version="ob2", verify=ASSERTION_ID)
    # The bakery returns `verify` when present (the hosted URL) and otherwise the CDATA body.
    assert bakery_unbake(io.BytesIO(hosted)) == ASSERTION_ID
    node = defusedxml.minidom.parseString(hosted).getElementsByTagName("openbadges:assertion")[0]
    assert [n.nodeValue for n in node.childNodes if n.nodeType == n.CDATA_SECTION_NODE] == [ASSERTION]
    signed = bake(fixture("badge.svg"), JWS, version="ob2")
    assert bakery_unbake(io.BytesIO(signed)) == JWS


def test_we_read_and_rebake_openbadges_bakery_svg():
    theirs = bakery_bake(io.BytesIO(fixture("badge.svg")), ASSERTION).read()
    assert unbake(theirs) == [Baked("ob2", ASSERTION, ASSERTION_ID)]
    ours = bake(theirs, JWS, version="ob2")
    assert unbake(ours) == [Baked("ob2", JWS, JWS)]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>"""


@pytest.mark.parametrize("svg, code", [
    (b"<svg><g></svg>", "E402"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'>&undefined;</svg>", "E402"),
    (b"<svg a='1' a='2'/>", "E402"),
    (b"<svg/><svg/>", "E402"),
    (BILLION_LAUGHS, "E405"),
    (XXE, "E405"),
    (b"<html/>", "E403"),
    (b'<?xml version="1.0" encoding="no-such-codec"?><svg/>', "E402"),
])
def test_svg_malformed_raises_coded_error(svg, code):
    for call in (lambda: unbake(svg), lambda: bake(svg, JWS, version="ob3")):
        with pytest.raises(BakeError) as err:
            call()
        assert err.value.code == code


def test_svg_non_utf8_encoding_is_refused_for_baking_only():
    svg = b'<?xml version="1.0" encoding="ISO-8859-1"?><svg><title>Zo\xeb</title></svg>'
    assert unbake(svg) == []
    with pytest.raises(BakeError) as err:
        bake(svg, JWS, version="ob3")
    assert err.value.code == "E403"


def test_svg_empty_badge_element_is_an_error():
    svg = f'<svg xmlns:openbadges="{OB2_NS}"><openbadges:assertion/></svg>'.encode()
    with pytest.raises(BakeError) as err:
        unbake(svg)
    assert err.value.code == "E402"


def test_svg_every_truncation_is_a_coded_error():
    baked = bake(fixture("badge.svg"), ASSERTION, version="ob2", verify=ASSERTION_ID)
    for end in range(0, len(baked) - 1, 5):
        with pytest.raises(BakeError):
            unbake(baked[:end])


def test_mutated_images_never_raise_raw_exceptions():
    rng = random.Random(7)
    seeds = [fixture(n) for n in ("badge-rgba.png", "badge-palette.png", "badge.svg")]
    for _ in range(1500):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[pos:pos] = bytes(rng.choice(b"<>/!?[]'\"=&:x\x00") for _ in range(rng.randint(1, 5)))
            else:
                del data[pos:pos + rng.randint(1, 8)]
        for call in (lambda: unbake(bytes(data)), lambda: bake(bytes(data), JWS, version="ob3")):
            try:
                call()
            except BakeError:
                pass


# --- arguments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("image", ["badge-rgba.png", "badge.svg"])
@pytest.mark.parametrize("payload, version", [
    (ASSERTION, "ob4"), ("", "ob2"), ("not a badge", "ob2"), ("{not json", "ob2"), ("[1]", "ob2"),
    ('{"a": "\ud800"}', "ob2"), (b"{}", "ob2"),
])
def test_bad_arguments(image, payload, version):
    with pytest.raises(BakeError) as err:
        bake(fixture(image), payload, version=version, verify=ASSERTION_ID)
    assert err.value.code == "E406"


@pytest.mark.parametrize("payload, version, verify", [
    (ASSERTION, "ob2", None),            # hosted OB 2.0 needs the assertion URL
    (ASSERTION, "ob2", "bad\nurl"),
    (CREDENTIAL, "ob3", ASSERTION_ID),   # embedded proof: no verify attribute
    (JWS, "ob2", ASSERTION_ID),          # a JWS is its own verify value
    ('{"id": "\ufffe"}', "ob3", None),   # JSON value XML cannot carry
])
def test_bad_svg_arguments(payload, version, verify):
    with pytest.raises(BakeError) as err:
        bake(fixture("badge.svg"), payload, version=version, verify=verify)
    assert err.value.code == "E406"


def test_png_ignores_verify():
    png = fixture("badge-rgba.png")
    assert bake(png, ASSERTION, version="ob2", verify=ASSERTION_ID) == bake(png, ASSERTION, version="ob2")
