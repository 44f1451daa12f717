"""Date ranges of whole UTC days (``YYYY-MM-DD``, both ends inclusive), as analytics, listings and exports take them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tollgate import clock
from tollgate.analytics.exceptions import InvalidRange

MAX_DAYS = 366
DEFAULT_DAYS = 30
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE_RE = re.compile(DATE_PATTERN)


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


__all__ = ["DATE_PATTERN", "MAX_DAYS", "DayRange", "day_range", "last_days", "parse_day", "today"]
