"""Date ranges of whole UTC days (``YYYY-MM-DD``, both ends inclusive), as analytics, listings,
exports, the audit trail and reconciliation findings take them (``from``/``to`` query parameters:
``tollgate.http.params.FromDay`` and ``ToDay``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tollgate import clock
from tollgate.errors import ValidationFailed

MAX_DAYS = 366
DEFAULT_DAYS = 30
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DATE_RE = re.compile(DATE_PATTERN)


class InvalidRange(ValidationFailed):
    """``from``/``to`` malformed, reversed, or spanning more days than a call may read: a 422 naming the field."""


def today() -> dt.date:
    return dt.date.fromisoformat(clock.iso(clock.now_ms())[:10])


def parse_day(text: str, field: str) -> dt.date:
    if not _DATE_RE.fullmatch(text):
        raise InvalidRange(f"{field} must be a date, YYYY-MM-DD", field=field)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRange(f"{field} is not a calendar date", field=field) from None
    if day.year < 1970:
        raise InvalidRange(f"{field} must not be before 1970", field=field)
    return day


@dataclass(frozen=True)
class DayRange:
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each(self, newest_first: bool = False) -> Iterator[str]:
        for n in range(self.days):
            yield (self.last - dt.timedelta(days=n) if newest_first else self.first + dt.timedelta(days=n)).isoformat()

    def years(self) -> list[str]:
        return [str(y) for y in range(self.first.year, self.last.year + 1)]

    def contains(self, day: str) -> bool:
        return self.first.isoformat() <= day <= self.last.isoformat()


def day_range(first: str | None, last: str | None, *, default_days: int = DEFAULT_DAYS,
              max_days: int = MAX_DAYS) -> DayRange:
    """``from``..``to`` inclusive; ``to`` defaults to today (UTC), ``from`` to ``default_days`` ending at ``to``."""
    end = parse_day(last, "to") if last is not None else today()
    start = parse_day(first, "from") if first is not None else end - dt.timedelta(days=default_days - 1)
    if start > end:
        raise InvalidRange("from must not be after to", field="from")
    if (end - start).days + 1 > max_days:
        raise InvalidRange(f"the range spans more than {max_days} days", field="to")
    return DayRange(start, end)


def last_days(days: int) -> DayRange:
    end = today()
    return DayRange(end - dt.timedelta(days=days - 1), end)


__all__ = ["DATE_PATTERN", "MAX_DAYS", "DayRange", "InvalidRange", "day_range", "last_days", "parse_day", "today"]
