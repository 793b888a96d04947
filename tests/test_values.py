"""Scalar parsing: the inputs a hurried person types, and the errors they get back."""
from datetime import datetime, timezone

import pytest
from badgekiln.validate.values import (
    Duration,
    format_datetime,
    normalise_email,
    parse_base_url,
    parse_datetime,
    parse_duration,
    parse_slug,
)


def test_iso_dates_and_times_become_utc():
    assert parse_datetime("2026-03-14") == datetime(2026, 3, 14, tzinfo=timezone.utc)
    assert format_datetime(parse_datetime("2026-03-14T09:30:00+01:00")) == "2026-03-14T08:30:00Z"
    assert format_datetime(parse_datetime("2026-03-14T09:30Z")) == "2026-03-14T09:30:00Z"


@pytest.mark.parametrize("text, message", [
    ("31/12/2026", "'31/12/2026' is not an ISO date; write it as 2026-12-31"),
    ("03/04/2026", "'03/04/2026' is ambiguous (day/month order); write 2026-03-04 or 2026-04-03"),
    ("2026-02-30", "February 2026 has no day 30 (it has 28 days)"),
    ("2026-13-01", "month 13 does not exist"),
    ("2026-03-14T09:30:00",
     "'2026-03-14T09:30:00' has a time but no time zone; add Z for UTC, e.g. 2026-03-14T09:30:00Z"),
    ("14 March 2026", "'14 March 2026' is not an ISO date; write it as YYYY-MM-DD, e.g. 2026-03-14"),
    ("soon", "'soon' is not a date; write YYYY-MM-DD, e.g. 2026-03-14"),
])
def test_bad_dates_say_how_to_fix(text, message):
    with pytest.raises(ValueError) as exc:
        parse_datetime(text)
    assert str(exc.value) == message


def test_durations():
    assert parse_duration("3y") == Duration(3, 0, 0)
    assert parse_duration("18 months") == Duration(0, 18, 0)
    assert parse_duration("1y 6m") == Duration(1, 6, 0)
    assert parse_duration("2 weeks") == Duration(0, 0, 14)
    assert parse_duration("none") is None
    leap = datetime(2024, 2, 29, tzinfo=timezone.utc)
    assert Duration(1).after(leap) == datetime(2025, 2, 28, tzinfo=timezone.utc)
    for bad in ("3", "three years", "3x", "0y"):
        with pytest.raises(ValueError):
            parse_duration(bad if bad != "3" else 3)


def test_emails_are_trimmed_and_lowercased():
    assert normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    for bad, fragment in [("ada lovelace@example.com", "contains a space"), ("ada.example.com", "exactly one @"),
                          ("ada@example,com", "did you mean example.com"), ("ada@", "not a valid email")]:
        with pytest.raises(ValueError) as exc:
            normalise_email(bad)
        assert fragment in str(exc.value)


def test_base_url_rules():
    assert parse_base_url("https://b.example.org") == "https://b.example.org/"
    assert parse_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/"
    for bad in ("http://b.example.org/", "b.example.org", "https://b.example.org/?x=1"):
        with pytest.raises(ValueError):
            parse_base_url(bad)


def test_slugs():
    assert parse_slug("first-aid") == "first-aid"
    with pytest.raises(ValueError, match="try 'first-aid'"):
        parse_slug("First Aid")


# --- day-first and month-first spreadsheet dates (issue 10, finding 15) -------------------------

@pytest.mark.parametrize("text, order, day", [
    ("13/04/2026", "day-first", "2026-04-13"), ("13.04.2026", "day-first", "2026-04-13"),
    ("3-4-2026", "day-first", "2026-04-03"), ("04/13/2026", "month-first", "2026-04-13"),
    ("2026-04-13", "day-first", "2026-04-13"),  # ISO stays ISO whatever the order
])
def test_a_date_order_reads_spreadsheet_dates(text, order, day):
    assert parse_datetime(text, order).date().isoformat() == day


@pytest.mark.parametrize("text, order, message", [
    ("04/13/2026", "day-first", "'04/13/2026' is not a day-first date: month 13 does not exist"),
    ("31/02/2026", "day-first", "'31/02/2026' is not a day-first date: February 2026 has no day 31 (it has 28 days)"),
    ("13/04/26", "day-first", "'13/04/26' has a 2-digit year; write the year in full, e.g. 13/04/2026"),
])
def test_a_date_order_still_refuses_impossible_dates(text, order, message):
    with pytest.raises(ValueError) as caught:
        parse_datetime(text, order)
    assert str(caught.value) == message


def test_site_date_order_applies_to_awards_files_and_rosters(tmp_path):
    from conftest import build, copy_project

    project = copy_project("minimal", tmp_path)
    awards = project / "content/awards/2026.yaml"
    awards.write_text(awards.read_text().replace("2026-02-01", "13/02/2026"))
    (project / "content/awards/roster.csv").write_text("badge;name;email;issued_on\nsafety;Bo Li;bo@example.com;"
                                                        "01/03/2026\n")
    refused = build(project)
    assert [d.code for d in refused.diagnostics] == ["E204", "E204"]  # no setting: today's clear errors
    site = project / "content/site.yaml"
    site.write_text(site.read_text() + "date_order: day-first\n")
    prepared = build(project)
    assert prepared.model is not None, prepared.diagnostics
    assert sorted(a.issued_on.date().isoformat() for a in prepared.model.awards) == ["2026-02-13", "2026-03-01"]
