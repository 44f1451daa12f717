"""One small interface for payment gateways; Stripe and Paystack are adapters behind it.

Amounts are integer minor units (cents, kobo) with an upper-case ISO currency. Every
outgoing call carries an idempotency key (where the gateway supports one) and a timeout.
A call that fails raises :class:`~tollgate.gateways.exceptions.GatewayError`;
:func:`tollgate.gateways.payouts.is_transient` tells whether trying again later may help.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

RefundStatus = Literal["succeeded", "pending", "failed"]
EventKind = Literal[
    "payment_succeeded",
    "payment_failed",
    "refund",
    "refund_failed",
    "dispute_opened",
    "dispute_closed",
    "transfer_succeeded",
    "transfer_failed",
    "transfer_reversed",
    "ignored",
]


@dataclass(frozen=True)
class PaymentRequest:
    purchase_id: str
    amount: int  # minor units
    currency: str  # ISO 4217, upper case
    description: str
    email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # always includes purchase_id and wallet_id
    hosted: bool = False  # Stripe: a hosted Checkout Session instead of a bare PaymentIntent
    success_url: str | None = None
    cancel_url: str | None = None
    callback_url: str | None = None  # Paystack: where the payer returns


@dataclass(frozen=True)
class PaymentSession:
    """What the frontend needs to take the payment."""

    reference: str  # Stripe: PaymentIntent id (pi_...); Paystack: the transaction reference
    client_secret: str | None = None  # Stripe
    checkout_url: str | None = None  # Stripe hosted Checkout Session
    checkout_session_id: str | None = None
    authorization_url: str | None = None  # Paystack
    access_code: str | None = None  # Paystack


@dataclass(frozen=True)
class Refund:
    """One refund of a payment, as the gateway reports it (an answer to a call, or in a webhook)."""

    refund_id: str  # the gateway's id: Stripe re_...; Paystack's numeric id as text (webhooks: see events.py)
    amount: int  # minor units refunded by this refund
    status: RefundStatus = "succeeded"  # as the gateway reports it now
    # The Tollgate refund it belongs to, where the gateway object says so (Stripe: metadata
    # "tollgate_refund_id"); None where the gateway keeps no metadata (Paystack).
    tollgate_refund_id: str | None = None
    failure: str | None = None  # why, when status == "failed"
    currency: str | None = None  # upper case; set by :meth:`PaymentGateway.get_refund` (webhooks leave it out)


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook, normalised. ``kind == "ignored"`` is acknowledged and dropped.

    Refund events (``refund``: money returned; ``refund_failed``: a refund the gateway reports
    failed) carry each refund in ``refunds``, with its status (``succeeded`` / ``failed``) and,
    for ``refund_failed``, its ``failure`` (also in ``failure``).

    Payout transfers (``transfer_*`` kinds) name their transfer by ``transfer_reference``
    (what :attr:`tollgate.gateways.payouts.Transfer.reference` shows for it) and, where the
    gateway keeps it, by ``payout_id`` (Stripe: yes; Paystack knows only the reference);
    ``amount`` is the transfer's (for ``transfer_reversed``: the amount reversed).
    """

    event_id: str
    kind: EventKind
    raw_type: str
    purchase_id: str | None = None
    reference: str | None = None
    amount: int | None = None  # what was paid (minor units), for payment events
    currency: str | None = None
    refunds: tuple[Refund, ...] = ()  # for refund events: each refund, by its own id
    # Stripe's charge.refunded without its refunds list (API versions since 2022-11-15): the
    # charge's cumulative amount_refunded, what a caller that made refunds itself correlates by;
    # None for every other event.
    refunded_total: int | None = None
    dispute_id: str | None = None
    dispute_status: str | None = None  # for dispute_closed: "won" or "lost"
    dispute_amount: int | None = None
    payout_id: str | None = None  # transfer events: the payout the transfer pays
    transfer_reference: str | None = None  # transfer events: the transfer's reference
    transfer_id: str | None = None  # transfer events: the gateway's id (tr_..., TRF_...)
    failure: str | None = None  # transfer_failed / transfer_reversed / refund_failed: why, as the gateway says


@dataclass(frozen=True)
class CardSetup:
    """A card being saved for later, off-session payments (Stripe: a SetupIntent on a Customer):
    the payer's browser confirms it with ``client_secret``."""

    customer_id: str
    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class SavedCard:
    """A card saved at the gateway (never in Tollgate): the customer and the payment method."""

    customer_id: str
    payment_method_id: str
    brand: str | None = None
    last4: str | None = None


@dataclass(frozen=True)
class PaymentStatus:
    """A payment as the gateway reports it when asked (Paystack verify, Stripe retrieve)."""

    reference: str
    succeeded: bool
    status: str
    amount: int
    currency: str
    purchase_id: str | None = None


class PaymentGateway(ABC):
    name: str

    # -- saved cards and off-session payments (auto top-up): Stripe only -----------------

    def start_card_setup(self, *, wallet_id: str, customer_id: str | None, email: str | None,
                         idempotency_key: str) -> CardSetup:
        """Start saving a card for ``wallet_id`` (on ``customer_id``, or a new customer)."""
        raise self._unsupported("saving cards")

    def saved_card(self, setup_intent_id: str) -> SavedCard | None:
        """The card a card setup saved, once the payer confirmed it (None before, or if it failed)."""
        raise self._unsupported("saving cards")

    def charge_saved_card(self, request: PaymentRequest, card: SavedCard, *, idempotency_key: str) -> PaymentSession:
        """Charge a saved card with nobody present, once per ``idempotency_key``; a declined card (or
        one that needs its holder) is a non-transient GatewayError whose ``declined`` is true."""
        raise self._unsupported("off-session payments")

    def _unsupported(self, what: str) -> Exception:
        from tollgate.gateways.exceptions import GatewayError

        return GatewayError(f"{self.name.capitalize()} does not support {what} here", gateway=self.name,
                            transient=False)

    def get_refund(self, refund_id: str) -> Refund | None:
        """The refund ``refund_id`` (the gateway's id, as :meth:`refund` answered it) as the gateway
        reports it now, with its currency; None if the gateway does not know that id. Read-only:
        the reconciliation job compares it with the refund Tollgate recorded."""
        raise self._unsupported("looking refunds up")

    @abstractmethod
    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        """Start a payment; replaying the same idempotency key returns the same payment."""

    @abstractmethod
    def parse_webhook(self, raw_body: bytes, headers: dict[str, str]) -> GatewayEvent:
        """Verify the signature over the raw body and normalise the event (InvalidSignature if not)."""

    @abstractmethod
    def verify_payment(self, reference: str) -> PaymentStatus:
        """Ask the gateway for the payment's current state."""

    @abstractmethod
    def refund(self, reference: str, amount: int | None, *, idempotency_key: str,
               refund_id: str | None = None) -> Refund:
        """Refund ``amount`` minor units (None: all) of the payment ``reference``, once per
        ``idempotency_key``: calling again with the same key returns the same refund, never a
        second one (Stripe keeps a key for at least 24 hours). ``refund_id`` (the Tollgate
        refund's id) goes into the gateway object where the gateway keeps metadata. The
        Refund's status is the gateway's now (a ``pending`` refund ends later, with a
        ``refund`` or ``refund_failed`` webhook)."""
