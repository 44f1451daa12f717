"""Reconciliation storage: the changed-subject sets (read), the checkpoint, runs and findings; the
refunds and payouts created since the gateway cursor (read) and the watch list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tollgate import keys
from tollgate.data import Transaction, TransactionCancelled, first_page, get_or_none
from tollgate.payouts.models import PayoutItem
from tollgate.reconciliation.models import (
    ReconChangedItem,
    ReconCheckpointItem,
    ReconFindingItem,
    ReconFindingKeyItem,
    ReconGatewayCursorItem,
    ReconRunItem,
    ReconWatchItem,
)
from tollgate.refunds.models import RefundItem

F = ReconFindingItem
FINDING_KEY = "reconciliation:finding_key"
FINDING = "reconciliation:finding"


def changed(day: str) -> tuple[set[str], set[str]]:
    """The wallets and developers marked changed on ``day``: one Query per shard (more only past 1 MB)."""
    wallets: set[str] = set()
    developers: set[str] = set()
    for shard in range(keys.RECON_SHARDS):
        for item in ReconChangedItem.query(keys.recon_changed_pk(day, shard), consistent_read=True):
            target = wallets if item.sk.startswith(keys.RECON_WALLETS) else developers
            target.update(item.subjects or ())
    return wallets, developers


def get_checkpoint() -> ReconCheckpointItem | None:
    return get_or_none(ReconCheckpointItem, *keys.recon_checkpoint())


def save_checkpoint(**fields: Any) -> None:
    ReconCheckpointItem(*keys.recon_checkpoint(), **fields).save()


def save_run(run: ReconRunItem) -> None:
    run.save()


def new_run(**fields: Any) -> ReconRunItem:
    return ReconRunItem(*keys.recon_run(fields["run_id"]), **fields)


def get_run(run_id: str) -> ReconRunItem | None:
    return get_or_none(ReconRunItem, *keys.recon_run(run_id))


def record_finding(fingerprint: str, **fields: Any) -> bool:
    """Put a finding and its fingerprint in one transaction; False (nothing written) if the
    fingerprint is there already: the same discrepancy was recorded before."""
    tx = Transaction()
    tx.put(FINDING_KEY, ReconFindingKeyItem(*keys.recon_finding_key(fingerprint), finding_id=fields["finding_id"],
                                            at=fields["at"]), ReconFindingKeyItem.pk.does_not_exist())
    tx.put(FINDING, ReconFindingItem(*keys.recon_finding(fields["at"], fields["finding_id"]), **fields),
           ReconFindingItem.pk.does_not_exist())
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(FINDING_KEY):
            return False
        raise
    return True


def findings_page(period: str, low: str, high: str, *, limit: int, start: dict[str, Any] | None
                  ) -> tuple[list[ReconFindingItem], dict[str, Any] | None]:
    """One Query of a month's findings with ``low <= SK <= high``, newest first."""
    results = F.query(keys.recon_finding_pk(period), F.sk.between(low, high), scan_index_forward=False,
                      page_size=limit, last_evaluated_key=start, consistent_read=True)
    return first_page(results, ReconFindingItem)


# The job's own gateway bookkeeping: the cursor beside the checkpoint (``RECON#RUN``), the watch
# list in one partition of its own, read whole by one Query (per MB).
GATEWAY_CURSOR = ("RECON#RUN", "GATEWAYS")
WATCH_PK = "RECON#WATCH"
REFUND, PAYOUT = "refund", "payout"


def watch_key(kind: str, item_id: str) -> tuple[str, str]:
    return WATCH_PK, f"{kind}#{item_id}"


def get_gateway_cursor() -> ReconGatewayCursorItem | None:
    return get_or_none(ReconGatewayCursorItem, *GATEWAY_CURSOR)


def save_gateway_cursor(**fields: Any) -> None:
    ReconGatewayCursorItem(*GATEWAY_CURSOR, **fields).save()


def watched() -> list[ReconWatchItem]:
    return list(ReconWatchItem.query(WATCH_PK, consistent_read=True))


def watch(kind: str, item_id: str, *, since: str, handled: str | None = None, until: str | None = None) -> None:
    ReconWatchItem(*watch_key(kind, item_id), kind=kind, item_id=item_id, since=since, handled=handled,
                   until=until).save()


def unwatch(kind: str, item_id: str) -> None:
    ReconWatchItem(*watch_key(kind, item_id)).delete()


def created_after(kind: str, after: str) -> Iterator[RefundItem | PayoutItem]:
    """Every refund (or payout) with ``GSI2SK`` (``<created_at>#<id>``) after ``after``, oldest
    first: GSI2 Queries of 1 MB, read as iterated (eventually consistent: see :func:`current`)."""
    if kind == REFUND:
        return RefundItem.everyone.query(keys.ALL_REFUNDS_GSI2PK, RefundItem.gsi2sk > after,
                                         scan_index_forward=True)
    return PayoutItem.everyone.query(keys.ALL_PAYOUTS_GSI2PK, PayoutItem.gsi2sk > after, scan_index_forward=True)


def current(kind: str, item_ids: Iterable[str]) -> dict[str, RefundItem | PayoutItem]:
    """The refunds (or payouts) as they are now, by id: BatchGetItem, strongly consistent (an index
    may still show an older status); an id that is gone is left out."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    if kind == REFUND:
        return {r.refund_id: r for r in RefundItem.batch_get([keys.refund(i) for i in ids], consistent_read=True)}
    return {p.payout_id: p for p in PayoutItem.batch_get([keys.payout(i) for i in ids], consistent_read=True)}


__all__ = ["GATEWAY_CURSOR", "PAYOUT", "REFUND", "WATCH_PK", "changed", "created_after", "current", "findings_page",
           "get_checkpoint", "get_gateway_cursor", "get_run", "new_run", "record_finding", "save_checkpoint",
           "save_gateway_cursor", "save_run", "unwatch", "watch", "watch_key", "watched"]
