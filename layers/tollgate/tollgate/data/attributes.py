"""Exact attributes: amounts as ``int`` and JSON-like maps whose numbers never become floats.

PynamoDB's ``NumberAttribute`` and raw ``MapAttribute`` read numbers with ``json.loads``,
so ``"0.1"`` comes back a float. Money never touches a float here: amounts are
:class:`IntegerAttribute`, and free-form maps (metadata, measures, pricing rules, holds,
price lists) are :class:`ExactMapAttribute`, whose numbers are ``int`` when integral and
``Decimal`` otherwise. The (de)serialiser below is hand-written because PynamoDB has no
exact-number map; it also refuses a number DynamoDB would round.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import MAP, NUMBER

# DynamoDB keeps 38 significant digits; anything that would round is refused, not stored wrong.
_NUMBER_CONTEXT = decimal.Context(prec=38, Emin=-128, Emax=126, traps=[decimal.Inexact, decimal.Rounded,
                                                                     decimal.Overflow, decimal.Underflow])


def to_attr(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (floats refused: they are not exact)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("DynamoDB numbers must be finite")
        return {"N": str(_NUMBER_CONTEXT.create_decimal(value))}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} exactly in DynamoDB")


def from_attr(attr: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as Python: numbers as int when integral, else Decimal."""
    if not attr:
        return {}  # DynamoDB Local renders an empty map in stream images as {}
    ((kind, raw),) = attr.items()
    if kind == "S":
        return raw
    if kind == "N":
        return exact_number(raw)
    if kind == "M":
        return {k: from_attr(v) for k, v in raw.items()}
    if kind == "L":
        return [from_attr(v) for v in raw]
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    raise TypeError(f"unexpected DynamoDB type {kind} in an exact map")


def exact_number(raw: str) -> int | Decimal:
    # Amounts are integers: keep them exact ints; anything else stays an exact Decimal.
    if raw.lstrip("-").isdigit():
        return int(raw)
    number = Decimal(raw)
    return int(number) if number == number.to_integral_value() else number


class IntegerAttribute(Attribute[int]):
    """An integer (millicredits, minor units, counters, epoch seconds): never a float."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.attr_name} must be an int, not {type(value).__name__}")
        return str(value)

    def deserialize(self, value: str) -> int:
        number = exact_number(value)
        if not isinstance(number, int):
            raise ValueError(f"{self.attr_name} holds a non-integral number")
        return number


class ExactMapAttribute(Attribute[dict[str, Any]]):
    """A free-form map whose numbers stay exact (``int``/``Decimal``)."""

    attr_type = MAP

    def serialize(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return {str(k): to_attr(v) for k, v in value.items()}

    def deserialize(self, value: dict[str, Any]) -> dict[str, Any]:
        return {k: from_attr(v) for k, v in value.items()}
