"""Stripe adapter: PaymentIntents (or hosted Checkout Sessions), signed webhooks, refunds.

Configuration (read by :meth:`StripeGateway.from_config`):

- ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` through :func:`tollgate.secrets.secret`
  (the env var itself, else SSM / Secrets Manager). They are resolved when first needed, not
  at construction, so a function can build the gateway without keys; a call that needs the
  missing API key raises :class:`GatewayNotConfigured` (503), a webhook without a
  configured signing secret is an :class:`InvalidSignature` (400).
- ``STRIPE_API_BASE`` (plain env): another API base URL, e.g. a local ``localstripe``.
  Unset means Stripe's public API.

Every outgoing call has a timeout (3 s to connect, 10 s to read), up to 2 network retries
(the Stripe library's own backoff) and, where money moves, the caller's idempotency key.
Any Stripe or network failure becomes a :class:`GatewayError` (502) with a short message:
never a stack trace, never the key.

localstripe (the fake used locally and in tests) rejects ``description`` and
``receipt_email`` on a PaymentIntent (``400 Unexpected description, receipt_email``), so
those two are left out when the API base is a loopback address (``localstripe_compat``;
pass it explicitly to override). Real Stripe always gets them.

Webhook events are read as plain dicts (``Event.to_dict()``), so the mapping does not
depend on the Stripe library's object model, only on the documented JSON shapes.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import stripe

from tollgate.gateways.base import (
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
)
from tollgate.gateways.exceptions import GatewayError, GatewayNotConfigured, InvalidSignature
from tollgate.secrets import secret

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_S = 300  # a signed webhook older than this is refused (replay protection)
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 10.0
MAX_NETWORK_RETRIES = 2

# Things in a Stripe error message that must never reach a response or a log line.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_*]+")
_MAX_MESSAGE = 300

Resolver = Callable[[], str | None]


def _resolver(value: str | Resolver | None) -> Resolver:
    if callable(value):
        return value
    return lambda: value


def _is_loopback(base: str | None) -> bool:
    if not base:
        return False
    host = urlsplit(base).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean(message: str | None) -> str:
    text = " ".join((message or "").split())
    text = _KEY_PATTERN.sub("[redacted]", text)
    return text[:_MAX_MESSAGE] or "no details"


def _upper(currency: Any) -> str | None:
    return currency.upper() if isinstance(currency, str) and currency else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def _purchase_id(obj: Mapping[str, Any]) -> str | None:
    value = _metadata(obj).get("purchase_id")
    return str(value) if value else None


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(
        self,
        api_key: str | Resolver | None = None,
        webhook_secret: str | Resolver | None = None,
        *,
        api_base: str | None = None,
        max_network_retries: int = MAX_NETWORK_RETRIES,
        http_client: Any = None,
        localstripe_compat: bool | None = None,
    ) -> None:
        self._api_key = _resolver(api_key)
        self._webhook_secret = _resolver(webhook_secret)
        self.api_base = api_base.rstrip("/") if api_base else None
        self.max_network_retries = max_network_retries
        self._http_client = http_client
        self.localstripe_compat = _is_loopback(self.api_base) if localstripe_compat is None else localstripe_compat
        self._client: Any = None
        self._client_key: str | None = None

    @classmethod
    def from_config(cls, **options: Any) -> StripeGateway:
        """The gateway as this deployment configures it (``options`` override, for tests)."""
        settings: dict[str, Any] = {
            "api_key": partial(secret, "STRIPE_SECRET_KEY"),
            "webhook_secret": partial(secret, "STRIPE_WEBHOOK_SECRET"),
            "api_base": os.environ.get("STRIPE_API_BASE") or None,
        }
        settings.update(options)
        return cls(**settings)

    # ------------------------------------------------------------------------------
    # The API client
    # ------------------------------------------------------------------------------

    def _resolve(self, resolver: Resolver, what: str) -> str | None:
        try:
            value = resolver()
        except Exception as exc:  # SSM / Secrets Manager failures: never echo them (or the value)
            raise GatewayNotConfigured(f"The Stripe {what} could not be read") from exc
        return value or None

    def client(self) -> Any:
        """A ``stripe.StripeClient`` for the current key (rebuilt if the key rotates)."""
        key = self._resolve(self._api_key, "secret key")
        if not key:
            raise GatewayNotConfigured("Stripe is not configured (STRIPE_SECRET_KEY is not set)")
        if self._client is None or key != self._client_key:
            http_client = self._http_client or stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
            self._client = stripe.StripeClient(
                key,
                base_addresses={"api": self.api_base} if self.api_base else None,
                max_network_retries=self.max_network_retries,
                http_client=http_client,
            )
            self._client_key = key
        return self._client

    def _call(self, action: str, fn: Callable[[Any], Any]) -> dict[str, Any]:
        """Run one API call; return the response as a plain dict; map every failure."""
        client = self.client()
        try:
            result = fn(client)
        except stripe.StripeError as exc:
            raise _gateway_error(action, exc) from exc
        return result.to_dict()

    # ------------------------------------------------------------------------------
    # Payments
    # ------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        if not idempotency_key:
            raise ValueError("create_payment needs an idempotency key")
        metadata = {str(k): str(v) for k, v in request.metadata.items()}
        metadata.setdefault("purchase_id", request.purchase_id)
        options = {"idempotency_key": idempotency_key}
        if request.hosted:
            return self._create_checkout_session(request, metadata, options)

        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        if not self.localstripe_compat:
            params["description"] = request.description
            if request.email:
                params["receipt_email"] = request.email
        intent = self._call("create the payment", lambda c: c.v1.payment_intents.create(params=params, options=options))
        return PaymentSession(reference=intent["id"], client_secret=intent.get("client_secret"))

    def _create_checkout_session(self, request: PaymentRequest, metadata: dict[str, str],
                                 options: dict[str, Any]) -> PaymentSession:
        if not request.success_url:
            raise GatewayError("A hosted Stripe checkout needs a success_url")
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": request.amount,
                    "product_data": {"name": request.description},
                },
                "quantity": 1,
            }],
            "success_url": request.success_url,
            "client_reference_id": request.purchase_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if request.cancel_url:
            params["cancel_url"] = request.cancel_url
        if request.email:
            params["customer_email"] = request.email
        session = self._call("create the checkout session",
                             lambda c: c.v1.checkout.sessions.create(params=params, options=options))
        # With current API versions the PaymentIntent is created only when the payer pays, so
        # the reference is usually the session id (cs_...); verify_payment and refund accept it.
        return PaymentSession(
            reference=session.get("payment_intent") or session["id"],
            checkout_url=session.get("url"),
            checkout_session_id=session["id"],
        )

    def verify_payment(self, reference: str) -> PaymentStatus:
        if reference.startswith("cs_"):
            return self._verify_checkout_session(reference)
        intent = self._call("look up the payment", lambda c: c.v1.payment_intents.retrieve(reference))
        status = str(intent.get("status") or "unknown")
        received = _int(intent.get("amount_received"))
        return PaymentStatus(
            reference=intent.get("id") or reference,
            succeeded=status == "succeeded",
            status=status,
            amount=received if received else (_int(intent.get("amount")) or 0),
            currency=_upper(intent.get("currency")) or "",
            purchase_id=_purchase_id(intent),
        )

    def _verify_checkout_session(self, reference: str) -> PaymentStatus:
        session = self._call("look up the checkout session", lambda c: c.v1.checkout.sessions.retrieve(reference))
        intent_id = session.get("payment_intent")
        if isinstance(intent_id, str) and intent_id:
            status = self.verify_payment(intent_id)
            if status.purchase_id is None:
                status = PaymentStatus(status.reference, status.succeeded, status.status, status.amount,
                                       status.currency, session.get("client_reference_id"))
            return status
        state = session.get("status")  # open | complete | expired
        payment_status = session.get("payment_status")  # paid | unpaid | no_payment_required
        return PaymentStatus(
            reference=reference,
            succeeded=state == "complete" and payment_status == "paid",
            status=str(payment_status if state == "complete" else state or "unknown"),
            amount=_int(session.get("amount_total")) or 0,
            currency=_upper(session.get("currency")) or "",
            purchase_id=_purchase_id(session) or session.get("client_reference_id"),
        )

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str) -> Refund:
        if not idempotency_key:
            raise ValueError("refund needs an idempotency key")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
            raise ValueError("a refund amount is a positive integer of minor units (or None for all)")
        if reference.startswith("cs_"):
            session = self._call("look up the checkout session", lambda c: c.v1.checkout.sessions.retrieve(reference))
            intent_id = session.get("payment_intent")
            if not intent_id:
                raise GatewayError("The Stripe checkout session has no payment to refund")
            reference = str(intent_id)
        params: dict[str, Any] = {"payment_intent": reference}
        if amount is not None:
            params["amount"] = amount
        refund = self._call("refund the payment", lambda c: c.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}))
        return Refund(refund_id=refund["id"], amount=_int(refund.get("amount")) or 0)

    # ------------------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------------------

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        signature = next((v for k, v in (headers or {}).items() if k.lower() == SIGNATURE_HEADER), None)
        if not signature:
            raise InvalidSignature("The Stripe-Signature header is missing")
        try:
            webhook_secret = self._resolve(self._webhook_secret, "webhook signing secret")
        except GatewayNotConfigured as exc:
            raise InvalidSignature(exc.message) from None
        if not webhook_secret:
            raise InvalidSignature("No Stripe webhook signing secret is configured")
        try:
            event = stripe.Webhook.construct_event(raw_body, signature, webhook_secret, tolerance=TOLERANCE_S)
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(f"The Stripe signature does not verify: {_clean(exc.user_message or str(exc))}") from None
        except (ValueError, TypeError, AttributeError):
            raise InvalidSignature("The Stripe webhook body is not a Stripe event") from None
        return event_from_dict(event.to_dict())


def event_from_dict(event: Mapping[str, Any]) -> GatewayEvent:
    """Normalise one (already verified) Stripe event, given as its JSON object."""
    event_id = str(event.get("id") or "")
    raw_type = str(event.get("type") or "")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not event_id or not isinstance(obj, Mapping):
        raise InvalidSignature("The Stripe webhook body is not a Stripe event")
    base: dict[str, Any] = {"event_id": event_id, "raw_type": raw_type}
    ignored = GatewayEvent(kind="ignored", **base)

    if raw_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        received = _int(obj.get("amount_received"))
        succeeded = raw_type == "payment_intent.succeeded"
        return GatewayEvent(
            kind="payment_succeeded" if succeeded else "payment_failed",
            reference=obj.get("id"),
            purchase_id=_purchase_id(obj),
            amount=received if succeeded and received else _int(obj.get("amount")),
            currency=_upper(obj.get("currency")),
            **base,
        )

    if raw_type.startswith("checkout.session."):
        if raw_type == "checkout.session.completed":
            if obj.get("payment_status") != "paid":  # an async method (bank debit...) still pending
                return ignored
            kind = "payment_succeeded"
        elif raw_type == "checkout.session.async_payment_succeeded":
            kind = "payment_succeeded"
        elif raw_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
            kind = "payment_failed"
        else:
            return ignored
        return GatewayEvent(
            kind=kind,
            # The PaymentIntent when there is one (an expired session may have none): the session id then.
            reference=obj.get("payment_intent") or obj.get("id"),
            purchase_id=_purchase_id(obj) or obj.get("client_reference_id"),
            amount=_int(obj.get("amount_total")),
            currency=_upper(obj.get("currency")),
            **base,
        )

    if raw_type == "charge.refunded":
        return GatewayEvent(
            kind="refund",
            reference=obj.get("payment_intent"),
            purchase_id=_purchase_id(obj),
            currency=_upper(obj.get("currency")),
            refunds=_charge_refunds(obj, event),
            **base,
        )

    if raw_type in ("refund.created", "refund.updated"):
        amount = _int(obj.get("amount"))
        if obj.get("status") != "succeeded" or not obj.get("id") or amount is None:
            return ignored  # pending, requires_action, failed or canceled: nothing was returned yet
        return GatewayEvent(
            kind="refund",
            reference=obj.get("payment_intent"),
            purchase_id=_purchase_id(obj),
            currency=_upper(obj.get("currency")),
            refunds=(Refund(refund_id=str(obj["id"]), amount=amount),),
            **base,
        )

    if raw_type in ("charge.dispute.created", "charge.dispute.closed"):
        opened = raw_type == "charge.dispute.created"
        status = obj.get("status")
        return GatewayEvent(
            kind="dispute_opened" if opened else "dispute_closed",
            reference=obj.get("payment_intent"),
            purchase_id=_purchase_id(obj),
            currency=_upper(obj.get("currency")),
            dispute_id=obj.get("id"),
            dispute_amount=_int(obj.get("amount")),
            # "warning_closed": an inquiry closed without becoming a chargeback; no funds were
            # ever withdrawn, so for our books it ends like a won dispute.
            dispute_status=None if opened else ("won" if status in ("won", "warning_closed") else "lost"),
            **base,
        )

    return ignored


def _charge_refunds(charge: Mapping[str, Any], event: Mapping[str, Any]) -> tuple[Refund, ...]:
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
    listed = charge.get("refunds")
    items = listed.get("data") if isinstance(listed, Mapping) else None
    if isinstance(items, list) and items:
        refunds = []
        for item in items:
            amount = _int(item.get("amount")) if isinstance(item, Mapping) else None
            status = item.get("status") if isinstance(item, Mapping) else None
            if amount is not None and item.get("id") and status in (None, "succeeded"):
                refunds.append(Refund(refund_id=str(item["id"]), amount=amount))
        return tuple(refunds)
    total = _int(charge.get("amount_refunded")) or 0
    if total <= 0:
        return ()
    data = event.get("data")
    previous = data.get("previous_attributes") if isinstance(data, Mapping) else None
    before = _int(previous.get("amount_refunded")) if isinstance(previous, Mapping) else None
    added = total - before if before is not None and 0 <= before < total else total
    return (Refund(refund_id=f"{charge.get('id')}:{total}", amount=added),)


def _gateway_error(action: str, exc: Any) -> GatewayError:
    """One Stripe failure as a GatewayError: a short message, the Stripe code where useful."""
    details: dict[str, Any] = {}
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        details["gateway_code"] = code
    body = getattr(exc, "json_body", None)
    error = body.get("error") if isinstance(body, dict) else None
    decline = error.get("decline_code") if isinstance(error, dict) else None
    if isinstance(decline, str) and decline:
        details["decline_code"] = decline
    text = _clean(getattr(exc, "user_message", None) or getattr(exc, "_message", None))
    if isinstance(exc, stripe.CardError):
        message = f"Stripe declined the card ({action}): {text}"
    elif isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        message = f"Stripe refused our credentials ({action})"  # its message quotes part of the key
    elif isinstance(exc, stripe.APIConnectionError):
        message = f"Could not reach Stripe to {action} (network error or timeout)"
    elif isinstance(exc, stripe.RateLimitError):
        message = f"Stripe is rate limiting us ({action}); try again shortly"
    elif isinstance(exc, stripe.IdempotencyError):
        message = f"Stripe refused to {action}: the idempotency key was used with different parameters"
    elif isinstance(exc, stripe.InvalidRequestError):
        message = f"Stripe rejected the request to {action}: {text}"
    else:
        status = getattr(exc, "http_status", None)
        message = f"Stripe failed to {action}{f' (HTTP {status})' if status else ''}: {text}"
    return GatewayError(message, **details)


__all__ = ["StripeGateway", "event_from_dict"]
