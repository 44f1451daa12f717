"""The one pagination cursor: an opaque, checked wrapper around a query's LastEvaluatedKey.

A cursor is base64url JSON of the last key's string attributes plus a fingerprint of the
request it belongs to (the scope: whose list, which filters). On the way back in it must
decode, carry exactly the expected key attributes, match the scope, and pass the caller's
check (e.g. that its partition is the caller's), so a tampered or foreign cursor is a 422,
never a 500 or another wallet's data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from tollgate.errors import ValidationFailed

RawKey = dict[str, dict[str, str]]


class InvalidCursor(ValidationFailed):
    pass


def scope(*parts: Any) -> str:
    """A short fingerprint of what a list request asked for."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:12]


def encode(last_key: Mapping[str, Mapping[str, str]], request_scope: str) -> str:
    payload = {"k": {name: value["S"] for name, value in last_key.items()}, "s": request_scope}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, request_scope: str, names: tuple[str, ...],
           check: Callable[[dict[str, str]], bool] = lambda _key: True) -> RawKey:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCursor("cursor is not valid", field="cursor") from None
    key = payload.get("k") if isinstance(payload, dict) else None
    if (
        not isinstance(key, dict)
        or set(payload) != {"k", "s"}
        or set(key) != set(names)
        or not all(isinstance(v, str) and v for v in key.values())
        or payload["s"] != request_scope
        or not check(key)
    ):
        raise InvalidCursor("cursor is not valid for this request", field="cursor")
    return {name: {"S": value} for name, value in key.items()}


def decode_index(cursor: str | None, request_scope: str, index: str, partition: str) -> RawKey | None:
    """The start key of a page of one partition of a global index (``GSI1``, ``GSI2``): the
    table's key and that index's, in that partition. None without a cursor."""
    if cursor is None:
        return None
    pk_name = f"{index}PK"
    return decode(cursor, request_scope, ("PK", "SK", pk_name, f"{index}SK"), lambda k: k[pk_name] == partition)
