"""Paystack: the adapter (``gateway``), its refunds (``refunds``: made once per key although
Paystack takes no idempotency key), its payout half (``payouts``: transfer recipients and
transfers), its HTTP calls (``client``, the standard library only), webhook signatures
(``webhooks``), the Paystack objects it reads (``schemas``), their mapping to GatewayEvents
(``events``) and the purchase-id <-> reference rule (``references``)."""

from __future__ import annotations

from tollgate.gateways.paystack.client import DEFAULT_API_BASE
from tollgate.gateways.paystack.events import event_from_dict
from tollgate.gateways.paystack.gateway import PaystackGateway
from tollgate.gateways.paystack.references import purchase_id_for, reference_for
from tollgate.gateways.paystack.webhooks import SIGNATURE_HEADER, sign

__all__ = [
    "DEFAULT_API_BASE",
    "SIGNATURE_HEADER",
    "PaystackGateway",
    "event_from_dict",
    "purchase_id_for",
    "reference_for",
    "sign",
]
