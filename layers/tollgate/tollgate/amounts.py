"""Exact credit amounts.

Credits are stored and computed as integer millicredits (1 credit = 1,000 mc). The API
shows them as decimal strings with at most three fractional digits and accepts a string
or a JSON number (parsed as ``Decimal``, never ``float``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

MC_PER_CREDIT = 1000
# A sane ceiling for any single amount: one billion credits.
MAX_CREDITS_MC = 1_000_000_000 * MC_PER_CREDIT

_CREDITS_RE = re.compile(r"^-?(0|[1-9]\d{0,11})(\.\d{1,3})?$")
# Trailing zeros carry no precision ("1.500" is 1.5); they are dropped before the check.
_TRAILING_ZEROS_RE = re.compile(r"(\.\d*?)0+$")


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
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"{field} must be a finite number")
        text = _plain_decimal(value, field)
    elif isinstance(value, str):
        text = _TRAILING_ZEROS_RE.sub(r"\1", value.strip()).rstrip(".")
    else:
        # floats included: they cannot carry an exact amount.
        raise AmountError(f"{field} must be a decimal string or number")
    if not _CREDITS_RE.match(text):
        raise AmountError(f"{field} must be a decimal with at most 3 fractional digits")
    whole, _, frac = text.lstrip("-").partition(".")
    mc = int(whole) * MC_PER_CREDIT + int((frac + "000")[:3])
    if text.startswith("-"):
        mc = -mc
    if abs(mc) > MAX_CREDITS_MC:
        raise AmountError(f"{field} exceeds the maximum of {format_credits(MAX_CREDITS_MC)} credits")
    if mc < 0 and not allow_negative:
        raise AmountError(f"{field} must not be negative")
    if mc == 0 and not allow_zero:
        raise AmountError(f"{field} must not be zero")
    return mc


def _plain_decimal(value: Decimal, field: str) -> str:
    # Normalise exponents (1E+3) to plain digits; refuse anything with more than 3 decimals.
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise AmountError(f"{field} must be a finite number")
    if len(digits) + max(exponent, 0) > 16:
        raise AmountError(f"{field} is too large")
    try:
        text = format(value, "f")
    except (InvalidOperation, ValueError) as exc:  # pragma: no cover - defensive
        raise AmountError(f"{field} must be a finite number") from exc
    if "." in text:
        text = text.rstrip("0").rstrip(".") if exponent < 0 else text
    return "0" if text in ("-0", "") else text


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
