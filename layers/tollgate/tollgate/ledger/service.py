"""Ledger use cases: usage debits, admin adjustments, wallet reads, reconciliation."""

from __future__ import annotations

import json
from typing import Any

from tollgate import clock, ids
from tollgate.dynamo import Item
from tollgate.errors import Forbidden
from tollgate.ledger import posting, repository
from tollgate.ledger.exceptions import LedgerIdempotencyConflict, WalletNotFound
from tollgate.ledger.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    ReconciliationOut,
    UsageIn,
    UsageOut,
    WalletOut,
)
from tollgate.pricing import feature_for_charging
from tollgate.pricing.schemas import measurement
from tollgate.principal import Principal


def canonical(payload: dict[str, Any]) -> str:
    """A stable text of a request, hashed to tell a replay from a conflicting reuse of a key."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def transaction_id(wallet_id: str, operation: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return ids.random_id("tx")
    return ids.derived_id("tx", wallet_id, operation, idempotency_key)


def check_replay(entry: Item, request_hash: str) -> None:
    if entry.get("request_hash") != request_hash:
        raise LedgerIdempotencyConflict("this Idempotency-Key was already used with a different request")


def record_usage(principal: Principal, body: UsageIn, idempotency_key: str | None) -> UsageOut:
    wallet_id = principal.wallet_for_spending(body.wallet_id)
    if body.amount is not None and not principal.is_service:
        raise Forbidden("only server API keys may set an explicit amount")
    feature = feature_for_charging(body.feature)
    measured = measurement(body.quantity, body.usage)
    cost = body.amount if body.amount is not None else feature.pricing.cost(measured)
    request_hash = ids.request_hash(
        canonical({"op": "usage", "wallet": wallet_id, "feature": feature.feature_id,
                   "measure": measured.as_dict(), "amount": body.amount, "metadata": body.metadata})
    )
    tx = transaction_id(wallet_id, "usage", idempotency_key)
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=tx,
        entry_type="usage",
        amount=-cost,
        now_ms=clock.now_ms(),
        request_hash=request_hash,
        actor=principal.actor,
        feature=feature.feature_id,
        measure=measured.as_dict() or None,
        priced_by="amount" if body.amount is not None else feature.pricing.type,
        developer_id=feature.developer_id,
        revenue_share_bps=feature.revenue_share_bps if feature.developer_id else None,
        metadata=body.metadata or None,
    )
    try:
        posting.debit(entry, cost)
    except posting.Replayed as replay:
        check_replay(replay.entry, request_hash)
        entry = replay.entry
    wallet = posting.read_wallet(wallet_id)
    return UsageOut(
        transaction_id=entry["transaction_id"],
        wallet_id=wallet_id,
        feature=entry["feature"],
        cost=-int(entry["amount"]),
        balance=posting.response_balance(entry, wallet),
        available=wallet.effective_available(clock.now_ms()),
    )


def adjust(principal: Principal, wallet_id: str, body: AdjustmentIn, idempotency_key: str | None) -> AdjustmentOut:
    principal.require_admin()
    request_hash = ids.request_hash(
        canonical({"op": "adjustment", "wallet": wallet_id, "amount": body.amount, "reason": body.reason,
                   "metadata": body.metadata})
    )
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=transaction_id(wallet_id, "adjustment", idempotency_key),
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
        check_replay(replay.entry, request_hash)
        entry = replay.entry
    balance = posting.response_balance(entry, posting.read_wallet(wallet_id))
    return AdjustmentOut(
        transaction_id=entry["transaction_id"], wallet_id=wallet_id, amount=int(entry["amount"]), balance=balance
    )


def wallet_view(wallet_id: str, *, must_exist: bool = False) -> WalletOut:
    wallet = posting.read_wallet(wallet_id)
    if must_exist and not wallet.exists:
        raise WalletNotFound(f"wallet '{wallet_id}' not found")
    return wallet.view(clock.now_ms())


def reconcile(wallet_id: str) -> ReconciliationOut:
    """Prove the ledger invariant for one wallet: sum(entries) == balance, holds == reserved."""
    amounts = list(repository.iter_entry_amounts(wallet_id))
    wallet = posting.read_wallet(wallet_id)
    if not wallet.exists and not amounts:
        raise WalletNotFound(f"wallet '{wallet_id}' not found")
    holds_sum = sum(amount for amount, _ in wallet.holds.values())
    ledger_sum = sum(amounts)
    return ReconciliationOut(
        wallet_id=wallet_id,
        balance=wallet.balance,
        ledger_sum=ledger_sum,
        entries=len(amounts),
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
