"""Earnings accrue from the table's stream, never inside a debit.

Each usage entry of a feature with a developer earns ``floor(cost_mc * revenue_share_bps /
10000)`` mc. A stream batch is aggregated per developer and written as one transaction per
developer: one put per earning, keyed by its
usage entry (the exactly-once key), one write to the developer's balance, one per day and
feature touched, and one earnings-log entry (the event source's batch of 90 keeps that under
DynamoDB's 100 operations; a batch touching many features is split, the one case with more
than one write to the balance per batch). A redelivered record fails its earning's
condition; those earnings are dropped (after one consistent BatchGetItem finds them all) and
the rest written, so redelivery, retries and shard splits accrue each entry exactly once.

An earning of a day the balance has already matured goes straight to ``available``; any
other to ``pending``. The first attempt assumes every day is still pending (the balance's
condition says so); if it is not, the cancellation hands back the balance as it was and the
split is redone from its ``matured_through``, with no read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tollgate import clock, ids, keys
from tollgate.data import Transaction, TransactionCancelled
from tollgate.data.images import image_number, image_string
from tollgate.earnings import repository
from tollgate.earnings.models import NEVER_MATURED, DeveloperEarningsItem, EarningItem
from tollgate.earnings.reversal import Reversal
from tollgate.earnings.reversal import from_image as reversal_from_image

BPS = 10_000
# DynamoDB's 100 operations per transaction, less the balance, the log, and room for the
# days and features a chunk touches (each at most one per earning).
_MAX_OPERATIONS = 100
_ATTEMPTS = 6


@dataclass(frozen=True)
class Accrual:
    """One usage entry's earning, as read from its stream record."""

    wallet_id: str
    transaction_id: str
    developer_id: str
    feature: str | None
    created_at: str
    cost_mc: int
    revenue_share_bps: int

    @property
    def amount_mc(self) -> int:
        return self.cost_mc * self.revenue_share_bps // BPS

    @property
    def day(self) -> str:
        return self.created_at[:10]

    @property
    def key(self) -> tuple[str, str]:
        return keys.earning(self.wallet_id, self.transaction_id)


def from_record(record: dict[str, Any]) -> Accrual | Reversal | None:
    """What a stream record changes in earnings: an inserted usage entry with a developer and a
    share earns (:class:`Accrual`); an inserted reversal of one takes back (:class:`Reversal`)."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if image_string(image, "entity") != "ledger_entry":
        return None
    if image_string(image, "type") == "reversal":
        return reversal_from_image(image)
    if image_string(image, "type") != "usage":
        return None
    bps, amount = image_number(image, "revenue_share_bps"), image_number(image, "amount")
    developer, wallet, tx, created = (image_string(image, name)
                                      for name in ("developer_id", "wallet_id", "transaction_id", "created_at"))
    if not developer or not bps or bps <= 0 or amount is None or amount >= 0 or not (wallet and tx and created):
        return None
    accrual = Accrual(wallet_id=wallet, transaction_id=tx, developer_id=developer, feature=image_string(image, "feature"),
                      created_at=created, cost_mc=-amount, revenue_share_bps=bps)
    return accrual if accrual.amount_mc > 0 else None


def accrue(accruals: Iterable[Accrual]) -> dict[str, int]:
    """Write these earnings, each exactly once; how many were new, by developer."""
    by_developer: dict[str, list[Accrual]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for accrual in accruals:
        if accrual.key not in seen:  # the same record twice in one batch
            seen.add(accrual.key)
            by_developer[accrual.developer_id].append(accrual)
    written: dict[str, int] = {}
    for developer_id, items in by_developer.items():
        written[developer_id] = sum(_accrue(developer_id, chunk) for chunk in _chunks(items))
    return written


def _chunks(items: list[Accrual]) -> list[list[Accrual]]:
    chunks: list[list[Accrual]] = [[]]
    for item in items:
        chunk = chunks[-1]
        days = {a.day for a in chunk} | {item.day}
        features = {a.feature for a in chunk if a.feature} | ({item.feature} if item.feature else set())
        if chunk and len(chunk) + 1 + len(days) + len(features) + 3 > _MAX_OPERATIONS:
            chunks.append([])
        chunks[-1].append(item)
    return chunks


def _accrue(developer_id: str, items: list[Accrual]) -> int:
    remaining = items
    matured: str | None = None  # unknown until the balance says otherwise
    for _ in range(_ATTEMPTS):
        if not remaining:
            return 0
        try:
            _write(developer_id, remaining, matured)
            return len(remaining)
        except TransactionCancelled as cancelled:
            duplicates = any(cancelled.failed(f"earning:{i}") for i in range(len(remaining)))
            if not duplicates and not cancelled.failed(repository.BALANCE):
                raise
            if duplicates:
                written = repository.existing_earnings(a.key for a in remaining)
                remaining = [a for a in remaining if a.key not in written]
            if cancelled.failed(repository.BALANCE):
                old = cancelled.old(repository.BALANCE, DeveloperEarningsItem)
                matured = old.matured_through if old is not None else NEVER_MATURED
    raise RuntimeError(f"earnings of {developer_id} did not settle in {_ATTEMPTS} attempts")


def _write(developer_id: str, items: list[Accrual], matured: str | None) -> None:
    now = clock.iso(clock.now_ms())
    tx = Transaction()
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    features: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    total = available = 0
    for i, a in enumerate(items):
        repository.put_earning(tx, f"earning:{i}", EarningItem(
            *a.key, wallet_id=a.wallet_id, transaction_id=a.transaction_id, developer_id=developer_id,
            feature=a.feature, day=a.day, cost_mc=a.cost_mc, revenue_share_bps=a.revenue_share_bps,
            amount_mc=a.amount_mc, created_at=a.created_at, accrued_at=now))
        total += a.amount_mc
        if matured is not None and a.day <= matured:
            available += a.amount_mc
        days[a.day][0] += a.amount_mc
        days[a.day][1] += 1
        if a.feature:
            features[a.feature][0] += a.amount_mc
            features[a.feature][1] += 1
    deltas = {"earned": total, "pending": total - available, "available": available}
    condition = (repository.not_matured_before(min(days)) if matured is None
                 else repository.matured_exactly(matured))
    repository.change_balance(tx, developer_id, deltas, now, condition=condition)
    for day, (earned, calls) in days.items():
        repository.add_to_day(tx, f"day:{day}", developer_id, day, earned, calls)
    for feature, (earned, calls) in features.items():
        repository.add_to_feature(tx, f"feature:{feature}", developer_id, feature, earned, calls)
    log_id = ids.derived_id("acc", *sorted(f"{a.wallet_id}|{a.transaction_id}" for a in items))
    repository.put_log(tx, developer_id, log_id, "accrual", deltas, now, count=len(items))
    tx.commit()
