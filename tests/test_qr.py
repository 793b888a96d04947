"""templates/assets/qr.js, the certificate's QR encoder, against two implementations we did not write.

Under node (tests/js/qr-matrix.mjs), every matrix is compared module for module with segno's for
the same text (UTF-8 byte mode, level M, mask 0, no micro, no error boost), and its SVG with
segno's svg_inline. segno has one known deviation from ISO/IEC 18004 7.4.10: when the bit stream
after the terminator already ends on a codeword boundary it adds a zero byte before the pad
codewords (heuer/segno#123, #148, still open). qr.js follows the standard, so the reference is
segno with the one-line fix proposed in #148. zxing-cpp then reads the rendered SVG back.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import resvg_py
import segno
import segno.encoder
import zxingcpp
from conftest import REPO, TESTS
from hypothesis import given, settings
from hypothesis import strategies as st
from ob2validator import serve_directory
from PIL import Image
from playwright.sync_api import sync_playwright

QR_JS = REPO / "templates" / "assets" / "qr.js"
DRIVER = TESTS / "js" / "qr-matrix.mjs"
SVG_ONLY_IN_QR_JS = (' xmlns="http://www.w3.org/2000/svg"', ' aria-hidden="true"')

# ISO/IEC 18004 Table 7: the most bytes each version 1..40 holds in byte mode at level M.
BYTE_CAPACITY_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
                   711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989,
                   2099, 2213, 2331]

AWARD_URL = "https://badges.northwind-training.example/a/k7/ujzde8gxd6ncf10epf91dhod/"
URL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%?&=#+:@!$'()*,;"


class QrJs:
    """One node process running qr.js: a JSON value per line in, a JSON reply per line out."""

    def __init__(self):
        node = shutil.which("node")
        assert node, "node is required (tests/run.sh expects it for tests/js)"
        self.proc = subprocess.Popen([node, str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")

    def call(self, value) -> dict:
        self.proc.stdin.write(json.dumps(value) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"qr-matrix.mjs exited: {self.proc.stderr.read()}"
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait() == 0, self.proc.stderr.read()


@pytest.fixture(scope="module")
def qr_js():
    runner = QrJs()
    yield runner
    runner.close()


def padding_per_iso(buff, version, length):
    """segno's write_padding_bits with the fix from heuer/segno#148: no padding on a codeword boundary."""
    if version not in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
        buff.extend([0] * (-length % 8))


def segno_reference(text: str) -> segno.QRCode:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segno.encoder, "write_padding_bits", padding_per_iso)
        return segno.make(text, mode="byte", encoding="utf-8", error="m", micro=False, mask=0, boost_error=False)


def assert_matches_segno(qr_js: QrJs, text: str) -> int:
    """qr.js's matrix and SVG for `text` are segno's; returns the version."""
    reply = qr_js.call(text)
    assert "error" not in reply, reply
    expected = segno_reference(text)
    assert reply["rows"] == ["".join(str(bit) for bit in row) for row in expected.matrix], (
        f"matrix differs from segno's (version {expected.version}) for {text!r}")
    svg = reply["svg"]
    for attribute in SVG_ONLY_IN_QR_JS:
        assert svg.count(attribute) == 1, svg[:120]
        svg = svg.replace(attribute, "")
    assert svg == expected.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr-code", lineclass=None,
                                      dark="#111111")
    return expected.version


def test_padding_fix_changes_segno_only_on_a_codeword_boundary():
    """The reference differs from stock segno in the one case of heuer/segno#123, nowhere else."""
    for length in range(64):
        stock, fixed = [], []
        segno.encoder.write_padding_bits(stock, 1, length)
        padding_per_iso(fixed, 1, length)
        assert fixed == ([] if length % 8 == 0 else stock)


def test_urls_of_every_length_from_1_to_300_match_segno(qr_js):
    tail = "certificate?lang=fr&utm_source=print#" + "".join(URL_CHARS[i * 7 % len(URL_CHARS)] for i in range(300))
    versions = {assert_matches_segno(qr_js, (AWARD_URL + tail)[:length]) for length in range(1, 301)}
    assert versions == set(range(1, 14))


def exact_bytes(n: int, seed: int) -> str:
    """A text of exactly n UTF-8 bytes mixing 1- to 4-byte characters."""
    pieces = ["a", "é", "€", "😀", "Z", "ß", "語", "/"]
    out, size, i = [], 0, seed
    while size < n:
        piece = pieces[i % len(pieces)]
        if size + len(piece.encode()) > n:
            piece = "x"
        out.append(piece)
        size += len(piece.encode())
        i += 1
    return "".join(out)


@pytest.mark.parametrize("version", range(1, 41))
def test_every_version_at_and_over_its_capacity(qr_js, version):
    """The smallest version that fits: version v holds Table 7's bytes, one more needs v + 1."""
    capacity = BYTE_CAPACITY_M[version - 1]
    assert assert_matches_segno(qr_js, exact_bytes(capacity, version)) == version
    if version < 40:
        assert assert_matches_segno(qr_js, exact_bytes(capacity + 1, version)) == version + 1


