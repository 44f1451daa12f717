"""Stripe: the adapter (``gateway``), its payout half through Connect (``payouts``), its API
calls (``client``, the only module that imports the Stripe SDK), webhook signatures
(``webhooks``), the Stripe objects it reads (``schemas``) and their mapping to GatewayEvents
(``events``)."""

from __future__ import annotations

from tollgate.gateways.stripe.events import event_from_dict
from tollgate.gateways.stripe.gateway import MAX_NETWORK_RETRIES, StripeGateway
from tollgate.gateways.stripe.webhooks import SIGNATURE_HEADER, TOLERANCE_S

__all__ = ["MAX_NETWORK_RETRIES", "SIGNATURE_HEADER", "TOLERANCE_S", "StripeGateway", "event_from_dict"]
