"""Gateway refund webhooks for refunds Tollgate started: they confirm the refund's workflow and
claw back nothing (the workflow's ClawBack already took the credits).

A webhook's refund is Tollgate's own when the gateway object names the refund
(``tollgate_refund_id``: Stripe metadata), when its gateway refund id is one Tollgate
recorded, or, for Paystack (whose refund webhooks name only the transaction and the amount),
when one of the purchase's own refunds that no webhook has been matched to yet (in flight, or
already marked refunded after asking Paystack) refunds exactly that amount (the oldest such).
Refunds made elsewhere (the Stripe dashboard) are not Tollgate's: the caller claws them back
as before.

Stripe's ``charge.refunded`` without embedded refunds names no refund at all, only the
charge's cumulative ``amount_refunded``: what it adds beyond the money of Tollgate's own
refunds and the external refunds already applied is external (:func:`external_minor`).
"""

from __future__ import annotations

from tollgate.gateways import Refund
from tollgate.purchases.models import PurchaseItem
from tollgate.refunds import repository, workflow
from tollgate.refunds.models import RefundItem


def own_refund(gateway: str, purchase: PurchaseItem, refund: Refund) -> RefundItem | None:
    """The Tollgate refund this gateway refund is, if it is one."""
    if refund.tollgate_refund_id:
        found = repository.get_refund(refund.tollgate_refund_id)
        if found is not None and found.purchase_id == purchase.purchase_id:
            return found
    found = repository.refund_for_gateway_id(gateway, refund.refund_id)
    if found is not None:
        return found
    if gateway != "paystack":
        return None
    waiting = [r for r in (repository.get_refund(rid) for rid in sorted(purchase.own_refunds or {}))
               if r is not None and r.status in ("processing", "succeeded") and not r.confirmation
               and r.amount == refund.amount]
    return min(waiting, key=lambda r: r.created_at, default=None)


def apply(refund: RefundItem, gateway_refund: Refund) -> None:
    """Note the gateway's outcome on the refund and hand it to its workflow (once)."""
    if gateway_refund.status == "failed":
        workflow.confirm(refund, "failed", gateway_refund.failure or "the gateway reports the refund failed")
    elif gateway_refund.status == "succeeded":
        workflow.confirm(refund, "succeeded")


def external_minor(purchase: PurchaseItem, refunded_total: int) -> int:
    """Of a charge's cumulative refunded total, the minor units not yet accounted for: neither
    Tollgate's own refunds (in flight or done) nor external refunds already applied."""
    own = sum(int(v) for v in (purchase.own_refunds or {}).values())
    external_applied = purchase.refunded_amount - purchase.own_refunded_amount
    return max(0, refunded_total - own - external_applied)


__all__ = ["apply", "external_minor", "own_refund"]
