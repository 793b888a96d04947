"""templates/assets/bake.js under node against the Python baker, on many generated inputs.

The award page bakes the badge a recipient downloads in the browser; these properties are what
prove that its bytes are the Python baker's for any input, not only for the few pages the
browser tests open: canonical JSON re-serialised from any spelling of the same value (numbers,
escapes, key order by code point), PNG chunk splicing over images that already carry text
chunks, SVG element splicing over prologs, namespaces, self-closing roots and old badge
elements, and the page's whole download flow (fetch, revoked stub, failures). Wherever the
Python baker refuses an input, bake.js must refuse it too rather than make other bytes.
"""
from __future__ import annotations

import base64
import json
import subprocess
import zlib
from pathlib import Path

import pytest
from badgekiln import bake, canonical
from badgekiln.bake import BakeError, png
from conftest import REPO, TESTS
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st
from test_independent_verifier import require_node

WORKER = TESTS / "js" / "bake-worker.mjs"
FIXTURES = TESTS / "fixtures" / "bake"
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"


class Worker:
    """One long-lived `node bake-worker.mjs`: a request per line, an answer per line."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([require_node(), str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, encoding="utf-8", bufsize=1)

    def call(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        reply = json.loads(self.process.stdout.readline())
        return reply.get("ok", {"error": reply.get("error")})

    def bytes_or_error(self, image: bytes, **request) -> bytes | str:
        answer = self.call(image=base64.b64encode(image).decode(), **request)
        return "error" if isinstance(answer, dict) else base64.b64decode(answer)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture(scope="module")
def js():
    worker = Worker()
    yield worker
    worker.close()


def python_or_error(make) -> bytes | str:
    """The Python baker's bytes, or "error" (noted as a hypothesis event, so statistics show both kinds)."""
    try:
        baked = make()
    except BakeError as exc:
        baked = "error"
        outcome = f"refused {exc.code}"
    else:
        outcome = "baked"
    if currently_in_test_context():
        event(outcome)
    return baked


# ---------------------------------------------------------------- canonical JSON

text_chars = st.characters(exclude_categories=("Cs",))  # UTF-8 cannot carry lone surrogates
scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(text_chars, max_size=12))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(text_chars, max_size=6), inner, max_size=5), max_leaves=25)


@PROPERTY
@given(value=json_values)
@example(value={"\ue000": 1, "\U0001f600": 2, "z": [1e16, 1e15, 0.0001, 1e-05, -0.0, 5e-324, 1.7976931348623157e308]})
@example(value={"creditsAvailable": 2.5, "n": 18, "big": 12345678901234567890123, "s": "\x00\x1f\x7f\u2028\ufffe\""})
def test_canonical_json_is_pythons_from_any_spelling(js, value):
    """However the JSON is written (published pretty form, ASCII-escaped, tabs), the same canonical text."""
    expected = canonical.dumps(value)
    for spelling in (canonical.json_bytes(value).decode("utf-8"), json.dumps(value), json.dumps(value, indent="\t")):
        assert js.call(op="canonical", text=spelling) == expected


@PROPERTY
@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_read_and_written_as_python_does_whatever_their_spelling(js, number):
    """json.loads reads "1" as an int and "1.0" or "1e0" as a float; dumps writes a float as repr()."""
    for spelling in (repr(number), f"{number:.17g}", f"{number:e}".replace("e", "E"), f"{number:.20f}"):
        text = f"[{spelling}]"
        assert js.call(op="canonical", text=text) == canonical.dumps(json.loads(text)), spelling


