"""Hostile and careless input: each fails with a located error or renders inert, never a traceback."""
from __future__ import annotations

import io
from pathlib import Path

from badgekiln.diagnostics import Report
from badgekiln.load.positioned_yaml import load_yaml
from badgekiln.load.roster import parse_roster
from conftest import award_dir, build, copy_project, tree
from PIL import Image


def _codes(prepared) -> list[str]:
    return [d.code for d in prepared.diagnostics]


def test_markdown_and_names_cannot_inject_html(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    badge = project / "content/badges/safety.yaml"
    badge.write_text(badge.read_text().replace(
        "criteria: |\n  Attended the course and passed the quiz.",
        'criteria: |\n  Passed <script>alert("x")</script> the <img src=x onerror="alert(1)"> quiz.\n'
        '  [click](javascript:alert(1))'))
    people = project / "content/recipients/people.yaml"
    people.write_text(people.read_text().replace("Ada Lovelace", '"Ada <b onmouseover=alert(1)>Lovelace</b>"'))
    prepared = build(project)
    assert prepared.model is not None, prepared.diagnostics
    for path, data in tree(project / "_site").items():
        if path.endswith(".html"):
            text = data.decode()
            assert "<script>alert" not in text and "onerror=" not in text and "javascript:" not in text
            assert "<b onmouseover" not in text
    award = prepared.model.awards[0]
    page = (project / f"_site/{award_dir(award.slug)}/index.html").read_text()
    assert "&lt;b onmouseover=alert(1)&gt;" in page


def test_oversized_files_are_refused(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    (project / "content/recipients/huge.yaml").write_bytes(b"- id: x\n" + b"#" * (6 * 1024 * 1024))
    big = project / "content/images/badge.png"
    data = big.read_bytes()
    big.write_bytes(data[:-12] + b"\0" * (40 * 1024 * 1024) + data[-12:])  # a 40 MB "PNG"
    prepared = build(project)
    assert prepared.model is None
    assert sorted(_codes(prepared)) == ["E104", "E404"]
    messages = " ".join(d.message for d in prepared.diagnostics)
    assert "the limit is 5242880" in messages and "41.9 MB" in messages


def test_yaml_bombs_and_tags_are_refused():
    report = Report()
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    assert load_yaml(bomb, "bomb.yaml", report) is None
    assert [d.code for d in report.items] == ["E107"]
    report = Report()
    load_yaml(b"x: !!python/object:os.system ls\n", "tag.yaml", report)
    assert [d.code for d in report.items] == ["E107"]


def test_yaml_keeps_dates_as_text_and_only_true_false_as_booleans():
    report = Report()
    doc = load_yaml(b"d: 2026-03-14\nn: no\ny: yes\nt: True\nc: 0012\n", "x.yaml", report)
    assert doc == {"d": "2026-03-14", "n": "no", "y": "yes", "t": True, "c": 12}
    assert (doc.key_loc("n").line, doc.value_loc("c").column) == (2, 4)


def test_image_paths_cannot_leave_content(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    (tmp_path / "secret.png").write_bytes((project / "content/images/badge.png").read_bytes())
    badge = project / "content/badges/safety.yaml"
    badge.write_text(badge.read_text().replace("images/badge.png", "../../secret.png"))
    prepared = build(project)
    assert _codes(prepared) == ["E401"]
    assert "must be relative to content/ and stay inside it" in prepared.diagnostics[0].message


def test_svg_event_handlers_and_external_links_are_refused(tmp_path: Path):
    for svg, fragment in [
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" onload="alert(1)"/>', "event handler"),
        ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
         '<image x:href="https://tracker.example/p.png"/></svg>', "external resource"),
        ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
         "not well-formed SVG"),
    ]:
        project = copy_project("minimal", tmp_path / str(abs(hash(svg))))
        (project / "content/images/badge.svg").write_text(svg)
        badge = project / "content/badges/safety.yaml"
        badge.write_text(badge.read_text().replace("badge.png", "badge.svg"))
        prepared = build(project)
        assert prepared.model is None
        assert fragment in prepared.diagnostics[0].message, prepared.diagnostics


def test_excel_roster_with_bom_semicolons_and_messy_cells():
    data = ("\ufeffBadge;Full Name;E-Mail Address;Issue Date;Colour\r\n"
            "safety;  Ann Lee ; ANN@EXAMPLE.ORG ;2026-03-01;blue\r\n"
            ";;;;\r\n"
            'safety;"Smith; Bob";bob@example.org;2026-03-01;\r\n').encode("utf-8")
    report = Report()
    rows = parse_roster(data, "r.csv", report)
    assert [d.format() for d in report.items] == [
        "r.csv:1:5: error[E201]: unknown column 'Colour'\n"
        "  hint: known columns: badge, name, email, issued_on, expires, evidence, id"]
    assert [dict(r) for r in rows] == [
        {"badge": "safety", "name": "Ann Lee", "email": "ANN@EXAMPLE.ORG", "issued_on": "2026-03-01"},
        {"badge": "safety", "name": "Smith; Bob", "email": "bob@example.org", "issued_on": "2026-03-01"}]
    assert rows.item_locs[1].line == 4


def test_roster_in_latin1_gets_a_clear_error():
    report = Report()
    assert parse_roster("name,email\nZoë,z@example.org\n".encode("cp1252"), "r.csv", report) is None
    assert report.items[0].code == "E101" and report.items[0].location.line == 2
    assert "'CSV UTF-8 (Comma delimited) (*.csv)'" in report.items[0].hint  # what Excel calls it


def test_future_and_unicode_dates(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text().replace("2026-02-01", "2027-02-01"))
    prepared = build(project)
    assert _codes(prepared) == ["E204"] and "in the future" in prepared.diagnostics[0].message


def test_gif_badge_image_is_refused(tmp_path: Path):
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "GIF")
    project = copy_project("minimal", tmp_path)
    (project / "content/images/badge.png").write_bytes(buf.getvalue())
    prepared = build(project)
    assert _codes(prepared) == ["E403"] and "GIF" in prepared.diagnostics[0].message


