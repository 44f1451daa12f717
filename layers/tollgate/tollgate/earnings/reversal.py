"""A usage entry given back (a ``reversal`` ledger entry naming it) takes back its earning.

The contract a reversal entry keeps (usage reversals write them: ``usage/reversal.py``): ``type`` ``reversal``,
``reference`` the usage entry's transaction id, in the same wallet, a positive ``amount``
(the credits returned, at most what the entry cost), and the usage entry's ``developer_id``
(so the stream's filter passes it to this consumer).

The earning is taken back in proportion, cumulatively: after reversals returning ``c`` of a
usage entry's ``cost``, ``floor(amount * c / cost)`` of its earning is reversed, so partial
reversals never drift from one reversal of the same total. Each reversal applies once (its
transaction id is kept on the earning, and the write is conditioned on it being absent),
in one transaction with the developer's balance (from ``pending`` while the day has not
matured, else from ``available``, which may go negative when the earning was already paid
out: future earnings make it up), the day and feature sums and the earnings log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollgate import clock, keys
from tollgate.data import Transaction, TransactionCancelled
from tollgate.data.images import image_number, image_string
from tollgate.earnings import repository
from tollgate.earnings.models import NEVER_MATURED, DeveloperEarningsItem, EarningItem

EARNING = "earning"
_ATTEMPTS = 6
E = EarningItem


@dataclass(frozen=True)
class Reversal:
    wallet_id: str
    transaction_id: str  # the reversal entry's
    usage_transaction_id: str
    developer_id: str
    credits_mc: int  # given back to the customer


def from_image(image: dict[str, Any]) -> Reversal | None:
    amount = image_number(image, "amount")
    wallet, tx, usage, developer = (image_string(image, name)
                                    for name in ("wallet_id", "transaction_id", "reference", "developer_id"))
    if not (wallet and tx and usage and developer) or amount is None or amount <= 0:
        return None
    return Reversal(wallet_id=wallet, transaction_id=tx, usage_transaction_id=usage, developer_id=developer,
                    credits_mc=amount)


def reverse(reversal: Reversal) -> int:
    """Apply one reversal to its earning, once; the millicredits of earning taken back now."""
    matured: str | None = None
    for _ in range(_ATTEMPTS):
        earning = repository.earning(reversal.wallet_id, reversal.usage_transaction_id)
        if earning is None or reversal.transaction_id in (earning.reversals or set()):
            return 0  # the entry earned nothing, or this reversal is already applied
        given_back = min(earning.cost_mc, earning.reversed_cost_mc + reversal.credits_mc)
        taken = earning.amount_mc * given_back // earning.cost_mc - earning.reversed_mc
        try:
            _write(earning, reversal, given_back - earning.reversed_cost_mc, taken, matured)
            return taken
        except TransactionCancelled as cancelled:
            if cancelled.failed(repository.BALANCE):
                old = cancelled.old(repository.BALANCE, DeveloperEarningsItem)
                matured = old.matured_through if old is not None else NEVER_MATURED
            elif not cancelled.failed(EARNING):
                raise
    raise RuntimeError(f"reversal {reversal.transaction_id} did not settle in {_ATTEMPTS} attempts")


def _write(earning: EarningItem, reversal: Reversal, credits: int, taken: int, matured: str | None) -> None:
    now = clock.iso(clock.now_ms())
    from_available = matured is not None and earning.day <= matured
    deltas = {"earned": -taken, "pending": 0 if from_available else -taken,
              "available": -taken if from_available else 0}
    tx = Transaction()
    tx.update(EARNING, EarningItem(*keys.earning(earning.wallet_id, earning.transaction_id)), [
        E.reversed_mc.add(taken), E.reversed_cost_mc.add(credits), E.reversals.add({reversal.transaction_id}),
    ], E.pk.exists() & (E.reversed_mc == earning.reversed_mc) & ~E.reversals.contains(reversal.transaction_id))
    condition = (repository.not_matured_before(earning.day) if matured is None
                 else repository.matured_exactly(matured))
    repository.change_balance(tx, earning.developer_id, deltas, now, condition=condition)
    repository.add_to_day(tx, f"day:{earning.day}", earning.developer_id, earning.day, -taken, 0)
    if earning.feature:
        repository.add_to_feature(tx, f"feature:{earning.feature}", earning.developer_id, earning.feature, -taken, 0)
    repository.put_log(tx, earning.developer_id, f"rev-{reversal.transaction_id}", "reversal", deltas, now,
                       reference=reversal.transaction_id)
    tx.commit()
