"""A wallet's history: newest first, one strongly consistent query per page.

The cursor (``tollgate.cursors``) must name this wallet's partition, an entry, and the
same filters.
"""

from __future__ import annotations

from tollgate import clock, cursors, keys
from tollgate.ledger import repository
from tollgate.ledger.models import LedgerEntryItem
from tollgate.ledger.schemas import EntryOut, HistoryPage

_HIGH = "~"  # sorts after every digit and letter used in index keys
_KEY_NAMES = ("PK", "SK", "LSI1SK")
_FILTER_LOOKAHEAD = 100


def entry_view(entry: LedgerEntryItem) -> EntryOut:
    return EntryOut(
        transaction_id=entry.transaction_id,
        type=entry.type,
        amount=entry.amount,
        balance_after=entry.balance_after,
        feature=entry.feature,
        reference=entry.reference,
        reason=entry.reason,
        created_at=entry.created_at,
        metadata=entry.metadata or {},
    )


def wallet_history(wallet_id: str, *, limit: int, cursor: str | None, entry_type: str | None,
            since_ms: int | None, until_ms: int | None) -> HistoryPage:
    # Entry keys start with clock.iso(): clamp the bounds into the range it writes.
    low = clock.iso(min(max(since_ms, 0), clock.MAX_ISO_MS)) if since_ms is not None else "0"
    high = clock.iso(min(max(until_ms, 0), clock.MAX_ISO_MS)) + "#" + _HIGH if until_ms is not None else _HIGH
    scope = cursors.scope(wallet_id, entry_type, since_ms, until_ms)
    pk = keys.wallet_pk(wallet_id)
    start = cursors.decode(cursor, scope, _KEY_NAMES, lambda k: k["PK"] == pk and k["SK"].startswith(
        keys.ENTRY_PREFIX) and k["LSI1SK"].endswith("#" + k["SK"][len(keys.ENTRY_PREFIX):])) if cursor else None
    # A type filter is applied after DynamoDB's Limit, so a filtered page looks further
    # ahead (still one query) and stops at `limit` matches; it may hold fewer than `limit`.
    items, last = repository.query_entries(
        wallet_id, low=low, high=high, limit=_FILTER_LOOKAHEAD if entry_type else limit, start_key=start,
        entry_type=entry_type,
    )
    if len(items) > limit:
        items = items[:limit]
        last = {"PK": {"S": pk}, "SK": {"S": items[-1].sk}, "LSI1SK": {"S": items[-1].lsi1sk}}
    return HistoryPage(
        data=[entry_view(i) for i in items],
        next_cursor=cursors.encode(last, scope) if last else None,
    )
