"""Caller metadata attached to ledger entries: a small, plain JSON object.

It is stored as-is in DynamoDB, so it must be small (the whole entry stays within one
write unit where possible) and hold only values DynamoDB can keep exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_METADATA_BYTES = 1024
MAX_METADATA_KEYS = 20
MAX_DEPTH = 3
MAX_LIST_ITEMS = 50
MAX_KEY_CHARS = 64
# DynamoDB keeps 38 significant digits; a sane magnitude keeps every number storable.
MAX_NUMBER_DIGITS = 38
MIN_MAGNITUDE, MAX_MAGNITUDE = Decimal("1e-119"), Decimal("1e120")


def validate_metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("metadata must be an object")
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata may have at most {MAX_METADATA_KEYS} keys")
    _check(value, 1)
    size = len(json.dumps(value, default=str, separators=(",", ":")).encode())
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {size} bytes; the limit is {MAX_METADATA_BYTES}")
    return value


def _check(value: Any, depth: int) -> None:
    # depth counts containers: {"a": {"b": {"c": 1}}} is three levels.
    if isinstance(value, (dict, list)) and depth > MAX_DEPTH:
        raise ValueError(f"metadata may nest at most {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
                raise ValueError(f"metadata keys must be strings of 1-{MAX_KEY_CHARS} characters")
            _check(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"metadata lists may have at most {MAX_LIST_ITEMS} items")
        for item in value:
            _check(item, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, (int, Decimal)):
        _check_number(Decimal(value))
    else:
        raise ValueError("metadata values must be strings, numbers, booleans or null")


def _check_number(number: Decimal) -> None:
    if not number.is_finite():
        raise ValueError("metadata numbers must be finite")
    if number.is_zero():
        return
    # Significant digits, counted without normalize(), which would round to the context's 28.
    digits = len("".join(map(str, number.as_tuple().digits)).rstrip("0"))
    # adjusted() is the exponent of the leading digit: 1e-119 <= |n| < 1e120, read without arithmetic.
    if digits > MAX_NUMBER_DIGITS or not MIN_MAGNITUDE.adjusted() <= number.adjusted() < MAX_MAGNITUDE.adjusted():
        raise ValueError(f"metadata numbers must have at most {MAX_NUMBER_DIGITS} significant digits "
                         "and a magnitude between 1e-119 and 1e120")


def json_schema() -> dict[str, Any]:
    """The JSON schema of metadata, as far as JSON Schema can say it (the byte limit it cannot)."""
    # JSON Schema bounds are JSON numbers: MIN_MAGNITUDE and MAX_MAGNITUDE, written out.
    number = {"type": "number", "anyOf": [
        {"const": 0},
        {"minimum": 1e-119, "exclusiveMaximum": 1e120},
        {"maximum": -1e-119, "exclusiveMinimum": -1e120},
    ]}
    scalars = [{"type": "string"}, number, {"type": "boolean"}, {"type": "null"}]
    value: dict[str, Any] = {"anyOf": scalars}
    for _ in range(MAX_DEPTH - 1):  # containers nest inside the top-level object up to MAX_DEPTH levels
        value = {"anyOf": [*scalars, _object(value), {"type": "array", "maxItems": MAX_LIST_ITEMS, "items": value}]}
    return {
        **_object(value),
        "maxProperties": MAX_METADATA_KEYS,
        "description": f"Your own JSON object, stored with the entry: at most {MAX_METADATA_KEYS} keys, "
                       f"{MAX_DEPTH} levels, {MAX_METADATA_BYTES} bytes; numbers of at most {MAX_NUMBER_DIGITS} "
                       "significant digits.",
    }


def _object(values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "propertyNames": {"minLength": 1, "maxLength": MAX_KEY_CHARS},
            "additionalProperties": values}
