"""A verified Stripe event, read into its models (``schemas.py``) and normalised to a GatewayEvent.

* ``payment_intent.succeeded`` / ``.payment_failed`` -> ``payment_succeeded`` / ``payment_failed``
* ``checkout.session.completed`` (paid), ``.async_payment_succeeded`` -> ``payment_succeeded``;
  ``.async_payment_failed``, ``.expired`` -> ``payment_failed``; completed but unpaid -> ignored
* ``charge.refunded``, ``refund.created`` / ``.updated`` (succeeded only) -> ``refund``
* ``charge.dispute.created`` / ``.closed`` -> ``dispute_opened`` / ``dispute_closed``
* ``transfer.reversed`` -> ``transfer_reversed``: the payout from ``metadata.payout_id`` (else
  the ``transfer_group``), ``transfer_reference`` the transfer group (what the adapter's
  Transfer shows as its reference), ``amount`` the amount reversed. Other ``transfer.*``
  events are ignored: a Stripe transfer is final when created, and the adapter says so then.
* anything else -> ``ignored`` (its object is not read)

A body that is not an event, or whose object for a type read here does not fit its model,
is a :class:`~tollgate.gateways.exceptions.MalformedWebhook` (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tollgate.gateways.base import EventKind, GatewayEvent, Refund
from tollgate.gateways.models import Model, webhook_object
from tollgate.gateways.stripe import schemas

GATEWAY = "stripe"

_PAYMENT_INTENT = ("payment_intent.succeeded", "payment_intent.payment_failed")
_CHECKOUT_KINDS: dict[str, EventKind] = {
    "checkout.session.completed": "payment_succeeded",  # when paid (an async method may still be pending)
    "checkout.session.async_payment_succeeded": "payment_succeeded",
    "checkout.session.async_payment_failed": "payment_failed",
    "checkout.session.expired": "payment_failed",
}
_REFUND = ("refund.created", "refund.updated")
_DISPUTE = ("charge.dispute.created", "charge.dispute.closed")
# "warning_closed": an inquiry closed without becoming a chargeback; no funds were ever
# withdrawn, so for our books it ends like a won dispute.
_DISPUTE_WON = frozenset({"won", "warning_closed"})


def event_from_dict(payload: Mapping[str, Any]) -> GatewayEvent:
    """Normalise one (already verified) Stripe event, given as its JSON object."""
    event = webhook_object(schemas.Event, payload, gateway=GATEWAY)
    raw_type = event.type
    base: dict[str, Any] = {"event_id": event.id, "raw_type": raw_type}

    if raw_type in _PAYMENT_INTENT:
        intent = _object(schemas.PaymentIntent, event)
        succeeded = raw_type == "payment_intent.succeeded"
        return GatewayEvent(
            kind="payment_succeeded" if succeeded else "payment_failed",
            reference=intent.id,
            purchase_id=intent.purchase_id,
            amount=intent.paid_amount if succeeded else intent.amount,
            currency=intent.currency,
            **base,
        )

    if raw_type in _CHECKOUT_KINDS:
        session = _object(schemas.CheckoutSession, event)
        if raw_type == "checkout.session.completed" and session.payment_status != "paid":
            return GatewayEvent(kind="ignored", **base)
        return GatewayEvent(
            kind=_CHECKOUT_KINDS[raw_type],
            # The PaymentIntent when there is one (an expired session may have none): the session id then.
            reference=session.payment_intent or session.id,
            purchase_id=session.purchase,
            amount=session.amount_total,
            currency=session.currency,
            **base,
        )

    if raw_type == "charge.refunded":
        charge = _object(schemas.Charge, event)
        changes = webhook_object(schemas.ChargeChanges, event.data.previous_attributes or {}, gateway=GATEWAY,
                                 where="data.previous_attributes")
        return GatewayEvent(
            kind="refund",
            reference=charge.payment_intent,
            purchase_id=charge.purchase_id,
            currency=charge.currency,
            refunds=charge_refunds(charge, changes),
            **base,
        )

    if raw_type in _REFUND:
        refund = _object(schemas.Refund, event)
        if refund.status != "succeeded" or not refund.id or refund.amount is None:
            return GatewayEvent(kind="ignored", **base)  # pending, requires_action, failed, canceled: nothing returned yet
        return GatewayEvent(
            kind="refund",
            reference=refund.payment_intent,
            purchase_id=refund.purchase_id,
            currency=refund.currency,
            refunds=(Refund(refund_id=refund.id, amount=refund.amount),),
            **base,
        )

    if raw_type in _DISPUTE:
        dispute = _object(schemas.Dispute, event)
        opened = raw_type == "charge.dispute.created"
        return GatewayEvent(
            kind="dispute_opened" if opened else "dispute_closed",
            reference=dispute.payment_intent,
            purchase_id=dispute.purchase_id,
            currency=dispute.currency,
            dispute_id=dispute.id,
            dispute_amount=dispute.amount,
            dispute_status=None if opened else ("won" if dispute.status in _DISPUTE_WON else "lost"),
            **base,
        )

    if raw_type == "transfer.reversed":
        transfer = _object(schemas.Transfer, event)
        return GatewayEvent(
            kind="transfer_reversed",
            payout_id=transfer.payout_id,
            transfer_reference=transfer.transfer_group or transfer.payout_id,
            transfer_id=transfer.id,
            amount=transfer.amount_reversed or transfer.amount,
            currency=transfer.currency,
            failure="Stripe reversed the transfer",
            **base,
        )

    return GatewayEvent(kind="ignored", **base)


def _object(model: type[Model], event: schemas.Event) -> Model:
    return webhook_object(model, event.data.object, gateway=GATEWAY, where="data.object")


def charge_refunds(charge: schemas.Charge, before: schemas.ChargeChanges) -> tuple[Refund, ...]:
    """Each refund of a ``charge.refunded`` event, by its own id.

    Older API versions embed the charge's refunds (``charge.refunds.data``): each is taken
    by its ``re_...`` id, so the same refund from a ``refund.*`` event dedupes with it.

    Since API version 2022-11-15 the list is no longer included. The fallback is a single
    refund with the synthetic id ``"{charge id}:{amount_refunded}"`` (``amount_refunded`` is
    the charge's cumulative total, so each new refund of the charge gets a new id and a
    redelivery the same one). Its amount is what this event added: ``amount_refunded``
    minus ``data.previous_attributes.amount_refunded`` when Stripe sends it, else all of
    ``amount_refunded`` (right for a first refund; a second partial refund without
    ``previous_attributes`` would be over-counted). Those ids never match the ``re_...``
    ids of ``refund.*`` events: subscribe an endpoint to one family or the other.
    """
    listed = charge.refunds.data if charge.refunds is not None else []
    if listed:
        return tuple(Refund(refund_id=str(item.id), amount=item.amount)
                     for item in listed
                     if item.amount is not None and item.id and item.status in (None, "succeeded"))
    total = charge.amount_refunded
    if total <= 0:
        return ()
    earlier = before.amount_refunded
    added = total - earlier if earlier is not None and earlier < total else total
    return (Refund(refund_id=f"{charge.id}:{total}", amount=added),)


__all__ = ["charge_refunds", "event_from_dict"]
