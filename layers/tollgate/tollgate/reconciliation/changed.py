"""The sets of wallets and developers changed, day by day, that the reconciliation job reads.

The stream consumers add to them in the transactions they already write (the ledger stream's
grant books and aggregates, the earnings stream's balances), so a mark lands exactly when the
change it marks is applied (a sharded wallet is also marked on its own, once per batch,
:func:`mark`: a batch of its rebalances alone writes no book); adding an id to a string set twice is the same as once, so a
redelivered batch marks nothing new. No request path writes them. Each is one item per UTC day,
minute and shard (``keys.recon_changed``; 16 Queries read a day). The ledger archiver
(``tollgate.ledger.archiver``) reads a day's wallets again once the day is older than the
archive window, so a wallets' set expires after ``RETENTION_DAYS`` or that window plus 4 days,
whichever is longer (a developers' set after ``RETENTION_DAYS``).

This module imports nothing of the other domains: the stream consumers import it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from tollgate import clock, config, keys
from tollgate.data import TTL_ATTRIBUTE, client, table_name

RETENTION_DAYS = 35  # a run reads at most this many days back
LABEL = "reconciliation:changed"  # the operation's label in the transaction that carries it


def mark_request(prefix: str, subject_ids: Iterable[str], now_ms: int, shard: int) -> dict[str, Any]:
    """An ``Update`` request that ``ADD``s the ids to the set of the minute ``now_ms`` falls in, on
    ``shard`` (any will do: the job reads all 16; the caller's transaction picks one, as it does for
    the aggregates). ``prefix``: ``keys.RECON_WALLETS`` or ``keys.RECON_DEVELOPERS``."""
    at = clock.iso(now_ms)
    pk, sk = keys.recon_changed(at[:10], at[11:13] + at[14:16], shard, prefix)
    # The archiver reads wallets' sets again past its window; developers' are read by reconciliation only.
    kept_days = max(RETENTION_DAYS, config.ledger_archive_days() + 4) if prefix == keys.RECON_WALLETS \
        else RETENTION_DAYS
    return {
        "TableName": table_name(),
        "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
        "UpdateExpression": "SET #e = :e, #t = :t ADD #s :s",
        "ExpressionAttributeNames": {"#e": "entity", "#t": TTL_ATTRIBUTE, "#s": "subjects"},
        "ExpressionAttributeValues": {":e": {"S": "recon_changed"},
                                      ":t": {"N": str(now_ms // 1000 + (kept_days + 1) * 86_400)},
                                      ":s": {"SS": sorted(set(subject_ids))}},
    }


def mark(prefix: str, subject_ids: Iterable[str], now_ms: int) -> None:
    """:func:`mark_request` on its own (one ``UpdateItem``), for changes no transaction of the
    consumer carries: a sharded wallet's rebalances, which write no grant book. Adding to a set twice
    is adding once, so a redelivered batch marks nothing new."""
    ids = sorted(set(subject_ids))
    if not ids:
        return
    shard = random.randrange(keys.RECON_SHARDS)  # noqa: S311 - spread, not crypto
    client().update_item(**mark_request(prefix, ids, now_ms, shard))


__all__ = ["LABEL", "RETENTION_DAYS", "mark", "mark_request"]
