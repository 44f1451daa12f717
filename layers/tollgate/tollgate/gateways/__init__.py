"""Payment gateways behind one interface (and payouts behind another, ``payouts.py``).
Adapters are imported only when asked for, so a function that never talks to Stripe never
imports the Stripe SDK. Both Stripe and Paystack adapters implement both interfaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate.gateways.base import (
    CardSetup,
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
    RefundStatus,
    SavedCard,
)
from tollgate.gateways.exceptions import GatewayError, GatewayNotConfigured, InvalidSignature, MalformedWebhook
from tollgate.gateways.payouts import (
    PAYOUT_CURRENCIES,
    AccountStatus,
    BankAccount,
    PayoutAccount,
    PayoutGateway,
    Transfer,
    TransferStatus,
    is_transient,
    transfer_reference,
)

if TYPE_CHECKING:
    from tollgate.gateways.paystack import PaystackGateway
    from tollgate.gateways.stripe import StripeGateway

GATEWAYS = ("stripe", "paystack")

_instances: dict[str, PaymentGateway] = {}
_payout_instances: dict[str, PayoutGateway] = {}


def _adapter(name: str) -> StripeGateway | PaystackGateway:
    """A new adapter for ``name``, configured as this deployment is."""
    if name == "stripe":
        from tollgate.gateways.stripe import StripeGateway

        return StripeGateway.from_config()
    if name == "paystack":
        from tollgate.gateways.paystack import PaystackGateway

        return PaystackGateway.from_config()
    raise KeyError(name)


def get_gateway(name: str) -> PaymentGateway:
    if name not in _instances:
        _instances[name] = _adapter(name)
    return _instances[name]


def set_gateway(name: str, gateway: PaymentGateway | None) -> None:
    """Test hook: use a fake (or, with None, forget the cached adapter)."""
    if gateway is None:
        _instances.pop(name, None)
    else:
        _instances[name] = gateway


def get_payout_gateway(name: str) -> PayoutGateway:
    """The payout side of gateway ``name`` (KeyError for one Tollgate does not know)."""
    if name not in _payout_instances:
        _payout_instances[name] = _adapter(name)
    return _payout_instances[name]


def set_payout_gateway(name: str, gateway: PayoutGateway | None) -> None:
    """Test hook: use a fake payout gateway (or, with None, forget the cached adapter)."""
    if gateway is None:
        _payout_instances.pop(name, None)
    else:
        _payout_instances[name] = gateway


__all__ = [
    "GATEWAYS",
    "PAYOUT_CURRENCIES",
    "AccountStatus",
    "BankAccount",
    "CardSetup",
    "GatewayError",
    "GatewayEvent",
    "GatewayNotConfigured",
    "InvalidSignature",
    "MalformedWebhook",
    "PaymentGateway",
    "PaymentRequest",
    "PaymentSession",
    "PaymentStatus",
    "PayoutAccount",
    "PayoutGateway",
    "Refund",
    "RefundStatus",
    "SavedCard",
    "Transfer",
    "TransferStatus",
    "get_gateway",
    "get_payout_gateway",
    "is_transient",
    "set_gateway",
    "set_payout_gateway",
    "transfer_reference",
]
