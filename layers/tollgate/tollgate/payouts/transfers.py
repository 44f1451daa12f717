"""Transfer webhooks applied to payouts: confirmations, failures and reversals."""

from __future__ import annotations

from tollgate.gateways import GatewayEvent
from tollgate.payouts import repository, workflow


def handle(gateway: str, event: GatewayEvent) -> str:
    """Apply one verified ``transfer_*`` event; what it did (a settlement outcome's value)."""
    payout = None
    if event.payout_id:
        payout = repository.get_payout(event.payout_id)
    elif event.transfer_reference:
        payout = repository.payout_for_reference(gateway, event.transfer_reference)
    if payout is None or payout.gateway != gateway:
        return "unknown_payout"
    if event.kind == "transfer_succeeded":
        workflow.confirm(payout, "succeeded")
        return "transfer_confirmed"
    if event.kind == "transfer_failed":
        workflow.confirm(payout, "failed", event.failure or "the gateway reported the transfer failed")
        return "transfer_failed"
    workflow.reverse(payout, event.failure or "the gateway reversed the transfer")
    return "transfer_reversed"
