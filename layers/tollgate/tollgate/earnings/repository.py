"""Earnings storage: the operations accrual, maturing and payouts build their transactions from."""

from __future__ import annotations

import random
from collections.abc import Iterable

from pynamodb.expressions.condition import Condition

from tollgate import clock, keys
from tollgate.data import Transaction, get_or_none
from tollgate.earnings.models import (
    NEVER_MATURED,
    DeveloperEarningsItem,
    EarningItem,
    EarningsDayItem,
    EarningsFeatureItem,
    EarningsLogItem,
)
from tollgate.reconciliation import changed

BALANCE = "balance"
LOG = "log"
D = DeveloperEarningsItem
BALANCE_FIELDS = ("earned", "pending", "available", "in_payout", "paid")


def put_earning(tx: Transaction, label: str, item: EarningItem) -> None:
    """Put an earning once: its key is the usage entry's, so a redelivered record fails here."""
    tx.put(label, item, EarningItem.pk.does_not_exist())


def existing_earnings(item_keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these earnings are already written (one consistent BatchGetItem per 100)."""
    found = EarningItem.batch_get(list(item_keys), consistent_read=True, attributes_to_get=["PK", "SK"])
    return {(e.pk, e.sk) for e in found}


def change_balance(tx: Transaction, developer_id: str, deltas: dict[str, int], now: str, *,
                   condition: Condition | None = None, matured_through: str | None = None) -> None:
    """Add ``deltas`` to the balance (creating it), optionally moving ``matured_through``."""
    actions = [getattr(D, name).add(amount) for name, amount in deltas.items() if amount]
    actions += [D.seq.add(1), D.developer_id.set(developer_id), D.entity.set(DeveloperEarningsItem),
                D.created_at.set(D.created_at | now), D.updated_at.set(now)]
    actions.append(D.matured_through.set(matured_through if matured_through is not None
                                         else D.matured_through | NEVER_MATURED))
    tx.update(BALANCE, D(*keys.developer_earnings(developer_id)), actions, condition)


def not_matured_before(day: str) -> Condition:
    """The balance has not matured ``day`` yet (or does not exist): earnings of it are pending."""
    return D.matured_through.does_not_exist() | (D.matured_through < day)


def matured_exactly(day: str) -> Condition:
    return D.matured_through == day if day != NEVER_MATURED else (
        D.matured_through.does_not_exist() | (D.matured_through == day))


def as_read(balance: DeveloperEarningsItem) -> Condition:
    """Nothing has changed the balance since it was read (every change bumps ``seq``)."""
    return D.seq == balance.seq


def add_to_day(tx: Transaction, label: str, developer_id: str, day: str, earned: int, calls: int) -> None:
    i = EarningsDayItem
    tx.update(label, i(*keys.earnings_day(developer_id, day)), [
        i.earned.add(earned), i.calls.add(calls), i.developer_id.set(developer_id), i.day.set(day),
        i.entity.set(EarningsDayItem),
    ])


def add_to_feature(tx: Transaction, label: str, developer_id: str, feature: str, earned: int, calls: int) -> None:
    i = EarningsFeatureItem
    tx.update(label, i(*keys.earnings_feature(developer_id, feature)), [
        i.earned.add(earned), i.calls.add(calls), i.developer_id.set(developer_id), i.feature.set(feature),
        i.entity.set(EarningsFeatureItem),
    ])


def put_log(tx: Transaction, developer_id: str, log_id: str, kind: str, deltas: dict[str, int], now: str, *,
            reference: str | None = None, count: int | None = None) -> None:
    item = EarningsLogItem(*keys.earnings_log(developer_id, now, log_id), developer_id=developer_id, log_id=log_id,
                           kind=kind, deltas={k: v for k, v in deltas.items() if v}, reference=reference,
                           count=count, created_at=now)
    tx.put(LOG, item, EarningsLogItem.pk.does_not_exist())
    # The developer, for the reconciliation job, with the change it marks: accruals, reversals,
    # maturing and every payout's moves alike (adding to a set twice is adding once).
    tx.update_raw(changed.LABEL, changed.mark_request(keys.RECON_DEVELOPERS, [developer_id], clock.now_ms(),
                                                      random.randrange(keys.RECON_SHARDS)))  # noqa: S311 - spread


def get_balance(developer_id: str) -> DeveloperEarningsItem | None:
    return get_or_none(DeveloperEarningsItem, *keys.developer_earnings(developer_id))


def days(developer_id: str, first: str, last: str) -> list[EarningsDayItem]:
    """The developer's day sums from ``first`` to ``last`` (UTC dates, inclusive), oldest first."""
    return list(EarningsDayItem.query(
        keys.developer_pk(developer_id),
        EarningsDayItem.sk.between(keys.earnings_day_sk(first), keys.earnings_day_sk(last)),
        consistent_read=True,
    ))


def features(developer_id: str) -> list[EarningsFeatureItem]:
    return list(EarningsFeatureItem.query(
        keys.developer_pk(developer_id), EarningsFeatureItem.sk.startswith(keys.EARNINGS_FEATURE_PREFIX),
        consistent_read=True,
    ))


def logs(developer_id: str) -> list[EarningsLogItem]:
    return list(EarningsLogItem.query(
        keys.developer_pk(developer_id), EarningsLogItem.sk.startswith(keys.EARNINGS_LOG_PREFIX),
        consistent_read=True,
    ))


def earning(wallet_id: str, transaction_id: str) -> EarningItem | None:
    return get_or_none(EarningItem, *keys.earning(wallet_id, transaction_id))
