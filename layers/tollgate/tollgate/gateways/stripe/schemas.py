"""The Stripe objects Tollgate reads, as pydantic models of their documented JSON shapes.

Only the fields Tollgate uses are declared; Stripe's many others are ignored. Amounts are
integer minor units (Stripe sends integers; a string of digits is read exactly, anything
else is refused), currencies are upper-cased.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tollgate.gateways.models import Currency, GatewayObject, Metadata, MinorUnits, RequiredId, purchase_id_in


class StripeObject(GatewayObject):
    metadata: Metadata = Field(default_factory=dict)

    @property
    def purchase_id(self) -> str | None:
        return purchase_id_in(self.metadata)


def _id_or_none(value: Any) -> Any:
    """An expandable reference (``"pi_..."``) as its id; an expanded object as its ``id``."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


IntentId = Annotated[str | None, BeforeValidator(_id_or_none)]  # a PaymentIntent, by id
ObjectId = Annotated[str | None, BeforeValidator(_id_or_none)]  # any expandable reference, by id


class PaymentIntent(StripeObject):
    id: RequiredId
    amount: MinorUnits  # what it is for; always there
    amount_received: MinorUnits | None = None
    currency: Currency = None
    status: str | None = None
    client_secret: str | None = None

    @property
    def paid_amount(self) -> int:
        """What was received; ``amount`` when Stripe (or localstripe) leaves that out or at 0."""
        return self.amount_received or self.amount


class Customer(StripeObject):
    id: RequiredId


class SetupIntent(StripeObject):
    """A card being saved: ``succeeded`` once the payer confirmed it, with its payment method."""

    id: RequiredId
    status: str | None = None  # requires_payment_method | requires_action | processing | succeeded | canceled
    client_secret: str | None = None
    customer: ObjectId = None
    payment_method: ObjectId = None


class CardDetails(GatewayObject):
    brand: str | None = None
    last4: str | None = None


class PaymentMethod(StripeObject):
    id: RequiredId
    customer: ObjectId = None
    card: CardDetails | None = None


class CheckoutSession(StripeObject):
    id: RequiredId
    payment_intent: IntentId = None
    status: str | None = None  # open | complete | expired
    payment_status: str | None = None  # paid | unpaid | no_payment_required
    amount_total: MinorUnits | None = None
    currency: Currency = None
    client_reference_id: str | None = None
    url: str | None = None

    @property
    def purchase(self) -> str | None:
        """The purchase: from metadata, else the session's ``client_reference_id``."""
        return self.purchase_id or self.client_reference_id or None


class Refund(StripeObject):
    id: str | None = None
    amount: MinorUnits | None = None
    status: str | None = None  # pending | requires_action | succeeded | failed | canceled
    failure_reason: str | None = None  # when failed: lost_or_stolen_card, expired_or_canceled_card, unknown...
    payment_intent: IntentId = None
    currency: Currency = None

    @property
    def tollgate_refund_id(self) -> str | None:
        """The Tollgate refund Tollgate made it for (its metadata ``tollgate_refund_id``), if any."""
        value = self.metadata.get("tollgate_refund_id")
        return value if isinstance(value, str) and value else None


class RefundList(GatewayObject):
    data: list[Refund] = Field(default_factory=list)


class Charge(StripeObject):
    id: RequiredId
    payment_intent: IntentId = None
    currency: Currency = None
    amount_refunded: MinorUnits = 0
    refunds: RefundList | None = None  # embedded only by API versions before 2022-11-15


class ChargeChanges(GatewayObject):
    """``data.previous_attributes`` of a ``charge.*`` event: what the charge was before."""

    amount_refunded: MinorUnits | None = None


class Dispute(StripeObject):
    id: RequiredId
    amount: MinorUnits  # disputed; always there
    currency: Currency = None
    status: str | None = None
    payment_intent: IntentId = None


# -- Connect: accounts, account links, transfers -----------------------------------------


class Account(StripeObject):
    """A connected account (``GET /v1/accounts/{id}``): paid out to once ``payouts_enabled``."""

    id: RequiredId
    payouts_enabled: bool = False
    details_submitted: bool = False


class AccountLink(GatewayObject):
    """``POST /v1/account_links``: a single-use URL to Stripe's hosted onboarding."""

    url: str
    expires_at: int | None = None


class Transfer(StripeObject):
    """A transfer to a connected account: final once created, unless ``reversed`` later."""

    id: RequiredId
    amount: MinorUnits  # always there
    amount_reversed: MinorUnits = 0
    currency: Currency = None
    destination: ObjectId = None  # the connected account
    reversed: bool = False
    transfer_group: str | None = None

    @property
    def payout_id(self) -> str | None:
        """The payout Tollgate made it for: its metadata, else its transfer group."""
        value = self.metadata.get("payout_id")
        return value if isinstance(value, str) and value else self.transfer_group or None


class TransferList(GatewayObject):
    data: list[Transfer] = Field(default_factory=list)


class EventData(GatewayObject):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None


class Event(GatewayObject):
    """The envelope of every webhook: ``{"id": "evt_...", "type": ..., "data": {"object": ...}}``."""

    id: RequiredId
    type: str
    data: EventData


__all__ = [
    "Account",
    "AccountLink",
    "CardDetails",
    "Charge",
    "ChargeChanges",
    "CheckoutSession",
    "Customer",
    "Dispute",
    "Event",
    "PaymentIntent",
    "PaymentMethod",
    "Refund",
    "RefundList",
    "SetupIntent",
    "Transfer",
    "TransferList",
]
