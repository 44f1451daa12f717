"""A verified Paystack event, read into its models (``schemas.py``) and normalised to a GatewayEvent.

Paystack events carry no event id, so one is built from the event name and the object's
own id: ``charge.success:<transaction id>``, ``charge.dispute.create:<dispute id>``,
``charge.dispute.resolve:<dispute id>``; refund events use ``data.id`` when present, but
Paystack's examples have none, so ``refund.processed:<refund_reference>`` /
``refund.failed:<refund_reference>`` (the processor's refund reference) is used, and failing
that a hash of the event's data; transfer events use the transfer's ``id`` (else its
``transfer_code``): ``transfer.success:<id>``. A retried delivery of the same event gets the
same id. Mapping:

* ``charge.success``         -> ``payment_succeeded`` (reference, amount, currency, purchase id)
* ``refund.processed``       -> ``refund`` with one Refund, status ``succeeded`` (its id
  ``data.id`` if present, else ``refund_reference``, else the data's hash; the amount may
  arrive as a string and is parsed exactly)
* ``refund.failed``          -> ``refund_failed``, the same fields, the Refund's status
  ``failed`` and its ``failure`` (and the event's) "Paystack reports the refund failed"
  (Paystack's documented payload gives no reason)
* ``refund.pending`` / ``.processing`` / ``.needs-attention`` -> ``ignored`` (not over yet)
* ``charge.dispute.create``  -> ``dispute_opened``
* ``charge.dispute.resolve`` -> ``dispute_closed``: ``"won"`` when the resolution is
  ``declined`` (the merchant contested the claim and it was declined), otherwise ``"lost"``
  (``merchant-accepted``, ``auto-accepted``: the customer is refunded)
* ``transfer.success`` / ``transfer.failed`` / ``transfer.reversed`` -> ``transfer_succeeded``
  / ``transfer_failed`` / ``transfer_reversed``, with ``transfer_reference`` (the reference
  the payout's transfer was made with), ``transfer_id`` (the ``transfer_code``), amount and
  currency; ``payout_id`` is None (Paystack knows only the reference)
* anything else             -> ``ignored`` (its data is not read)

Beware: Paystack's refund webhooks name the transaction (``transaction_reference``) and the
amount, not the refund id that ``POST /refund`` answered (which ``PaystackGateway.refund``
returns): ``refund_reference`` is the processor's reference. A refund made here and its
webhook therefore carry different ids; the caller matches them on the transaction reference
and amount.

A body that is not an event, or whose data for an event read here does not fit its model,
is a :class:`~tollgate.gateways.exceptions.MalformedWebhook` (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from tollgate.gateways.base import EventKind, GatewayEvent, Refund
from tollgate.gateways.exceptions import MalformedWebhook
from tollgate.gateways.models import Model, purchase_id_in, scalar_id, webhook_object
from tollgate.gateways.paystack import schemas
from tollgate.gateways.paystack.references import purchase_id_for

GATEWAY = "paystack"

# The dispute resolution in which the merchant keeps the money (Paystack's Resolve Dispute
# API takes "merchant-accepted" or "declined"; webhooks also show "auto-accepted").
_WON_RESOLUTIONS = frozenset({"declined"})
_REFUND_KINDS: dict[str, EventKind] = {"refund.processed": "refund", "refund.failed": "refund_failed"}
REFUND_FAILED = "Paystack reports the refund failed"
_TRANSFER_KINDS: dict[str, EventKind] = {
    "transfer.success": "transfer_succeeded",
    "transfer.failed": "transfer_failed",
    "transfer.reversed": "transfer_reversed",
}


def event_from_dict(payload: Mapping[str, Any]) -> GatewayEvent:
    """Normalise one (already verified) Paystack event, given as its JSON object."""
    envelope = webhook_object(schemas.Event, payload, gateway=GATEWAY)
    name, data = envelope.event, envelope.data

    if name == "charge.success":
        tx = _data(schemas.ChargeSuccess, data)
        return GatewayEvent(
            event_id=f"{name}:{tx.id or data_hash(data)}",
            kind="payment_succeeded",
            raw_type=name,
            purchase_id=tx.purchase_id or purchase_id_for(tx.reference),
            reference=tx.reference,
            amount=tx.amount,
            currency=tx.currency,
        )

    if name in _REFUND_KINDS:
        refund = _data(schemas.RefundEvent, data)
        refund_id = refund.id or refund.refund_reference or data_hash(data)
        failure = REFUND_FAILED if name == "refund.failed" else None
        return GatewayEvent(
            event_id=f"{name}:{refund_id}",
            kind=_REFUND_KINDS[name],
            raw_type=name,
            purchase_id=purchase_id_for(refund.transaction_reference),
            reference=refund.transaction_reference,
            currency=refund.currency,
            refunds=(Refund(refund_id=refund_id, amount=refund.amount, status="failed" if failure else "succeeded",
                            failure=failure),),
            failure=failure,
        )

    if name in {"charge.dispute.create", "charge.dispute.resolve"}:
        dispute = _data(schemas.Dispute, data)
        reference = dispute.reference
        if not reference:
            raise MalformedWebhook(f"Paystack {name} names no transaction", gateway=GATEWAY,
                                   field="data.transaction.reference")
        closed = name == "charge.dispute.resolve"
        resolution = (dispute.resolution or "").lower()
        return GatewayEvent(
            event_id=f"{name}:{dispute.id}",
            kind="dispute_closed" if closed else "dispute_opened",
            raw_type=name,
            purchase_id=purchase_id_in(dispute.transaction.metadata) or purchase_id_for(reference),
            reference=reference,
            currency=dispute.currency or dispute.transaction.currency,
            dispute_id=dispute.id,
            dispute_status=("won" if resolution in _WON_RESOLUTIONS else "lost") if closed else None,
            dispute_amount=dispute.refund_amount,
        )

    if name in _TRANSFER_KINDS:
        transfer = _data(schemas.TransferEvent, data)
        kind = _TRANSFER_KINDS[name]
        failure = None
        if kind != "transfer_succeeded":
            failure = transfer.gateway_response or f"Paystack reports the transfer {transfer.status or name}"
        return GatewayEvent(
            event_id=f"{name}:{transfer.id or transfer.transfer_code or data_hash(data)}",
            kind=kind,
            raw_type=name,
            transfer_reference=transfer.reference,
            transfer_id=transfer.transfer_code,
            amount=transfer.amount,
            currency=transfer.currency,
            failure=failure,
        )

    own_id = scalar_id(data.get("id")) if isinstance(data, dict) else None
    return GatewayEvent(event_id=f"{name}:{own_id or data_hash(data)}", kind="ignored", raw_type=name)


def _data(model: type[Model], data: Any) -> Model:
    return webhook_object(model, data, gateway=GATEWAY, where="data")


def data_hash(data: Any) -> str:
    """A stable id for data that has none of its own (the same data, the same id)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "h" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


__all__ = ["REFUND_FAILED", "data_hash", "event_from_dict"]
