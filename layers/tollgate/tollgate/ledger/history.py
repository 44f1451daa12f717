"""A wallet's history: newest first, one strongly consistent query per page.

The cursor is opaque (base64url JSON of the last key plus a fingerprint of the filters).
It is checked on the way back in: it must name this wallet's partition and the same
filters, so a tampered or foreign cursor is a 422, never a 500 or another wallet's data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from tollgate import clock, keys
from tollgate.dynamo import Item
from tollgate.ledger import repository
from tollgate.ledger.exceptions import InvalidCursor
from tollgate.ledger.schemas import EntryOut, HistoryPage

_HIGH = "~"  # sorts after every digit and letter used in index keys
_SK = "LSI1SK"
_FILTER_LOOKAHEAD = 100


def entry_view(item: Item) -> EntryOut:
    return EntryOut(
        transaction_id=item["transaction_id"],
        type=item["type"],
        amount=int(item["amount"]),
        balance_after=None if item.get("balance_after") is None else int(item["balance_after"]),
        feature=item.get("feature"),
        reference=item.get("reference"),
        reason=item.get("reason"),
        created_at=item["created_at"],
        metadata=item.get("metadata") or {},
    )


def history(wallet_id: str, *, limit: int, cursor: str | None, entry_type: str | None,
            since_ms: int | None, until_ms: int | None) -> HistoryPage:
    # Entry keys start with clock.iso(): clamp the bounds into the range it writes.
    low = clock.iso(min(max(since_ms, 0), clock.MAX_ISO_MS)) if since_ms is not None else "0"
    high = clock.iso(min(max(until_ms, 0), clock.MAX_ISO_MS)) + "#" + _HIGH if until_ms is not None else _HIGH
    fingerprint = _fingerprint(entry_type, since_ms, until_ms)
    start = _decode_cursor(cursor, wallet_id, _SK, fingerprint) if cursor else None
    # A type filter is applied after DynamoDB's Limit, so a filtered page looks further
    # ahead (still one query) and stops at `limit` matches; it may hold fewer than `limit`.
    items, last = repository.query_entries(
        wallet_id, low=low, high=high, limit=_FILTER_LOOKAHEAD if entry_type else limit, start_key=start,
        entry_type=entry_type,
    )
    if len(items) > limit:
        items = items[:limit]
        last = {name: {"S": items[-1][name]} for name in ("PK", "SK", _SK)}
    return HistoryPage(
        data=[entry_view(i) for i in items],
        next_cursor=_encode_cursor(last, _SK, fingerprint) if last else None,
    )


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def _encode_cursor(last: dict[str, Any], sk_name: str, fingerprint: str) -> str:
    payload = {"pk": last["PK"]["S"], "sk": last["SK"]["S"], "ix": last[sk_name]["S"], "f": fingerprint}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, wallet_id: str, sk_name: str, fingerprint: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCursor("cursor is not valid", field="cursor") from None
    if (
        not isinstance(payload, dict)
        or set(payload) != {"pk", "sk", "ix", "f"}
        or not all(isinstance(v, str) for v in payload.values())
        or payload["pk"] != keys.wallet_pk(wallet_id)
        or not payload["sk"].startswith("TX#")
        or payload["f"] != fingerprint
        or not payload["ix"].endswith(payload["sk"][3:])
    ):
        raise InvalidCursor("cursor is not valid for this request", field="cursor")
    return {"PK": {"S": payload["pk"]}, "SK": {"S": payload["sk"]}, sk_name: {"S": payload["ix"]}}
