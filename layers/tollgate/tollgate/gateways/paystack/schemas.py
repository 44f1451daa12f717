"""The Paystack objects Tollgate reads, as pydantic models of their documented JSON shapes.

Shapes as in Paystack's API reference and webhook examples (the verbatim ones are in
``tests/fixtures/paystack/``). Only the fields Tollgate uses are declared. Amounts are exact
minor units (kobo for NGN) given as an integer or a string of digits, both of which Paystack
sends; metadata comes back as an object, a JSON string, ``""``, ``0`` or ``null``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tollgate.gateways.models import (
    Currency,
    GatewayObject,
    Metadata,
    MinorUnits,
    OptionalId,
    RequiredId,
    purchase_id_in,
)


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _object_or_empty(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


# -- webhooks ---------------------------------------------------------------------------


class Event(GatewayObject):
    """Every webhook: ``{"event": "charge.success", "data": {...}}`` (no event id)."""

    event: str
    data: Any = None


class Transaction(GatewayObject):
    """A transaction: ``GET /transaction/verify``'s ``data``."""

    id: OptionalId = None
    reference: OptionalId = None
    amount: MinorUnits
    currency: Currency = None
    status: str | None = None  # abandoned | ongoing | success | failed | reversed ...
    metadata: Metadata = Field(default_factory=dict)

    @property
    def purchase_id(self) -> str | None:
        return purchase_id_in(self.metadata)


class ChargeSuccess(Transaction):
    """``charge.success``'s ``data``: the paid transaction, which names its reference."""

    reference: RequiredId


class RefundEvent(GatewayObject):
    """``refund.processed`` / ``refund.failed``'s ``data``. Paystack's examples have no ``id``:
    ``refund_reference`` is the processor's reference, not the id ``POST /refund`` answered."""

    id: OptionalId = None
    refund_reference: OptionalId = None
    transaction_reference: RequiredId
    amount: MinorUnits
    currency: Currency = None


class DisputeTransaction(GatewayObject):
    reference: OptionalId = None
    currency: Currency = None
    metadata: Metadata = Field(default_factory=dict)


class Dispute(GatewayObject):
    """``charge.dispute.create`` / ``charge.dispute.resolve``'s ``data``."""

    id: RequiredId
    refund_amount: Annotated[MinorUnits | None, BeforeValidator(_blank_is_none)] = None
    currency: Currency = None
    resolution: str | None = None  # declined | merchant-accepted | auto-accepted
    transaction: Annotated[DisputeTransaction, BeforeValidator(_object_or_empty)] = Field(
        default_factory=DisputeTransaction)
    transaction_reference: OptionalId = None

    @property
    def reference(self) -> str | None:
        return self.transaction.reference or self.transaction_reference


class TransferEvent(GatewayObject):
    """``transfer.success`` / ``.failed`` / ``.reversed``'s ``data``: the transfer, which names
    its ``reference`` (ours) and Paystack's ``transfer_code``. ``reason`` is the narration we
    sent, not why it failed."""

    id: OptionalId = None
    reference: RequiredId
    transfer_code: OptionalId = None
    amount: MinorUnits
    currency: Currency = None
    status: str | None = None
    gateway_response: str | None = None


# -- API answers ------------------------------------------------------------------------


class Initialized(GatewayObject):
    """``POST /transaction/initialize``'s ``data``."""

    authorization_url: str
    access_code: str
    reference: RequiredId


class Refund(GatewayObject):
    """A refund: ``POST /refund``'s ``data`` (queued), ``GET /refund/{id}``'s, or an item of
    ``GET /refund``'s list. ``status``: ``pending``, ``processing``, ``needs-attention`` while
    in flight, then ``processed`` or ``failed``. ``merchant_note`` is what the merchant wrote
    at creation (Paystack's own text when it wrote none)."""

    id: RequiredId
    amount: MinorUnits | None = None
    currency: Currency = None
    status: str | None = None
    merchant_note: str | None = None


class RecipientDetails(GatewayObject):
    account_number: OptionalId = None
    account_name: str | None = None
    bank_code: OptionalId = None
    bank_name: str | None = None


class Recipient(GatewayObject):
    """``POST /transferrecipient`` / ``GET /transferrecipient/{code}``'s ``data``."""

    recipient_code: RequiredId
    active: bool | None = None
    is_deleted: bool | None = None
    currency: Currency = None
    details: Annotated[RecipientDetails, BeforeValidator(_object_or_empty)] = Field(default_factory=RecipientDetails)

    @property
    def usable(self) -> bool:
        """Whether transfers can be made to it (not deactivated, not deleted)."""
        return self.active is not False and self.is_deleted is not True


class Transfer(GatewayObject):
    """``POST /transfer`` / ``GET /transfer/verify/{reference}``'s ``data``.

    ``status``: ``pending`` | ``processing`` | ``received`` | ``otp`` | ``queued`` while in
    flight, then ``success``, ``failed``, ``abandoned``, ``rejected`` or ``reversed``."""

    transfer_code: RequiredId
    reference: OptionalId = None
    amount: MinorUnits
    currency: Currency = None
    status: str | None = None
    gateway_response: str | None = None


__all__ = [
    "ChargeSuccess",
    "Dispute",
    "DisputeTransaction",
    "Event",
    "Initialized",
    "Recipient",
    "RecipientDetails",
    "Refund",
    "RefundEvent",
    "Transaction",
    "Transfer",
    "TransferEvent",
]
