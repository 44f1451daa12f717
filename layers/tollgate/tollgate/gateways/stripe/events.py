"""A verified Stripe event, read into its models (``schemas.py``) and normalised to a GatewayEvent.

* ``payment_intent.succeeded`` / ``.payment_failed`` -> ``payment_succeeded`` / ``payment_failed``
* ``checkout.session.completed`` (paid), ``.async_payment_succeeded`` -> ``payment_succeeded``;
  ``.async_payment_failed``, ``.expired`` -> ``payment_failed``; completed but unpaid -> ignored
* ``charge.refunded`` -> ``refund`` (see :func:`charge_refunds`); without the refunds list,
  ``refunded_total`` is the charge's cumulative ``amount_refunded``
* ``refund.created`` / ``.updated``: status ``succeeded`` -> ``refund``; ``failed`` or
  ``canceled`` -> ``refund_failed`` (the Refund's ``failure`` is Stripe's ``failure_reason``);
  ``pending``, ``requires_action`` (or none) -> ``ignored`` (nothing has happened yet).
  ``refund.failed`` -> ``refund_failed`` whatever the status says. Each Refund carries the
  ``tollgate_refund_id`` of the refund's metadata (set when Tollgate made it). Stripe can
  report a refund ``failed`` after it reported it ``succeeded`` (the customer's bank returned
  the money), so a ``refund_failed`` may follow a ``refund`` for the same ``re_...`` id.
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

from tollgate.gateways.base import EventKind, GatewayEvent, Refund, RefundStatus
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
_REFUND = ("refund.created", "refund.updated", "refund.failed")
# Stripe's refund statuses as a Refund's; any other (pending, requires_action, none) is pending.
_REFUND_STATUSES: dict[str, RefundStatus] = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}
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
        listed = charge.refunds is not None and bool(charge.refunds.data)
        return GatewayEvent(
            kind="refund",
            reference=charge.payment_intent,
            purchase_id=charge.purchase_id,
            currency=charge.currency,
            refunds=charge_refunds(charge, changes),
            refunded_total=None if listed else charge.amount_refunded,
            **base,
        )

    if raw_type in _REFUND:
        refund = _object(schemas.Refund, event)
        status: RefundStatus = "failed" if raw_type == "refund.failed" else refund_status(refund.status)
        if status == "pending" or not refund.id or refund.amount is None:
            return GatewayEvent(kind="ignored", **base)  # pending, requires_action: nothing has happened yet
        made = refund_from(refund, status=status)
        return GatewayEvent(
            kind="refund" if status == "succeeded" else "refund_failed",
            reference=refund.payment_intent,
            purchase_id=refund.purchase_id,
            currency=refund.currency,
            refunds=(made,),
            failure=made.failure,
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


def refund_status(status: str | None) -> RefundStatus:
    """A Stripe refund status as a Refund's: ``succeeded``; ``failed`` or ``canceled`` ->
    ``failed``; anything else (``pending``, ``requires_action``, none) -> ``pending``."""
    return _REFUND_STATUSES.get(status or "", "pending")


def refund_from(refund: schemas.Refund, *, status: RefundStatus | None = None) -> Refund:
    """A Stripe refund as a Refund (``status`` overrides the one mapped from the object). A
    failed one's ``failure`` is Stripe's ``failure_reason``, else "Stripe reports the refund
    canceled" (or "failed")."""
    status = status or refund_status(refund.status)
    failure = None
    if status == "failed":
        failure = refund.failure_reason or f"Stripe reports the refund {'canceled' if refund.status == 'canceled' else 'failed'}"
    return Refund(refund_id=str(refund.id), amount=refund.amount or 0, status=status,
                  tollgate_refund_id=refund.tollgate_refund_id, failure=failure)


def charge_refunds(charge: schemas.Charge, before: schemas.ChargeChanges) -> tuple[Refund, ...]:
    """Each refund of a ``charge.refunded`` event, by its own id.

    Older API versions embed the charge's refunds (``charge.refunds.data``): each succeeded
    one (or one without a status) is taken by its ``re_...`` id, with the
    ``tollgate_refund_id`` of its metadata, so the same refund from a ``refund.*`` event
    dedupes with it.

    Since API version 2022-11-15 the list is no longer included. The fallback is a single
    refund with the synthetic id ``"{charge id}:{amount_refunded}"`` (``amount_refunded`` is
    the charge's cumulative total, so each new refund of the charge gets a new id and a
    redelivery the same one). Its amount is what this event added: ``amount_refunded``
    minus ``data.previous_attributes.amount_refunded`` when Stripe sends it, else all of
    ``amount_refunded`` (right for a first refund; a second partial refund without
    ``previous_attributes`` would be over-counted). Those ids never match the ``re_...``
    ids of ``refund.*`` events: subscribe an endpoint to one family or the other. Nor do they
    name a Tollgate refund (``tollgate_refund_id`` is None): a caller that made refunds
    itself correlates such an event with them by amounts (the event's ``refunded_total``).
    """
    listed = charge.refunds.data if charge.refunds is not None else []
    if listed:
        return tuple(Refund(refund_id=str(item.id), amount=item.amount, tollgate_refund_id=item.tollgate_refund_id)
                     for item in listed
                     if item.amount is not None and item.id and item.status in (None, "succeeded"))
    total = charge.amount_refunded
    if total <= 0:
        return ()
    earlier = before.amount_refunded
    added = total - earlier if earlier is not None and earlier < total else total
    return (Refund(refund_id=f"{charge.id}:{total}", amount=added),)


__all__ = ["charge_refunds", "event_from_dict", "refund_from", "refund_status"]
