"""Idempotency for every money path: derived ids, request fingerprints, replay checks.

A money request's record (ledger entry, reservation, purchase) is keyed by an id derived
from the caller's ``Idempotency-Key``, so a replay fails its ``attribute_not_exists``
condition instead of writing twice. The record keeps a hash of the request: a replay with
the same body returns the original result; the same key with a different body is a 409.
"""

from __future__ import annotations

import json
from typing import Any

from tollgate import ids
from tollgate.errors import IdempotencyConflict


class IdempotencyKeyReused(IdempotencyConflict):
    """The Idempotency-Key was used before with a different request."""


def request_hash(payload: dict[str, Any]) -> str:
    """The fingerprint of a request, from a stable text of it."""
    return ids.request_hash(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str))


def record_id(prefix: str, wallet_id: str, operation: str, idempotency_key: str | None, *,
              located: bool = False) -> str:
    """The id of the record a request writes: derived from its key, or random without one.

    ``located``: the id starts with the wallet's locator (``ids.located_id``), so the record
    can be found from its id alone (ledger entries: a reversal names a usage entry by its id).
    """
    if located:
        if idempotency_key is None:
            return ids.random_located_id(prefix, wallet_id)
        return ids.located_id(prefix, wallet_id, operation, idempotency_key)
    if idempotency_key is None:
        return ids.random_id(prefix)
    return ids.derived_id(prefix, wallet_id, operation, idempotency_key)


def check_replay(stored_hash: str | None, request_hash: str) -> None:
    """A replay must repeat the original request exactly."""
    if stored_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
