"""Time, in one place, so tests can move it (expiring holds) without sleeping."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_offset_ms = 0


def now_ms() -> int:
    return time.time_ns() // 1_000_000 + _offset_ms


def iso(ms: int) -> str:
    """Millisecond ISO-8601 UTC, fixed width so it sorts as text: 2026-11-21T06:26:49.123Z."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


# RFC 3339 date-time, as JSON Schema's "date-time" format reads it: "T" and "Z" in either case,
# any number of fractional digits, an offset always (a time without one names no instant).
_RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
MAX_ISO_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant iso() writes


def parse_rfc3339(text: str) -> int:
    """Epoch milliseconds (floored) of an RFC 3339 date-time; ``ValueError`` for anything else.

    Years 0000-9999 and a leap second (``:60``) are accepted, as the format allows; the
    result may lie outside what :func:`iso` writes, so callers clamp it to their range.
    """
    m = _RFC3339_RE.fullmatch(text)
    if m is None:
        raise ValueError("not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zulu, sign, off_h, off_m = m.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        raise ValueError("no such date")
    if hour > 23 or minute > 59 or second > 60 or (not zulu and (int(off_h) > 23 or int(off_m) > 59)):
        raise ValueError("no such time")
    offset_min = 0 if zulu else (int(off_h) * 60 + int(off_m)) * (1 if sign == "+" else -1)
    seconds = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60
    return seconds * 1000 + int((fraction or "0")[:3].ljust(3, "0"))


def period_of(ms: int) -> str:
    """The UTC calendar month of an instant, ``YYYY-MM``: the period of tier allocations and member caps."""
    return iso(ms)[:7]


def period_end_ms(period: str) -> int:
    """When a ``YYYY-MM`` period ends: the first instant of the next month (UTC); ``ValueError`` if unreadable."""
    year_text, month_text = period.split("-")
    year, month = int(year_text), int(month_text)
    if not 1 <= month <= 12:
        raise ValueError("no such month")
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _days_from_civil(year, month, 1) * 86_400_000


def periods_back(first: date, last: date) -> list[str]:
    """``YYYY-MM`` of every month from ``last``'s back to ``first``'s, newest first (the partitions
    of a range of days kept by month: the audit trail, reconciliation findings)."""
    months, year, month = [], last.year, last.month
    while (year, month) >= (first.year, first.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def advance(ms: int) -> None:
    """Test hook: move the clock forward by ``ms``."""
    global _offset_ms
    _offset_ms += ms


def reset() -> None:
    global _offset_ms
    _offset_ms = 0
