"""Earnings mature from ``pending`` to ``available`` a whole UTC day at a time.

A day's earnings are available once the day is ``earnings_hold_days`` old, so refunds and
disputes inside that window reverse them before they can be paid. Maturing reads the
balance and the day sums past its ``matured_through``, then moves their total in one
write conditioned on the balance being as read (its ``seq``, which every accrual and
payout step bumps): an accrual landing meanwhile cancels it, and it starts over.
Reads compute the same split without writing (:func:`split`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tollgate import clock, ids
from tollgate.data import Transaction, TransactionCancelled
from tollgate.earnings import repository
from tollgate.earnings.models import DeveloperEarningsItem, EarningsDayItem

_ATTEMPTS = 6


def today() -> date:
    return date.fromisoformat(clock.iso(clock.now_ms())[:10])


def cutoff(hold_days: int, on: date | None = None) -> str:
    """The last UTC day whose earnings are available (``hold_days`` before ``on``)."""
    return ((on or today()) - timedelta(days=hold_days)).isoformat()


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat() if day[:4] != "0000" else "0001-01-01"


@dataclass(frozen=True)
class Split:
    """The balance as it stands once every due day has matured."""

    pending: int
    available: int


def split(balance: DeveloperEarningsItem, days: list[EarningsDayItem], last_due: str) -> Split:
    """Move, on paper, the days after ``matured_through`` up to ``last_due`` to available."""
    due = [d for d in days if balance.matured_through < d.day <= last_due]
    moved = sum(d.earned for d in due)
    return Split(pending=balance.pending - moved, available=balance.available + moved)


def available_now(developer_id: str, hold_days: int) -> tuple[DeveloperEarningsItem | None, int]:
    """The balance as stored and what is available once due days mature, without writing."""
    balance = repository.get_balance(developer_id)
    if balance is None:
        return None, 0
    last_due = cutoff(hold_days)
    if balance.matured_through >= last_due:
        return balance, balance.available
    days = repository.days(developer_id, next_day(balance.matured_through), last_due)
    return balance, split(balance, days, last_due).available


def mature(developer_id: str, hold_days: int) -> DeveloperEarningsItem | None:
    """Make ``available`` include every day due now; the balance as it then is (None if none)."""
    last_due = cutoff(hold_days)
    for _ in range(_ATTEMPTS):
        balance = repository.get_balance(developer_id)
        if balance is None or balance.matured_through >= last_due:
            return balance
        moved = sum(d.earned for d in repository.days(developer_id, next_day(balance.matured_through), last_due))
        now = clock.iso(clock.now_ms())
        tx = Transaction()
        deltas = {"pending": -moved, "available": moved}
        repository.change_balance(tx, developer_id, deltas, now, matured_through=last_due,
                                  condition=repository.as_read(balance))
        if moved:
            log_id = ids.derived_id("mat", developer_id, balance.matured_through, last_due)
            repository.put_log(tx, developer_id, log_id, "maturation", deltas, now, reference=last_due)
        try:
            tx.commit()
        except TransactionCancelled:
            continue  # an accrual or another maturing got there first: read again
    return repository.get_balance(developer_id)