@pytest.mark.parametrize("text, expected", [
    ("[-0, 1E2, 1.0, -0.0, 10e-1]", "[0,100.0,1.0,-0.0,1.0]"),
    ('{"a": 1, "a": 2}', '{"a":2}'),  # json.loads keeps the last
    ('"\\u00e9\\ud83d\\ude00\\/"', '"é😀/"'),
])
def test_canonical_json_edge_spellings(js, text, expected):
    assert canonical.dumps(json.loads(text)) == expected
    assert js.call(op="canonical", text=text) == expected


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udc00": 1}', "{", "[1,]", "", "{'a': 1}", "NaN", "[Infinity]"])
def test_what_python_cannot_bake_is_refused(js, text):
    """Not JSON, or a lone surrogate (no UTF-8 for it). NaN and Infinity, which json.loads reads, are
    refused too: the build never publishes them (credits are finite decimals)."""
    if text not in ("NaN", "[Infinity]"):
        with pytest.raises((ValueError, BakeError)):
            bake.check_payload(canonical.dumps({"v": json.loads(text)}), "ob2")
    assert "error" in js.call(op="canonical", text=text)


# ---------------------------------------------------------------- PNG

PNG_BASES = ["badge-rgba.png", "badge-palette.png", "legacy-text.png"]
text_chunk = st.tuples(st.sampled_from([b"iTXt", b"tEXt", b"zTXt"]),
                       st.sampled_from([b"openbadges", b"openbadgecredential", b"Comment", b"openbadgesX", b"open"]),
                       st.binary(max_size=20))


def png_with(base: str, extra: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """A fixture PNG with text chunks added before IEND (old badges to replace, other metadata to keep)."""
    chunks = png.read_chunks((FIXTURES / base).read_bytes())
    for kind, keyword, text in extra:
        body = {b"iTXt": b"\x00\x00\x00\x00", b"tEXt": b"", b"zTXt": b"\x00"}[kind]
        data = keyword + b"\x00" + body + (zlib.compress(text) if kind == b"zTXt" else text)
        chunks.insert(len(chunks) - 1, (kind, data))
    return png.SIGNATURE + b"".join(png.write_chunk(t, d) for t, d in chunks)


@PROPERTY
@given(base=st.sampled_from(PNG_BASES), extra=st.lists(text_chunk, max_size=4), payload=json_values,
       version=st.sampled_from(["ob2", "ob3"]))
def test_png_bake_is_the_python_bakers(js, base, extra, payload, version):
    image = png_with(base, extra)
    text = canonical.dumps({"payload": payload})
    expected = python_or_error(lambda: bake.bake(image, text, version=version))
    assert js.bytes_or_error(op="png", image=image, payload=text, version=version) == expected


@pytest.mark.parametrize("base", PNG_BASES)
def test_damaged_pngs_are_refused_like_python_refuses_them(js, base):
    image = png_with(base, [(b"iTXt", b"openbadges", b"{}")])
    damaged = [image[:n] for n in range(len(image))] + [image + b"\x00"]
    damaged += [image[:i] + bytes([image[i] ^ 0x41]) + image[i + 1:] for i in range(len(image))]
    for data in damaged:
        expected = python_or_error(lambda: bake.bake(data, "{}", version="ob2"))
        assert js.bytes_or_error(op="png", image=data, payload="{}", version="ob2") == expected


# ---------------------------------------------------------------- SVG

ROOT_ATTRIBUTES = [  # (name, markup): at most one of each name
    ("xmlns", 'xmlns="http://www.w3.org/2000/svg"'), ("viewBox", "viewBox='0 0 10 10'"),
    ("width", 'width="10"'), ("xmlns:openbadges", f'xmlns:openbadges="{OB2_NS}"'),
    ("xmlns:openbadges", f"xmlns:openbadges='{OB3_NS}'"), ("xmlns:openbadges", 'xmlns:openbadges="urn:other"'),
    ("data-x", 'data-x="a &amp; b=&quot;c&quot; &lt;d/&gt;"'), ("xmlns:ob", f'xmlns:ob="{OB2_NS}"'),
]
CHILDREN = [
    '<rect width="10" height="10"/>', "<text x='1'>Zoë 日本 🔥 &amp; &#233;</text>", "\n  ",
    "<!-- a comment with <svg> and ]]> inside -->", "<?pi data?>", "<g><![CDATA[ <not-a-tag> ]]></g>",
    f'<g><openbadges:assertion xmlns:openbadges="{OB2_NS}" verify="https://old.example/a.json">'
    '<![CDATA[{"old":1}]]></openbadges:assertion></g>',
    f'<openbadges:credential xmlns:openbadges="{OB3_NS}"><![CDATA[{{"old":2}}]]></openbadges:credential>',
    f'<assertion xmlns="{OB2_NS}" verify="x"/>', f"<ob:assertion xmlns:ob='{OB2_NS}' verify='y'></ob:assertion>",
    '<x:assertion xmlns:x="http://other.example/"/>', '<credential xmlns="urn:not-ob3">kept</credential>',
    '<n:credential xmlns:n="https://purl.imsglobal.org/ob/v3p&#48;">{}</n:credential>',  # &#48; is "0"
    f'<g xmlns="{OB2_NS}"><assertion/></g>',
    f'<assertion xmlns="{OB2_NS}"><n:assertion xmlns:n="{OB2_NS}"/><credential xmlns="{OB3_NS}"/></assertion>',
]
PROLOGS = ["", "\ufeff", '<?xml version="1.0" encoding="UTF-8"?>\n', "<?xml version='1.0' encoding='utf8'?>",
           "<!-- made by hand -->\n", '<?xml version="1.0"?>\n<!DOCTYPE svg>\n',
           '<?xml version="1.0" encoding="ISO-8859-1"?>\n', "\ufeff<?xml version='1.0'?><?app x?>\n"]


@st.composite
def svgs(draw) -> bytes:
    prefix = draw(st.sampled_from(["", "s:"]))
    attributes = draw(st.lists(st.sampled_from(ROOT_ATTRIBUTES), unique_by=lambda a: a[0], max_size=5))
    markup = [m for _, m in attributes] + (['xmlns:s="http://www.w3.org/2000/svg"'] if prefix else [])
    space = draw(st.sampled_from(["", " ", "\n\t"]))
    start = f"<{prefix}svg" + "".join(" " + m for m in markup) + space
    children = draw(st.lists(st.sampled_from(CHILDREN), max_size=4))
    body = f"{start}/>" if not children and draw(st.booleans()) else f"{start}>{''.join(children)}</{prefix}svg>"
    return (draw(st.sampled_from(PROLOGS)) + body + draw(st.sampled_from(["", "\n", "<!-- after -->"]))).encode()


verify_urls = st.sampled_from(["https://badges.example/a/x.json", 'https://b.example/a?x=1&y="2"<>', "", "é\tx",
                               "https://ü.example/a b"])


@PROPERTY
@given(image=svgs(), payload=json_values, version=st.sampled_from(["ob2", "ob3"]), verify=verify_urls)
@example(image=b"<svg/>", payload="]]> and \ufffe", version="ob3", verify="")
def test_svg_bake_is_the_python_bakers(js, image, payload, version, verify):
    text = canonical.dumps({"payload": payload})
    verify = verify if version == "ob2" else None
    expected = python_or_error(lambda: bake.bake(image, text, version=version, verify=verify))
    assert js.bytes_or_error(op="svg", image=image, payload=text, version=version, verify=verify) == expected


@pytest.mark.parametrize("path", sorted((REPO / "content/images").glob("*.svg")) + [FIXTURES / "badge.svg"],
                         ids=lambda p: p.name)
def test_real_badge_art(js, path: Path):
    image = path.read_bytes()
    for version, verify in (("ob2", "https://badges.example/a/x.json"), ("ob3", None)):
        text = canonical.dumps({"id": "https://badges.example/a/x.json", "name": "Zoë ]]> 日本"})
        assert js.bytes_or_error(op="svg", image=image, payload=text, version=version, verify=verify) == bake.bake(
            image, text, version=version, verify=verify)


# ---------------------------------------------------------------- the page's download flow

BAKING = {"png": "http://site/badges/b/bake.png", "image": "http://site/badges/b.svg",
          "assertion": "http://site/a/x.json", "credential": "http://site/a/x.credential.json", "stem": "b-x"}
members = st.dictionaries(st.text(text_chars, max_size=6).filter(lambda k: k != "revoked"), json_values, max_size=4)


def download(js, kind: str, files: dict[str, bytes], baking: dict = BAKING) -> dict:
    return js.call(op="download", kind=kind, baking=baking,
                   files={url: base64.b64encode(data).decode() for url, data in files.items()})


@settings(parent=PROPERTY, max_examples=100)
@given(assertion=members, credential=st.none() | members, art=svgs(),
       base=st.sampled_from(PNG_BASES))
def test_every_download_is_the_python_bakers(js, assertion, credential, art, base):
    """The award page's buttons, from the published (pretty) JSON, against what the build would bake."""
    assertion = {**assertion, "id": BAKING["assertion"]}
    raster = png_with(base, [])
    files = {BAKING["png"]: raster, BAKING["image"]: art, BAKING["assertion"]: canonical.json_bytes(assertion)}
    if credential is not None:
        files[BAKING["credential"]] = canonical.json_bytes(credential)
    baking = {**BAKING, "credential": BAKING["credential"] if credential is not None else None}
    ob2 = canonical.dumps(assertion)
    expected = {"png": bake.bake(raster, ob2, version="ob2"),
                "svg": python_or_error(lambda: bake.bake(art, ob2, version="ob2", verify=assertion["id"]))}
    if credential is not None:
        expected["png"] = bake.bake(expected["png"], canonical.dumps(credential), version="ob3")
        expected["credential-svg"] = python_or_error(lambda: bake.bake(art, canonical.dumps(credential), version="ob3"))
    names = {"png": "b-x.png", "svg": "b-x.svg", "credential-svg": "b-x-credential.svg"}
    for kind, want in expected.items():
        got = download(js, kind, files, baking)
        if want == "error":
            assert "error" in got, kind
        else:
            assert base64.b64decode(got["bytes"]) == want and got["name"] == names[kind], kind
    if credential is None:
        assert download(js, "credential-svg", files, baking) == {"error": "no_credential"}


def test_a_withdrawn_award_or_a_failed_fetch_makes_no_file(js):
    stub = {"@context": "https://w3id.org/openbadges/v2", "id": BAKING["assertion"], "revoked": True,
            "revocationReason": "Suspended: under review"}
    files = {BAKING["png"]: png_with("badge-rgba.png", []), BAKING["image"]: b"<svg/>",
             BAKING["credential"]: b"{}", BAKING["assertion"]: canonical.json_bytes(stub)}
    for kind in ("png", "svg", "credential-svg"):
        assert download(js, kind, files) == {"error": "revoked"}
    files[BAKING["assertion"]] = b'{"id": "x"}'
    for missing in (BAKING["png"], BAKING["credential"]):
        assert download(js, "png", {u: d for u, d in files.items() if u != missing}) == {"error": "fetch"}
    assert download(js, "svg", {**files, BAKING["assertion"]: b"[1]"}) == {"error": "not_badge"}
    assert "SyntaxError" in download(js, "svg", {**files, BAKING["assertion"]: b"<html>"})["error"]
