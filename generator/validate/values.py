"""Parsers for the scalar values people type into content: dates, durations, emails, URLs, slugs.

Each parser returns a value or raises ValueError with a message a person can act on; the
schema turns that into a located diagnostic. Nothing here guesses: `31/12/2026` is refused
with the exact ISO spelling to use instead.
"""
from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?\Z")
_SLASHED = re.compile(r"(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})\Z")
_YEAR_LAST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})\Z")
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})


def _checked_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"{calendar.month_name[month]} {year} has no day {day} (it has {last} days)")
    return date(year, month, day)


DATE_ORDERS = ("day-first", "month-first")


def parse_datetime(value: object, order: str | None = None) -> datetime:
    """An aware UTC datetime from `2026-03-14` or `2026-03-14T09:30:00+01:00`.

    With `order` (site.yaml `date_order`, `import --date-format`), a spreadsheet date with the
    year last is read that way too: `13/04/2026` day-first, `04/13/2026` month-first (`/`, `.`
    or `-` between the parts). Without it such dates are refused with the ISO spelling to use.
    """
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"expected a date like 2026-03-14, got {value!r}")
    text = value.strip()
    if order is not None and (numeric := _YEAR_LAST.match(text)):
        return _ordered_date(text, numeric.group(1, 3, 4), order)
    match = _ISO_DATE.match(text)
    if match:
        y, m, d = map(int, match.groups())
        day = _checked_date(y, m, d)
        return _midnight(day.year, day.month, day.day)
    match = _ISO_DATETIME.match(text)
    if match:
        y, mo, d, h, mi, s, frac, tz = match.groups()
        day = _checked_date(int(y), int(mo), int(d))
        if tz is None:
            raise ValueError(f"'{text}' has a time but no time zone; add Z for UTC, e.g. {text}Z")
        if int(h) > 23 or int(mi) > 59 or int(s or 0) > 59:
            raise ValueError(f"'{text}' is not a valid time of day")
        if tz in ("Z", "z"):
            offset = timedelta(0)
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = datetime(day.year, day.month, day.day, int(h), int(mi), int(s or 0), tzinfo=timezone(offset))
        return moment.astimezone(timezone.utc)
    raise ValueError(_date_hint(text))


def _ordered_date(text: str, parts: tuple[str, ...], order: str) -> datetime:
    first, second, year = parts
    if len(year) != 4:
        raise ValueError(f"'{text}' has a {len(year)}-digit year; write the year in full, e.g. "
                         f"{first}/{second}/20{year[-2:]:0>2}")
    day, month = (first, second) if order == "day-first" else (second, first)
    try:
        checked = _checked_date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a {order} date: {exc}") from None
    return _midnight(checked.year, checked.month, checked.day)


@functools.lru_cache(maxsize=4096)
def _midnight(year: int, month: int, day: int) -> datetime:
    """Midnight UTC of a day, one object per day: a roster of 10^5 awards has a few hundred dates."""
    return datetime(year, month, day, tzinfo=timezone.utc)


def _date_hint(text: str) -> str:
    match = _SLASHED.match(text)
    if match:
        a, b, c = match.groups()
        if len(c) == 4:
            first, second, year = int(a), int(b), int(c)
            options = []
            for d, m in ((first, second), (second, first)):
                try:
                    options.append(_checked_date(year, m, d).isoformat())
                except ValueError:
                    pass
            options = sorted(set(options))
            if len(options) == 1:
                return f"'{text}' is not an ISO date; write it as {options[0]}"
            if options:
                return f"'{text}' is ambiguous (day/month order); write {' or '.join(options)}"
        if len(a) == 4:
            return f"'{text}' is not an ISO date; write it with dashes as YYYY-MM-DD"
    words = text.replace(",", " ").split()
    months = [w for w in words if w.lower() in _MONTHS]
    if months:
        return f"'{text}' is not an ISO date; write it as YYYY-MM-DD, e.g. 2026-03-14"
    return f"'{text}' is not a date; write YYYY-MM-DD, e.g. 2026-03-14"


@functools.lru_cache(maxsize=4096)  # some twenty a page, and awards share their few dates
def format_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, the form every Open Badges validator accepts."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0

    def after(self, moment: datetime) -> datetime:
        """Calendar arithmetic: 2024-02-29 plus one year is 2025-02-28."""
        total = moment.month - 1 + self.months + 12 * self.years
        year, month = moment.year + total // 12, total % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [(self.years, "y"), (self.months, "m"), (self.days, "d")]
        return "".join(f"{n}{u}" for n, u in parts if n) or "0d"


_DURATION_PART = re.compile(r"(\d+)\s*(years?|y|months?|mo|m|weeks?|w|days?|d)\b", re.I)


def parse_duration(value: object) -> Duration | None:
    """`3y`, `18 months`, `1y 6m`, `90d`, `2 weeks`; `none` (or `never`) means no expiry."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("none", "never", "no", "false"):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"'{value}' has no unit; write e.g. {value}y for years or {value}m for months")
    pos, years, months, days = 0, 0, 0, 0
    for match in _DURATION_PART.finditer(text):
        if text[pos:match.start()].strip(" ,and"):
            break
        n, unit = int(match.group(1)), match.group(2)
        if unit.startswith("y"):
            years += n
        elif unit in ("m", "mo") or unit.startswith("month"):
            months += n
        elif unit.startswith("w"):
            days += 7 * n
        else:
            days += n
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f"'{value}' is not a duration; write e.g. 3y, 18m, 90d or none")
    if years == months == days == 0:
        raise ValueError("a zero duration would expire on the day of issue; write none for no expiry")
    return Duration(years, months, days)


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z")


def normalise_email(value: object) -> str:
    """Trimmed, lower-cased address (the form that is hashed), or ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError(f"expected an email address, got {value!r}")
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    if not email:
        raise ValueError("email address is empty")
    if " " in email:
        raise ValueError(f"'{value.strip()}' contains a space")
    if email.count("@") != 1:
        raise ValueError(f"'{value.strip()}' must contain exactly one @")
    if ".." in email or not _EMAIL.match(email):
        local, _, domain = email.partition("@")
        if "," in domain:
            raise ValueError(f"'{value.strip()}' has a comma in the domain; did you mean {domain.replace(',', '.')}?")
        raise ValueError(f"'{value.strip()}' is not a valid email address")
    return email


def parse_url(value: object, *, allow_http_loopback: bool = True) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a URL, got {value!r}")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an absolute http(s) URL; write it like https://example.org/page")
    if any(c.isspace() for c in url):
        raise ValueError(f"'{url}' contains spaces")
    return url


def parse_base_url(value: object) -> str:
    """The public root of the site: https (or http on loopback), no query, ends with `/`."""
    url = parse_url(value)
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not loopback:
        raise ValueError(f"'{url}' must use https:// (verifiers refuse http for published badges)")
    if parts.query or parts.fragment:
        raise ValueError(f"'{url}' must not have a query (?...) or fragment (#...)")
    return url if url.endswith("/") else url + "/"


_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")


def parse_slug(value: object) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not _SLUG.match(text):
        suggestion = slugify(str(value)) if value is not None else ""
        hint = f"; try '{suggestion}'" if suggestion else ""
        raise ValueError(f"'{value}' is not a valid id: use lower-case letters, digits and dashes{hint}")
    return text


def slugify(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")


def format_amount(value: float | int | None) -> str | None:
    """CPD points, hours or credits as people write them: 18, 2.5 (never 18.0); None stays None."""
    return None if value is None else f"{value:g}"
