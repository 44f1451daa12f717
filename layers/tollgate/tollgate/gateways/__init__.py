"""Payment gateways behind one interface. Adapters are imported only when asked for, so a
function that never talks to Stripe never imports the Stripe SDK."""

from __future__ import annotations

from tollgate.gateways.base import (
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
)
from tollgate.gateways.exceptions import GatewayError, GatewayNotConfigured, InvalidSignature, MalformedWebhook

GATEWAYS = ("stripe", "paystack")

_instances: dict[str, PaymentGateway] = {}


def get_gateway(name: str) -> PaymentGateway:
    if name not in _instances:
        if name == "stripe":
            from tollgate.gateways.stripe import StripeGateway

            _instances[name] = StripeGateway.from_config()
        elif name == "paystack":
            from tollgate.gateways.paystack import PaystackGateway

            _instances[name] = PaystackGateway.from_config()
        else:
            raise KeyError(name)
    return _instances[name]


def set_gateway(name: str, gateway: PaymentGateway | None) -> None:
    """Test hook: use a fake (or, with None, forget the cached adapter)."""
    if gateway is None:
        _instances.pop(name, None)
    else:
        _instances[name] = gateway


__all__ = [
    "GATEWAYS",
    "GatewayError",
    "GatewayEvent",
    "GatewayNotConfigured",
    "InvalidSignature",
    "MalformedWebhook",
    "PaymentGateway",
    "PaymentRequest",
    "PaymentSession",
    "PaymentStatus",
    "Refund",
    "get_gateway",
    "set_gateway",
]
