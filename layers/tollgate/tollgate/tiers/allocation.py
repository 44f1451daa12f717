"""A tier's monthly allocation to one wallet, exactly once per (wallet, period).

A period is a UTC calendar month (``2026-12``). The allocation is a ledger ``allocation``
entry credited to the wallet, keyed by an id derived from the wallet and the period, so
however often it is attempted (an assignment, the monthly run, its retries, a manual run),
a wallet receives one allocation a month. A tier changed mid-month therefore takes effect
at the next period: this period's allocation is already made.
"""

from __future__ import annotations

from tollgate import clock, ids
from tollgate.ledger import posting
from tollgate.tiers.models import TierItem

ACTOR = "system:allocations"


def next_period_start(now_ms: int) -> str:
    """When the month after ``now_ms``'s begins (the next allocation), as an ISO UTC instant."""
    return clock.iso(clock.period_end_ms(clock.period_of(now_ms)))


def transaction_id(wallet_id: str, period: str) -> str:
    return ids.located_id("tx", wallet_id, "allocation", period)


def allocate(wallet_id: str, tier: TierItem, period: str) -> int:
    """Credit ``tier``'s monthly credits for ``period``, once; the millicredits credited by this call."""
    amount = tier.monthly_credits_mc
    if amount <= 0:
        return 0
    entry = posting.new_entry(
        wallet_id=wallet_id, transaction_id=transaction_id(wallet_id, period), entry_type="allocation",
        amount=amount, now_ms=clock.now_ms(), request_hash=ids.request_hash(f"allocation:{wallet_id}:{period}"),
        actor=ACTOR, reason=f"{tier.name} allocation for {period}",
        # What the grant attribution needs: the period (the grant expires at its end) and the
        # tier's rollover as it was when allocated (what of the grant may carry into the next).
        metadata={"tier_id": tier.tier_id, "period": period, "rollover": dict(tier.rollover or {"type": "none"})})
    try:
        posting.credit(entry, amount)
    except posting.Replayed:
        return 0
    return amount


__all__ = ["allocate", "next_period_start", "transaction_id"]