# --- invisible controls and bidirectional overrides (issue 10, finding 5) -----------------------

RLO, NUL = "\u202e", "\x00"


def test_control_and_bidi_characters_are_refused_with_code_point_and_column(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    people = project / "content/recipients/people.yaml"
    people.write_text(people.read_text().replace("Ada Lovelace", f"Ada {NUL}Love{RLO}ecal"), encoding="utf-8")
    prepared = build(project, tmp_path / "out")
    assert prepared.model is None and not (tmp_path / "out").exists()
    assert [d.format().split("\n")[0] for d in prepared.diagnostics] == [
        "content/recipients/people.yaml:2:13: error[E210]: U+0000 (a control character) is not allowed in content",
        "content/recipients/people.yaml:2:18: error[E210]: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed in content"]


def test_every_text_field_refuses_them_in_yaml_escapes_and_csv_cells(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    content = project / "content"
    site = content / "site.yaml"
    site.write_text(site.read_text().replace("Minimal Badges", '"Minimal\\u2066 Badges"'))
    issuer = content / "issuers/acme.yaml"
    issuer.write_text(issuer.read_text() + 'description: "Trains \\x85people"\n')
    (content / "awards/2026.yaml").write_text(
        "badge: safety\nissued_on: 2026-02-01\nawards:\n  - recipient: ada\n"
        '    narrative: "Line one\\nline two\\tis fine in Markdown"\n'
        '    evidence:\n      - url: https://acme.example/e\n        name: "Register\\u202b"\n')
    (content / "awards/roster.csv").write_text(f"badge,name,email,issued_on\nsafety,Bo {RLO}iL,bo@example.com,"
                                               "2026-02-02\n", encoding="utf-8")
    prepared = build(project)
    found = sorted((d.location.path, d.location.line, d.location.column, d.message.split(" ")[0])
                   for d in prepared.diagnostics)
    assert found == [("content/awards/2026.yaml", 8, 15, "U+202B"), ("content/awards/roster.csv", 2, 11, "U+202E"),
                     ("content/issuers/acme.yaml", 4, 14, "U+0085"), ("content/site.yaml", 1, 8, "U+2066")]
    assert {d.code for d in prepared.diagnostics} == {"E210"}


def test_single_line_fields_refuse_tabs_and_line_breaks_markdown_fields_keep_them(tmp_path: Path):
    project = copy_project("minimal", tmp_path)
    people = project / "content/recipients/people.yaml"
    people.write_text(people.read_text().replace("Ada Lovelace", '"Ada\\tLovelace"'))
    badge = project / "content/badges/safety.yaml"
    badge.write_text(badge.read_text().replace("tags: [safety]", 'tags: ["safety\\nfirst"]'))
    prepared = build(project)
    assert [(d.code, d.location.path, d.location.line, d.message) for d in prepared.diagnostics] == [
        ("E210", "content/badges/safety.yaml", 6,
         "a line break (U+000A) at character 7 of the text: this field must be a single line"),
        ("E210", "content/recipients/people.yaml", 2,
         "a tab (U+0009) at character 4 of the text: this field must be a single line")]
    badge.write_text(badge.read_text().replace('tags: ["safety\\nfirst"]', "tags: [safety]")
                     .replace("Knows the basics of workplace safety.", '"Knows\\tthe basics.\\n\\nOf safety."'))
    people.write_text(people.read_text().replace('"Ada\\tLovelace"', "Ada Lovelace"))
    prepared = build(project)
    assert prepared.model is not None, prepared.diagnostics
