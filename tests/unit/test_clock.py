"""clock: fixed-width millisecond ISO timestamps that sort as text, and the test hook."""

from __future__ import annotations

import random
import re
import time

import pytest

from tollgate import clock

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# 1970 .. 9999: every value an epoch-ms timestamp takes in practice, and then some.
_RANGE = (0, 253_402_300_799_999)


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1_000, "1970-01-01T00:00:01.000Z"),
        (1_767_225_600_000, "2026-01-01T00:00:00.000Z"),
        (1_795_242_409_123, "2026-11-21T06:26:49.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_iso(ms, text):
    assert clock.iso(ms) == text
    assert clock.parse_rfc3339(text) == ms


def test_round_trip_and_fixed_width():
    rng = random.Random(3)
    for _ in range(3_000):
        ms = rng.randint(*_RANGE)
        text = clock.iso(ms)
        assert _ISO.match(text), text
        assert len(text) == 24
        assert clock.parse_rfc3339(text) == ms


def test_text_order_is_time_order():
    rng = random.Random(4)
    values = [rng.randint(*_RANGE) for _ in range(2_000)]
    values += [0, 1, 9, 10, 99, 100, 999, 1_000, 59_999, 60_000, 86_399_999, 86_400_000]
    by_time = sorted(values)
    by_text = sorted(values, key=clock.iso)
    assert by_text == by_time


def test_neighbouring_milliseconds_sort():
    base = 1_767_225_599_990
    texts = [clock.iso(base + i) for i in range(20)]
    assert texts == sorted(texts)
    assert len(set(texts)) == 20


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-01-01T00:00:00Z", 1_767_225_600_000),
        ("2026-01-01T00:00:00z", 1_767_225_600_000),
        ("2026-01-01T00:00:00.000Z", 1_767_225_600_000),
        ("2026-01-01T00:00:00+00:00", 1_767_225_600_000),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000),
        ("2025-12-31T19:00:00-05:00", 1_767_225_600_000),
        ("2026-01-01T05:30:00.250+05:30", 1_767_225_600_250),
        ("2026-01-01t00:00:00.0009999Z", 1_767_225_600_000),
        ("1970-01-01T00:00:00.001Z", 1),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000),
        ("9999-12-31T23:59:59.999+00:00", 253_402_300_799_999),
        ("1969-12-31T23:59:59.999Z", -1),
    ],
)
def test_parse_rfc3339_forms(text, ms):
    assert clock.parse_rfc3339(text) == ms


@pytest.mark.parametrize("text", [
    "", "yesterday", "2026-13-01", "2026-01-32", "2026-01-01T25:00:00Z", "1767225600000",
    # RFC 3339 names an instant: a date alone, or a time without an offset, names none.
    "2026-01-01", "2026-01-01T00:00:00", "  2026-01-01T00:00:00Z ", "2026-01-01 00:00:00Z",
    "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z",
    "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+05:60", "2026-01-01T00:00:00.Z", "2026-1-01T00:00:00Z",
    "\u0662026-01-01T00:00:00Z", "2026-01-01T00:00:00Z\n",
])
def test_parse_rfc3339_rejects(text):
    with pytest.raises(ValueError):
        clock.parse_rfc3339(text)


def test_now_is_epoch_milliseconds():
    before = time.time_ns() // 1_000_000
    now = clock.now_ms()
    after = time.time_ns() // 1_000_000
    assert isinstance(now, int)
    assert before <= now <= after


def test_advance_and_reset():
    start = clock.now_ms()
    clock.advance(3_600_000)
    moved = clock.now_ms()
    assert 3_600_000 <= moved - start < 3_600_000 + 5_000
    clock.advance(1_000)
    assert clock.now_ms() - start >= 3_601_000
    clock.reset()
    assert clock.now_ms() - start < 5_000


def test_periods_back_lists_every_month_of_a_range_newest_first():
    from datetime import date

    from tollgate import clock

    assert clock.periods_back(date(2025, 11, 30), date(2026, 2, 1)) == ["2026-02", "2026-01", "2025-12", "2025-11"]
    assert clock.periods_back(date(2026, 3, 1), date(2026, 3, 31)) == ["2026-03"]
    assert clock.periods_back(date(2026, 4, 1), date(2026, 3, 31)) == []
