"""Whether a purchase can be refunded, and for how much (seed 003's rules).

* The purchase is ``paid`` or ``partially_refunded`` (else ``not_paid``; a fully refunded one
  is ``already_refunded``).
* It is within ``refund_window_days`` of ``paid_at`` (else ``window_expired``).
* Only unused credits come back: ``refundable = min(credits not yet refunded or clawed
  back, the wallet's available balance)``. Nothing left of the purchase is
  ``already_refunded``; nothing left in the wallet is ``credits_used``.
* Money is proportional, rounded down: ``floor(amount * refundable_mc / credits_mc)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tollgate import clock
from tollgate.purchases.models import PurchaseItem
from tollgate.refunds.schemas import EligibilityOut

REFUNDABLE_STATES = ("paid", "partially_refunded")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Eligibility:
    reasons: tuple[str, ...]
    refundable_mc: int
    refundable_amount: int
    currency: str
    window_ends_ms: int | None

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def view(self) -> EligibilityOut:
        return EligibilityOut(
            eligible=self.eligible, refundable_credits=self.refundable_mc if self.eligible else 0,
            refundable_amount=self.refundable_amount if self.eligible else 0, currency=self.currency,
            reasons=list(self.reasons),  # type: ignore[arg-type]
            window_ends_at=clock.iso(self.window_ends_ms) if self.window_ends_ms is not None else None)


def unrefunded_mc(purchase: PurchaseItem) -> int:
    """Credits of the purchase not yet refunded or clawed back (nor lost to an unrecovered claw-back)."""
    return max(0, purchase.credits_mc - purchase.clawed_back_mc - purchase.unrecovered_mc)


def money_for(purchase: PurchaseItem, credits_mc: int) -> int:
    """Minor units ``credits_mc`` of the purchase are worth, rounded down, exactly."""
    return purchase.amount * credits_mc // purchase.credits_mc if purchase.credits_mc else 0


def assess(purchase: PurchaseItem, wallet_available: int, window_days: int, now_ms: int) -> Eligibility:
    reasons: list[str] = []
    unrefunded = unrefunded_mc(purchase)
    if purchase.status == "refunded" or (purchase.status in REFUNDABLE_STATES and unrefunded == 0):
        reasons.append("already_refunded")
    elif purchase.status not in REFUNDABLE_STATES:
        reasons.append("not_paid")
    window_ends = clock.parse_rfc3339(purchase.paid_at) + window_days * DAY_MS if purchase.paid_at else None
    if window_ends is not None and now_ms > window_ends:
        reasons.append("window_expired")
    refundable = max(0, min(unrefunded, wallet_available))
    if unrefunded > 0 and refundable == 0 and purchase.status in REFUNDABLE_STATES:
        reasons.append("credits_used")
    return Eligibility(reasons=tuple(reasons), refundable_mc=refundable,
                       refundable_amount=money_for(purchase, refundable), currency=purchase.currency,
                       window_ends_ms=window_ends)


__all__ = ["REFUNDABLE_STATES", "Eligibility", "assess", "money_for", "unrefunded_mc"]
