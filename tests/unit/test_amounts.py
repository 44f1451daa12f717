"""amounts: exact credit parsing and formatting (DESIGN "Decisions" 1)."""

from __future__ import annotations

import contextlib
import random
import re
import resource
from decimal import Decimal

import pytest

from tollgate.amounts import (
    MAX_CREDITS_MC,
    MC_PER_CREDIT,
    AmountError,
    format_credits,
    format_optional,
    parse_credits,
)

_DECIMAL_STRING = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]{0,2}[1-9])?$")


def parse_any(value):
    return parse_credits(value, allow_negative=True, allow_zero=True)


@contextlib.contextmanager
def address_space_cap(extra_bytes: int = 512 * 1024 * 1024):
    """Cap this process's address space for the block, so a runaway allocation fails fast."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * resource.getpagesize()
    cap = current + extra_bytes
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


class TestConstants:
    def test_one_credit_is_1000_millicredits(self):
        assert MC_PER_CREDIT == 1000

    def test_maximum_is_one_billion_credits(self):
        assert MAX_CREDITS_MC == 1_000_000_000_000


class TestParseValid:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12.5", 12_500),
            ("12", 12_000),
            ("0.001", 1),
            ("0.01", 10),
            ("0.1", 100),
            ("1.500", 1_500),
            ("1.50", 1_500),
            ("1.0", 1_000),
            ("9", 9_000),
            ("25", 25_000),
            ("40", 40_000),
            ("3", 3_000),
            ("0.5", 500),
            ("123.456", 123_456),
            ("999999999.999", 999_999_999_999),
            ("1000000000", MAX_CREDITS_MC),
            ("1000000000.000", MAX_CREDITS_MC),
        ],
    )
    def test_strings(self, value, expected):
        assert parse_credits(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(1, 1_000), (12, 12_000), (1_000_000_000, MAX_CREDITS_MC)],
    )
    def test_ints(self, value, expected):
        result = parse_credits(value)
        assert result == expected
        assert type(result) is int

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (Decimal("12.5"), 12_500),
            (Decimal("1E+3"), 1_000_000),
            (Decimal("1e3"), 1_000_000),
            (Decimal("1.500"), 1_500),
            (Decimal("0.001"), 1),
            (Decimal("1E-3"), 1),
            (Decimal("2.5E-2"), 25),
            (Decimal("12"), 12_000),
            (Decimal("100.0E-1"), 10_000),
            (Decimal("1.10E+1"), 11_000),
            (Decimal("1E+9"), MAX_CREDITS_MC),
        ],
    )
    def test_decimals(self, value, expected):
        result = parse_credits(value)
        assert result == expected
        assert type(result) is int

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("1." + "0" * 30, 1_000), ("0.5" + "0" * 30, 500), ("-2.25" + "0" * 20, -2_250)],
        ids=["1.000...", "0.5000...", "-2.25000..."],
    )
    def test_trailing_zeros_in_a_decimal_number(self, value, expected):
        # Trailing zeros carry no precision, however many: the string is accepted, so is the number.
        assert parse_any(value) == expected
        assert parse_any(Decimal(value)) == expected

    def test_negative_allowed_when_asked(self):
        assert parse_credits("-12.5", allow_negative=True) == -12_500
        assert parse_credits(-3, allow_negative=True) == -3_000
        assert parse_credits(Decimal("-0.001"), allow_negative=True) == -1

    def test_zero_allowed_when_asked(self):
        assert parse_credits("0", allow_zero=True) == 0
        assert parse_credits(0, allow_zero=True) == 0
        assert parse_credits(Decimal("0"), allow_zero=True) == 0
        assert parse_credits(Decimal("0.000"), allow_zero=True) == 0
        assert parse_credits("0.000", allow_zero=True) == 0

    def test_negative_zero_is_zero(self):
        assert parse_credits(Decimal("-0"), allow_zero=True) == 0
        assert parse_credits(Decimal("-0.000"), allow_zero=True) == 0

    def test_limits_exactly_at_the_maximum(self):
        assert parse_credits("1000000000") == MAX_CREDITS_MC
        assert parse_credits(Decimal("1000000000.000")) == MAX_CREDITS_MC
        assert parse_credits("-1000000000", allow_negative=True) == -MAX_CREDITS_MC
        assert parse_credits(-1_000_000_000, allow_negative=True) == -MAX_CREDITS_MC


class TestParseRejected:
    @pytest.mark.parametrize(
        "value",
        [
            1.5,
            1.0,
            0.001,
            float("nan"),
            float("inf"),
            True,
            False,
            None,
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "inf",
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            "1e3",
            "1E3",
            "1e-3",
            "0.0001",
            "1.2345",
            "",
            " ",
            ".",
            ".5",
            "abc",
            "12abc",
            "01",
            "00",
            "007.5",
            "+1",
            "1,5",
            "1 000",
            "0x10",
            "1_000",
            "--1",
            "1.2.3",
            Decimal("0.0001"),
            Decimal("1.2345"),
            Decimal("1E-4"),
            # Not rounded away: the 29th significant digit still makes it inexact.
            Decimal("1." + "0" * 27 + "1"),
            Decimal("0.001" + "0" * 30 + "1"),
            [1],
            {"amount": 1},
            b"1",
            complex(1, 0),
        ],
    )
    def test_not_an_exact_amount(self, value):
        with pytest.raises(AmountError):
            parse_any(value)

    def test_amount_error_is_a_value_error(self):
        assert issubclass(AmountError, ValueError)

    @pytest.mark.parametrize(
        "value",
        [
            "1000000000.001",
            "1000000001",
            "9999999999999",
            "99999999999999999999",
            1_000_000_001,
            10**20,
            Decimal("1000000000.001"),
            Decimal("1E+10"),
            Decimal("1E+16"),
            Decimal("1E+100"),
            Decimal("1E+999999999999"),
        ],
    )
    def test_beyond_the_maximum(self, value):
        with pytest.raises(AmountError):
            parse_any(value)

    @pytest.mark.parametrize("value", ["-1000000000.001", -1_000_000_001, Decimal("-1E+10")])
    def test_beyond_the_negative_maximum(self, value):
        with pytest.raises(AmountError):
            parse_any(value)

    def test_one_millicredit_above_the_maximum(self):
        assert parse_credits(format_credits(MAX_CREDITS_MC)) == MAX_CREDITS_MC
        with pytest.raises(AmountError):
            parse_credits(format_credits(MAX_CREDITS_MC + 1))
        with pytest.raises(AmountError):
            parse_credits(format_credits(-MAX_CREDITS_MC - 1), allow_negative=True)

    @pytest.mark.parametrize("value", ["-1", "-0.001", -1, Decimal("-12.5")])
    def test_negative_not_allowed_by_default(self, value):
        with pytest.raises(AmountError, match="negative"):
            parse_credits(value, allow_zero=True)

    @pytest.mark.parametrize("value", ["0", "0.0", "0.000", 0, Decimal("0"), Decimal("0E+3"), Decimal("-0")])
    def test_zero_not_allowed_by_default(self, value):
        with pytest.raises(AmountError, match="zero"):
            parse_credits(value, allow_negative=True)

    def test_error_names_the_field(self):
        with pytest.raises(AmountError, match=r"^price "):
            parse_credits("abc", field="price")

    @pytest.mark.parametrize("value", ["1\u0662", "1.\u0665", "\u0661\u0662", "1\uff12", "\u0663"])
    def test_non_ascii_digits_are_rejected(self, value):
        # Python's \d matches any Unicode digit and int() accepts them; an amount is ASCII only.
        with pytest.raises(AmountError):
            parse_any(value)

    @pytest.mark.parametrize(
        "value",
        [Decimal("1E-999999999999"), Decimal("-5E-999999999999"), Decimal("0E-999999999999")],
        ids=["1E-999999999999", "-5E-999999999999", "0E-999999999999"],
    )
    def test_tiny_exponent_decimals_are_handled_cheaply(self, value):
        # A 21-byte JSON number ("1e-999999999999") must be a 422, not a terabyte-sized string.
        with address_space_cap():
            try:
                result = parse_any(value)
            except AmountError:
                return
            except MemoryError:
                pytest.fail(f"parse_credits({value!r}) tried to expand the exponent in memory")
        # Only an exact zero may be accepted (it is one, whatever its exponent).
        assert value.is_zero(), f"parse_credits({value!r}) accepted it as {result}"
        assert result == 0


class TestFormat:
    @pytest.mark.parametrize(
        ("mc", "expected"),
        [
            (0, "0"),
            (1, "0.001"),
            (10, "0.01"),
            (100, "0.1"),
            (500, "0.5"),
            (1_000, "1"),
            (1_500, "1.5"),
            (12_500, "12.5"),
            (12_050, "12.05"),
            (123_456, "123.456"),
            (-1, "-0.001"),
            (-3_000, "-3"),
            (-12_500, "-12.5"),
            (MAX_CREDITS_MC, "1000000000"),
            (-MAX_CREDITS_MC, "-1000000000"),
            (10**20 + 1, "100000000000000000.001"),
        ],
    )
    def test_values(self, mc, expected):
        assert format_credits(mc) == expected

    def test_accepts_a_decimal_holding_an_integer(self):
        # DynamoDB numbers deserialise as Decimal.
        assert format_credits(Decimal(12_500)) == "12.5"

    def test_optional(self):
        assert format_optional(None) is None
        assert format_optional(0) == "0"
        assert format_optional(-250) == "-0.25"

    def test_output_shape_never_has_trailing_zeros_or_exponents(self):
        rng = random.Random(1)
        for _ in range(2_000):
            mc = rng.randint(-(10**15), 10**15)
            text = format_credits(mc)
            assert _DECIMAL_STRING.match(text), text
            assert "e" not in text.lower()


class TestRoundTrip:
    def test_every_small_value(self):
        for mc in range(-5_000, 5_001):
            text = format_credits(mc)
            assert parse_any(text) == mc, text
            assert parse_any(Decimal(text)) == mc, text

    def test_random_values_across_the_whole_range(self):
        rng = random.Random(20260101)
        values = [rng.randint(-MAX_CREDITS_MC, MAX_CREDITS_MC) for _ in range(5_000)]
        values += [MAX_CREDITS_MC, -MAX_CREDITS_MC, MAX_CREDITS_MC - 1, -MAX_CREDITS_MC + 1, 999, 1_001]
        for mc in values:
            text = format_credits(mc)
            assert parse_any(text) == mc, text
            assert parse_any(Decimal(text)) == mc, text

    def test_whole_credits_round_trip_as_ints(self):
        for credits in [*range(-1_000, 1_001), 10**9, -(10**9), 123_456_789]:
            mc = parse_any(credits)
            assert mc == credits * MC_PER_CREDIT
            assert format_credits(mc) == str(credits)

    def test_parse_then_format_normalises(self):
        assert format_credits(parse_credits("1.500")) == "1.5"
        assert format_credits(parse_credits(Decimal("1E+3"))) == "1000"
        assert format_credits(parse_credits("0.010")) == "0.01"
