"""Exact credit amounts.

Credits are stored and computed as integer millicredits (1 credit = 1,000 mc). The API
shows them as decimal strings with at most three fractional digits and accepts a string
or a JSON number (parsed as ``Decimal``, never ``float``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

MC_PER_CREDIT = 1000
# A sane ceiling for any single amount: one billion credits.
MAX_CREDITS_MC = 1_000_000_000 * MC_PER_CREDIT

# The whole string, exactly: ASCII digits (\d would take other scripts' digits, which int()
# accepts), no sign but "-", no spaces, at most 3 fractional digits plus any trailing zeros
# (they carry no precision: "1.500" is 1.5). The OpenAPI document publishes the same rule.
_CREDITS_RE = re.compile(r"(-?)(0|[1-9][0-9]{0,9})(?:\.([0-9]{1,3})0*)?")


class AmountError(ValueError):
    """An amount that is not an exact, in-range credit value."""


def parse_credits(
    value: Any,
    *,
    allow_negative: bool = False,
    allow_zero: bool = False,
    field: str = "amount",
) -> int:
    """Parse a credit amount (``"12.5"``, ``12``, ``Decimal("12.5")``) into millicredits."""
    if isinstance(value, bool) or value is None:
        raise AmountError(f"{field} must be a decimal string or number")
    if isinstance(value, int):
        mc = value * MC_PER_CREDIT
    elif isinstance(value, Decimal):
        mc = _decimal_to_mc(value, field)
    elif isinstance(value, str):
        mc = _text_to_mc(value, field)
    else:
        # floats included: they cannot carry an exact amount.
        raise AmountError(f"{field} must be a decimal string or number")
    if abs(mc) > MAX_CREDITS_MC:
        raise AmountError(f"{field} exceeds the maximum of {format_credits(MAX_CREDITS_MC)} credits")
    # "-0" is zero, but a non-negative amount is written without a sign (as the document says).
    if (mc < 0 or (isinstance(value, str) and value.startswith("-"))) and not allow_negative:
        raise AmountError(f"{field} must not be negative")
    if mc == 0 and not allow_zero:
        raise AmountError(f"{field} must not be zero")
    return mc


def _text_to_mc(value: str, field: str) -> int:
    match = _CREDITS_RE.fullmatch(value)
    if match is None:
        raise AmountError(f"{field} must be a decimal with at most 3 fractional digits")
    sign, whole, frac = match.groups()
    mc = int(whole) * MC_PER_CREDIT + int((frac or "").ljust(3, "0"))
    return -mc if sign else mc


def _decimal_to_mc(value: Decimal, field: str) -> int:
    """Exact millicredits from a Decimal's digits, never formatting a huge or tiny exponent."""
    if not value.is_finite():
        raise AmountError(f"{field} must be a finite number")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trimmed = list(digits)
    # Trailing zeros after the point carry no precision: 1.500 is 1.5.
    while exponent < 0 and len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    if trimmed == [0]:
        return 0
    if exponent < -3:
        raise AmountError(f"{field} must be a decimal with at most 3 fractional digits")
    if len(trimmed) + exponent > 13:
        raise AmountError(f"{field} is too large")
    mc = int("".join(map(str, trimmed))) * 10 ** (exponent + 3)
    return -mc if sign else mc


def format_credits(mc: int) -> str:
    """Render millicredits as a decimal string: 12500 -> "12.5", -3000 -> "-3"."""
    mc = int(mc)
    sign = "-" if mc < 0 else ""
    whole, frac = divmod(abs(mc), MC_PER_CREDIT)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}." + f"{frac:03d}".rstrip("0")


def format_optional(mc: int | None) -> str | None:
    return None if mc is None else format_credits(mc)
