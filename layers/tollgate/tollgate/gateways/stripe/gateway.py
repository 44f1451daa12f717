"""The Stripe adapter: PaymentIntents (or hosted Checkout Sessions), signed webhooks, refunds,
and payouts through Connect (``payouts.py``: Express accounts and transfers).

Configuration (read by :meth:`StripeGateway.from_config`):

- ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` through :func:`tollgate.secrets.secret`
  (the env var itself, else SSM / Secrets Manager), read when first needed: a call that needs
  the missing API key raises :class:`GatewayNotConfigured` (503), a webhook without a
  configured signing secret is an :class:`InvalidSignature` (400).
- ``STRIPE_API_BASE`` (plain env): another API base URL. Unset means Stripe's public API.
  Locally it is localstripe behind ``local/tollgate_local/localstripe_shim.py``, which
  accepts everything this adapter sends; the adapter has no local special case.

Each module does one job: ``client`` the API calls (and the Stripe SDK), ``webhooks`` the
signature, ``schemas`` the Stripe objects, ``events`` their mapping to a GatewayEvent,
``payouts`` the payout half of the adapter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from tollgate.gateways.base import (
    CardSetup,
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
    SavedCard,
)
from tollgate.gateways.config import SecretSource, read_secret, require_secret, secret_source
from tollgate.gateways.exceptions import GatewayError, GatewayNotConfigured, InvalidSignature
from tollgate.gateways.models import json_object
from tollgate.gateways.stripe import webhooks
from tollgate.gateways.stripe.events import GATEWAY, event_from_dict, refund_from
from tollgate.gateways.stripe.payouts import StripePayouts
from tollgate.secrets import secret

if TYPE_CHECKING:
    from tollgate.gateways.stripe.client import StripeApi
    from tollgate.gateways.stripe.schemas import CheckoutSession

MAX_NETWORK_RETRIES = 2


class StripeGateway(StripePayouts, PaymentGateway):
    name = GATEWAY

    def __init__(
        self,
        api_key: str | SecretSource | None = None,
        webhook_secret: str | SecretSource | None = None,
        *,
        api_base: str | None = None,
        max_network_retries: int = MAX_NETWORK_RETRIES,
        http_client: Any = None,
    ) -> None:
        self._api_key = secret_source(api_key)
        self._webhook_secret = secret_source(webhook_secret)
        self.api_base = api_base.rstrip("/") if api_base else None
        self.max_network_retries = max_network_retries
        self._http_client = http_client
        self._api: StripeApi | None = None

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

    @property
    def api(self) -> StripeApi:
        """The API client (importing the Stripe SDK on first use)."""
        if self._api is None:
            from tollgate.gateways.stripe.client import StripeApi

            self._api = StripeApi(self._key, api_base=self.api_base, max_network_retries=self.max_network_retries,
                                  http_client=self._http_client)
        return self._api

    def _key(self) -> str:
        return require_secret(self._api_key, gateway=GATEWAY, what="secret key", setting="STRIPE_SECRET_KEY")

    # -- payments -----------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        if not idempotency_key:
            raise ValueError("create_payment needs an idempotency key")
        metadata = {str(k): str(v) for k, v in request.metadata.items()}
        metadata.setdefault("purchase_id", request.purchase_id)
        if request.hosted:
            return self._create_checkout_session(request, metadata, idempotency_key)
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "description": request.description,
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        if request.email:
            params["receipt_email"] = request.email
        intent = self.api.create_payment_intent(params, idempotency_key=idempotency_key)
        return PaymentSession(reference=intent.id, client_secret=intent.client_secret)

    def _create_checkout_session(self, request: PaymentRequest, metadata: dict[str, str],
                                 idempotency_key: str) -> PaymentSession:
        if not request.success_url:
            raise GatewayError("A hosted Stripe checkout needs a success_url", gateway=GATEWAY, transient=False)
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
        session = self.api.create_checkout_session(params, idempotency_key=idempotency_key)
        # With current API versions the PaymentIntent is created only when the payer pays, so
        # the reference is usually the session id (cs_...); verify_payment and refund accept it.
        return PaymentSession(reference=session.payment_intent or session.id, checkout_url=session.url,
                              checkout_session_id=session.id)

    def verify_payment(self, reference: str) -> PaymentStatus:
        if reference.startswith("cs_"):
            return self._verify_checkout_session(self.api.checkout_session(reference))
        intent = self.api.payment_intent(reference)
        status = intent.status or "unknown"
        return PaymentStatus(reference=intent.id, succeeded=status == "succeeded", status=status,
                             amount=intent.paid_amount, currency=intent.currency or "",
                             purchase_id=intent.purchase_id)

    def _verify_checkout_session(self, session: CheckoutSession) -> PaymentStatus:
        if session.payment_intent:
            status = self.verify_payment(session.payment_intent)
            if status.purchase_id is None:
                status = PaymentStatus(status.reference, status.succeeded, status.status, status.amount,
                                       status.currency, session.client_reference_id)
            return status
        complete = session.status == "complete"
        return PaymentStatus(
            reference=session.id,
            succeeded=complete and session.payment_status == "paid",
            status=str(session.payment_status if complete else session.status or "unknown"),
            amount=session.amount_total or 0,
            currency=session.currency or "",
            purchase_id=session.purchase,
        )

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str,
               refund_id: str | None = None) -> Refund:
        """Refund with Stripe's ``Idempotency-Key`` (a replay answers the same refund while Stripe
        keeps the key, at least 24 hours; the same key with other parameters is a 400
        GatewayError) and, given a ``refund_id``, ``metadata[tollgate_refund_id]``. The status is
        Stripe's now (a ``pending`` one ends later, with a ``refund.*`` webhook)."""
        if not idempotency_key:
            raise ValueError("refund needs an idempotency key")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
            raise ValueError("a refund amount is a positive integer of minor units (or None for all)")
        if reference.startswith("cs_"):
            intent_id = self.api.checkout_session(reference).payment_intent
            if not intent_id:
                raise GatewayError("The Stripe checkout session has no payment to refund", gateway=GATEWAY)
            reference = intent_id
        params: dict[str, Any] = {"payment_intent": reference}
        if amount is not None:
            params["amount"] = amount
        if refund_id:
            params["metadata"] = {"tollgate_refund_id": refund_id}
        refund = self.api.create_refund(params, idempotency_key=idempotency_key)
        if not refund.id:
            raise GatewayError("The Stripe answer (refund the payment) has no refund id", gateway=GATEWAY)
        return refund_from(refund)

    def get_refund(self, refund_id: str) -> Refund | None:
        """``GET /v1/refunds/{id}``: the refund as Stripe reports it now (``pending`` for
        ``requires_action``, ``failed`` for ``canceled``, as in webhooks), with its currency; None
        on Stripe's 404."""
        if not refund_id:
            raise ValueError("get_refund needs a refund id")
        from tollgate.gateways.stripe.client import not_found

        try:
            found = self.api.refund(refund_id)
        except GatewayError as exc:
            if not_found(exc):
                return None
            raise
        return replace(refund_from(found), currency=found.currency)

    # -- saved cards and off-session payments (auto top-up) ------------------------------

    def start_card_setup(self, *, wallet_id: str, customer_id: str | None, email: str | None,
                         idempotency_key: str) -> CardSetup:
        """A SetupIntent for off-session use on the wallet's Customer (made first if there is none):
        the card is kept at Stripe, as the Customer's payment method; Tollgate keeps only ids."""
        if not customer_id:
            params: dict[str, Any] = {"metadata": {"wallet_id": wallet_id}}
            if email:
                params["email"] = email
            customer_id = self.api.create_customer(params, idempotency_key=f"{idempotency_key}-customer").id
        intent = self.api.create_setup_intent({
            "customer": customer_id, "usage": "off_session", "payment_method_types": ["card"],
            "metadata": {"wallet_id": wallet_id}}, idempotency_key=idempotency_key)
        if not intent.client_secret:
            raise GatewayError("The Stripe answer (start saving the card) has no client_secret", gateway=GATEWAY)
        return CardSetup(customer_id=customer_id, setup_intent_id=intent.id, client_secret=intent.client_secret)

    def saved_card(self, setup_intent_id: str) -> SavedCard | None:
        intent = self.api.setup_intent(setup_intent_id)
        if intent.status != "succeeded" or not intent.payment_method or not intent.customer:
            return None
        method = self.api.payment_method(intent.payment_method)
        card = method.card
        return SavedCard(customer_id=intent.customer, payment_method_id=method.id,
                         brand=card.brand if card else None, last4=card.last4 if card else None)

    def charge_saved_card(self, request: PaymentRequest, card: SavedCard, *, idempotency_key: str) -> PaymentSession:
        """An off-session PaymentIntent, confirmed at once: it succeeds (its webhook grants the credits,
        as any payment's) or Stripe declines it (a CardError: GatewayError with ``declined``)."""
        metadata = {str(k): str(v) for k, v in request.metadata.items()}
        metadata.setdefault("purchase_id", request.purchase_id)
        intent = self.api.create_payment_intent({
            "amount": request.amount, "currency": request.currency.lower(), "description": request.description,
            "customer": card.customer_id, "payment_method": card.payment_method_id, "off_session": True,
            "confirm": True, "metadata": metadata, "payment_method_types": ["card"]}, idempotency_key=idempotency_key)
        if intent.status not in ("succeeded", "processing"):
            # Off-session, nobody can authenticate: a card that asks for it is as good as declined.
            raise GatewayError(f"Stripe could not charge the saved card off-session (status {intent.status})",
                               gateway=GATEWAY, gateway_code="authentication_required", transient=False)
        return PaymentSession(reference=intent.id)

    # -- webhooks -----------------------------------------------------------------------

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        header = webhooks.signature_header(headers)
        try:
            signing_secret = read_secret(self._webhook_secret, gateway=GATEWAY, what="webhook signing secret")
        except GatewayNotConfigured as exc:
            raise InvalidSignature(exc.message) from None
        if not signing_secret:
            raise InvalidSignature("No Stripe webhook signing secret is configured")
        webhooks.verify(raw_body, header, signing_secret)
        return event_from_dict(json_object(raw_body, gateway=GATEWAY))


__all__ = ["MAX_NETWORK_RETRIES", "StripeGateway"]
