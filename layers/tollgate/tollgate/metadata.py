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
            if not isinstance(key, str) or not key or len(key) > 64:
                raise ValueError("metadata keys must be strings of 1-64 characters")
            _check(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > 50:
            raise ValueError("metadata lists may have at most 50 items")
        for item in value:
            _check(item, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if abs(value) >= 10**38:
            raise ValueError("metadata numbers must have at most 38 digits")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("metadata numbers must be finite")
        digits = len(value.as_tuple().digits)
        if digits > 38 or not -120 < value.adjusted() < 120:
            raise ValueError("metadata numbers must have at most 38 digits and a sane exponent")
    else:
        raise ValueError("metadata values must be strings, numbers, booleans or null")
