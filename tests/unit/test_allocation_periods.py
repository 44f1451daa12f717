"""Periods of the monthly allocation: what a month is, when the next begins, which may be run."""

from __future__ import annotations

import pytest

from tollgate.clock import period_of
from tollgate.errors import ValidationFailed
from tollgate.tiers.allocation import next_period_start
from tollgate.tiers.run import check_period

DEC_31_LAST_MS = 1798761599999  # 2026-12-31T23:59:59.999Z
JAN_1_MS = DEC_31_LAST_MS + 1


def test_a_period_is_the_utc_calendar_month_to_the_millisecond():
    assert (period_of(DEC_31_LAST_MS), period_of(JAN_1_MS)) == ("2026-12", "2027-01")


def test_the_next_allocation_is_the_first_of_the_next_month_across_a_year_end():
    assert next_period_start(DEC_31_LAST_MS) == "2027-01-01T00:00:00.000Z"
    assert next_period_start(JAN_1_MS) == "2027-02-01T00:00:00.000Z"


@pytest.mark.parametrize("period", ["2026-12", "2026-01", "1999-07"])
def test_this_month_and_earlier_ones_may_be_run(period):
    assert check_period(period, DEC_31_LAST_MS) == period


@pytest.mark.parametrize("period", ["2027-01", "2026-13", "2026-00", "2026-1", "2026-012", "2026/12", " 2026-12",
                                    "2026-12\n", "\uff12\uff10\uff12\uff16-12", "", "0000-01", "1969-12"])
def test_a_month_not_begun_or_not_yyyy_mm_is_refused(period):
    with pytest.raises(ValidationFailed):
        check_period(period, DEC_31_LAST_MS)


@pytest.mark.parametrize(("period", "end"), [("2026-12", "2027-01-01T00:00:00.000Z"), ("2024-02", "2024-03-01T00:00:00.000Z"),
                                             ("2026-01", "2026-02-01T00:00:00.000Z")])
def test_a_period_ends_at_the_first_instant_of_the_next_month(period, end):
    from tollgate import clock

    assert clock.iso(clock.period_end_ms(period)) == end


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "2026", "2026-12-01", "x-y", ""])
def test_an_unreadable_period_has_no_end(period):
    from tollgate import clock

    with pytest.raises(ValueError):
        clock.period_end_ms(period)