@pytest.mark.parametrize("text", ["", " ", "0123456789", "HELLO WORLD", "a\nb\tc\x00d", "Élodie Müller – Zoë",
                                  "證書 · сертификат · شهادة", "👩🏽‍🚒🏳️‍🌈", "\ufeffbom"])
def test_edge_texts_match_segno(qr_js, text):
    """Numeric or alphanumeric text stays in byte mode; the empty string is a valid version 1 symbol."""
    assert_matches_segno(qr_js, text)


urls = st.builds("https://{}/{}".format,
                 st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
                 st.text(URL_CHARS, max_size=260))


@settings(max_examples=150, deadline=None, database=None)
@given(urls)
def test_random_urls_match_segno(qr_js, url):
    assert_matches_segno(qr_js, url)


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(st.characters(codec="utf-8"), max_size=300))
def test_random_unicode_text_matches_segno(qr_js, text):
    assert_matches_segno(qr_js, text)


@pytest.mark.parametrize("value, error", [
    ("x" * 2332, "RangeError: qr: 2332 bytes is too long for a QR code at level M (at most 2331 bytes)"),
    ("é" * 1166, "RangeError: qr: 2332 bytes is too long for a QR code at level M (at most 2331 bytes)"),
    (None, "TypeError: qr: expected a string, got null"),
    (42, "TypeError: qr: expected a string, got number"),
    ({"href": AWARD_URL}, "TypeError: qr: expected a string, got object"),
])
def test_bad_input_is_a_clear_error(qr_js, value, error):
    reply = qr_js.call(value)
    assert f"{reply['error']['name']}: {reply['error']['message']}" == error


def decode(svg: str, scale: int = 4) -> zxingcpp.Barcode:
    """The one barcode zxing-cpp finds in a PNG rasterised (resvg) from the SVG, white behind it."""
    width = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    png = resvg_py.svg_to_bytes(svg_string=svg, width=width * scale, background="#ffffff")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(bytes(png))))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("url, version", [
    ("https://x.io/", 1),
    (AWARD_URL, 5),
    ("https://certificats.formation-exemple.fr/a/zz/élodie-müller-3f2b9c1e/?lang=fr", 5),
    (AWARD_URL + "certificate.html?" + "&".join(f"k{i}=v{i}" for i in range(30)), 13),
    ("https://example.org/" + "".join(URL_CHARS[i % len(URL_CHARS)] for i in range(1200)), 29),
])
def test_zxing_reads_the_url_back_from_the_rendered_svg(qr_js, url, version):
    barcode = decode(qr_js.call(url)["svg"])
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.valid and barcode.error is None
    assert barcode.text == url
    assert barcode.bytes == url.encode("utf-8")
    assert (barcode.ec_level, barcode.extra["Version"], barcode.extra["DataMask"]) == ("M", str(version), 0)


def test_in_chromium_the_module_draws_a_readable_code_under_the_sites_csp(tmp_path: Path):
    """qr.js loads as an ES module under the pages' Content-Security-Policy and site.css's .qr size."""
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>',
                    (REPO / "templates" / "base.html").read_text(encoding="utf-8")).group(0)
    csp = re.sub(r"\{%.*?%\}", "", csp)  # connect-src's Jinja block, with its default 'self'
    for name in ("qr.js", "site.css"):
        shutil.copy(REPO / "templates" / "assets" / name, tmp_path / name)
    (tmp_path / "main.js").write_text(
        "import { qrSvg } from './qr.js';\n"
        "const box = document.getElementById('qr');\n"
        "box.innerHTML = qrSvg(box.dataset.url);\n", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">{csp}<title>QR</title>'
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="site.css">'
        '<script type="module" src="main.js"></script></head><body>'
        f'<div class="qr" id="qr" role="img" aria-label="Lien vers ce badge" data-url="{AWARD_URL}é"></div>'
        '</body></html>', encoding="utf-8")
    with serve_directory(tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-background-networking"])
        page = browser.new_page(device_scale_factor=3)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(base)
        page.wait_for_selector("#qr svg.qr-code[aria-hidden='true']")
        box = page.locator("#qr")
        assert box.bounding_box()["width"] == box.bounding_box()["height"] == 104  # 6.5rem
        shot = box.screenshot()
        browser.close()
    assert errors == []
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [barcode.text for barcode in found] == [f"{AWARD_URL}é"]


def test_qr_js_is_a_small_self_contained_module():
    """No import, no network, no other site (pages allow script-src 'self' only)."""
    source = QR_JS.read_text(encoding="utf-8")
    assert not re.search(r"^\s*import\b|\bimport\(|\brequire\(|\bfetch\(|XMLHttpRequest", source, re.M)
    assert re.findall(r"\w+://[^\s\"'`]*", source) == ["http://www.w3.org/2000/svg"]
    assert sorted(re.findall(r"^export function (\w+)", source, re.M)) == ["qrMatrix", "qrSvg"]
    assert len(source.encode()) < 16_000
