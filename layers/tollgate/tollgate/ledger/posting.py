"""Posting a ledger entry and its balance change in one transaction.

A debit is exactly one ``TransactWriteItems`` of two items, the entry put first:

1. put the entry, ``attribute_not_exists(PK)`` on a key derived from the idempotency key;
2. update the wallet, ``available >= :amount``.

No read comes before it. If item 1 fails, the request is a replay: the existing entry
comes back in ``CancellationReasons`` and is returned as :class:`Replayed`. If item 2
fails, the wallet comes back too, so :class:`InsufficientCredits` reports what is
available without a read; when expired holds would cover the shortfall they are
released first and the debit tried once more.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, dynamo
from tollgate.amounts import format_credits
from tollgate.dynamo import Item, TransactionCancelled
from tollgate.ledger import repository
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.ledger.wallets import WalletState


class Replayed(Exception):
    """The entry already exists: the same idempotency key was used before."""

    def __init__(self, entry: Item) -> None:
        super().__init__("replayed")
        self.entry = entry


def new_entry(*, wallet_id: str, transaction_id: str, entry_type: str, amount: int, now_ms: int,
              request_hash: str, actor: str, **fields: Any) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "wallet_id": wallet_id,
        "type": entry_type,
        "amount": amount,
        "created_at": clock.iso(now_ms),
        "request_hash": request_hash,
        "actor": actor,
        **{k: v for k, v in fields.items() if v is not None},
    }


def debit(entry: dict[str, Any], cost: int, *extra: dict[str, Any]) -> None:
    """Post ``entry`` (amount = -cost) and take ``cost`` from the wallet, atomically.

    ``extra`` transaction items (e.g. a reservation update) ride along after the wallet.
    """
    wallet_id, tx, now = entry["wallet_id"], entry["transaction_id"], entry["created_at"]
    if cost == 0:
        # Nothing to take: still one entry, and the wallet is created if it is new.
        credit(entry, 0, *extra)
        return
    for attempt in range(2):
        try:
            dynamo.transact_write([repository.entry_put(entry), repository.wallet_debit(wallet_id, cost, tx, now), *extra])
            return
        except TransactionCancelled as cancelled:
            if cancelled.failed(0):
                raise Replayed(cancelled.old_item(0) or {}) from None
            if not cancelled.failed(1):
                raise
            wallet = WalletState.from_item(wallet_id, cancelled.old_item(1))
            now_ms = clock.now_ms()
            expired = wallet.expired_holds(now_ms)
            if attempt == 0 and expired and wallet.effective_available(now_ms) >= cost:
                repository.release_expired_holds(wallet_id, expired, clock.iso(now_ms), now_ms)
                continue
            raise InsufficientCredits(
                "not enough credits available",
                required=format_credits(cost),
                available=format_credits(wallet.effective_available(now_ms)),
            ) from None


def credit(entry: dict[str, Any], amount: int, *extra: dict[str, Any]) -> None:
    """Post ``entry`` and add ``amount`` (>= 0) to the wallet, creating it if new."""
    wallet_id, tx, now = entry["wallet_id"], entry["transaction_id"], entry["created_at"]
    try:
        dynamo.transact_write([repository.entry_put(entry), repository.wallet_credit(wallet_id, amount, tx, now), *extra])
    except TransactionCancelled as cancelled:
        if cancelled.failed(0):
            raise Replayed(cancelled.old_item(0) or {}) from None
        raise


def read_wallet(wallet_id: str) -> WalletState:
    return WalletState.from_item(wallet_id, repository.get_wallet(wallet_id))


def response_balance(entry: Item, wallet_after: WalletState) -> int:
    """The balance a response shows, from the one read after the write.

    A replay answers with the entry's stamped ``balance_after`` when the stream has
    stamped it (the balance right after the original write), else the balance now.
    """
    if entry.get("balance_after") is not None:
        return int(entry["balance_after"])
    return wallet_after.balance
