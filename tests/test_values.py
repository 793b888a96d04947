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
