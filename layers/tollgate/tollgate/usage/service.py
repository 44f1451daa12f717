"""Record one AI call's usage: price it from the cached catalog and post one debit."""

from __future__ import annotations

from tollgate import clock, idempotency, orgs
from tollgate.data import TransactionCancelled
from tollgate.errors import Forbidden
from tollgate.ledger import posting
from tollgate.pricing import feature_for_charging
from tollgate.principal import Principal
from tollgate.usage.schemas import UsageIn, UsageOut, measurement


def record_usage(principal: Principal, body: UsageIn, idempotency_key: str | None) -> UsageOut:
    principal.require_scope("usage")
    # A person's own wallet: no read; an org wallet: one read of their membership (and its cap).
    spender = orgs.wallet_for_spending(principal, body.wallet_id)
    wallet_id = spender.wallet_id
    if body.amount is not None and not principal.is_service:
        raise Forbidden("only server API keys may set an explicit amount")
    feature = feature_for_charging(body.feature)
    measured = measurement(body.quantity, body.usage)
    cost = body.amount if body.amount is not None else feature.pricing.cost(measured)
    request_hash = idempotency.request_hash({
        "op": "usage", "wallet": wallet_id, "feature": feature.feature_id, "measure": measured.as_dict(),
        "amount": body.amount, "metadata": body.metadata,
    })
    now_ms = clock.now_ms()
    entry = posting.new_entry(
        wallet_id=wallet_id,
        # Located: a reversal finds the entry from this id alone (tollgate.ids, usage.reversal).
        transaction_id=idempotency.record_id("tx", wallet_id, "usage", spender.scoped_key(idempotency_key),
                                             located=True),
        entry_type="usage",
        amount=-cost,
        now_ms=now_ms,
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
        # A capped org member's debit carries one more item: their month's spend, within the cap.
        posting.debit(entry, cost, orgs.charge(spender, cost, now_ms))
    except posting.Replayed as replay:
        idempotency.check_replay(replay.entry.request_hash, request_hash)
        entry = replay.entry
    except TransactionCancelled as cancelled:
        raise orgs.refusal(cancelled, spender, cost) or cancelled from None
    wallet = posting.read_wallet_after_debit(wallet_id)
    return UsageOut(
        transaction_id=entry.transaction_id,
        wallet_id=wallet_id,
        feature=entry.feature or feature.feature_id,
        cost=-entry.amount,
        balance=posting.response_balance(entry, wallet),
        available=wallet.effective_available(clock.now_ms()),
    )
