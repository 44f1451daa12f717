"""What Tollgate tells the platform it runs under: the event types, one name each.

Names follow ``<object>.<what happened>``, as Stripe's do, so a receiver can route on the prefix.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    CREDITS_GRANTED = "credits.granted"  # a purchase, a monthly allocation or an admin grant added credits
    CREDITS_LOW = "credits.low"  # available crossed below the wallet's low-balance threshold (once per crossing)
    CREDITS_DEPLETED = "credits.depleted"  # available reached 0
    CREDITS_EXPIRING = "credits.expiring"  # a grant expires within 7 days (once per grant)
    PURCHASE_PAID = "purchase.paid"
    PURCHASE_FAILED = "purchase.failed"
    PURCHASE_REFUNDED = "purchase.refunded"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"
    PAYOUT_REVERSED = "payout.reversed"
    RESERVATION_EXPIRED = "reservation.expired"


EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
