"""Ledger use cases: admin adjustments and reconciliation (the wallet view is ``grants.wallet_view``)."""

from __future__ import annotations

from tollgate import clock, idempotency
from tollgate.data import Transaction
from tollgate.ledger import archive, posting, repository
from tollgate.ledger.exceptions import WalletNotFound
from tollgate.ledger.schemas import AdjustmentIn, AdjustmentOut, ReconciliationOut
from tollgate.ledger.wallets import WalletState
from tollgate.principal import Principal


def adjust(principal: Principal, wallet_id: str, body: AdjustmentIn, idempotency_key: str | None) -> AdjustmentOut:
    principal.require_admin()
    request_hash = idempotency.request_hash({"op": "adjustment", "wallet": wallet_id, "amount": body.amount,
                                             "reason": body.reason, "metadata": body.metadata})
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=idempotency.record_id("tx", wallet_id, "adjustment", idempotency_key, located=True),
        entry_type="adjustment",
        amount=body.amount,
        now_ms=clock.now_ms(),
        request_hash=request_hash,
        actor=principal.actor,
        reason=body.reason,
        metadata=body.metadata or None,
    )
    try:
        if body.amount > 0:
            posting.credit(entry, body.amount)
        else:
            posting.debit(entry, -body.amount)
    except posting.Replayed as replay:
        idempotency.check_replay(replay.entry.request_hash, request_hash)
        entry = replay.entry
    balance = posting.response_balance(entry, posting.read_wallet(wallet_id))
    return AdjustmentOut(transaction_id=entry.transaction_id, wallet_id=wallet_id, amount=entry.amount,
                         balance=balance)


def set_low_balance(wallet_id: str, amount: int | None) -> WalletState:
    """Set (None: clear) the wallet's low-balance alert threshold; the wallet as it is now."""
    item = repository.set_low_balance(wallet_id, amount, clock.iso(clock.now_ms()))
    return WalletState.from_item(wallet_id, item)


def set_top_up_threshold(tx: Transaction, wallet_id: str, amount: int | None, seq: int | None = None) -> None:
    """Add to ``tx`` the setting (None: clearing) of the wallet's auto top-up threshold; given ``seq``,
    only while the wallet has not changed since it was read at that ``seq``."""
    repository.set_top_up_threshold(tx, wallet_id, amount, clock.iso(clock.now_ms()), seq)


def reconcile(wallet_id: str) -> ReconciliationOut:
    """Prove the ledger invariant for one wallet: sum(entries) + archived == balance, holds == reserved."""
    amounts = list(repository.iter_entry_amounts(wallet_id))
    wallet = posting.read_wallet(wallet_id)
    archived_sum, archived_entries = archive.archived(wallet_id)
    if not wallet.exists and not amounts and not archived_entries:
        raise WalletNotFound(f"wallet '{wallet_id}' not found")
    holds_sum = sum(amount for amount, _ in wallet.holds.values())
    ledger_sum = sum(amounts) + archived_sum
    return ReconciliationOut(
        wallet_id=wallet_id,
        balance=wallet.balance,
        ledger_sum=ledger_sum,
        entries=len(amounts) + archived_entries,
        archived_sum=archived_sum,
        archived_entries=archived_entries,
        reserved=wallet.reserved,
        holds_sum=holds_sum,
        available=wallet.available,
        consistent=(
            ledger_sum == wallet.balance
            and holds_sum == wallet.reserved
            and wallet.available == wallet.balance - wallet.reserved
            and wallet.available >= 0
        ),
    )
