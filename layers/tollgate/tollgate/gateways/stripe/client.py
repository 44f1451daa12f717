"""Calls to Stripe's API through the official library, each answered as a typed model.

Every call has a timeout (3 s to connect, 10 s to read), up to 2 network retries (the
library's own backoff) and, where money moves, the caller's idempotency key. Any Stripe or
network failure becomes a :class:`GatewayError` (502) with a short message: never a stack
trace, never the key. Importing this module imports the Stripe SDK, so the adapter imports
it only when it first calls the API (verifying a webhook never does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import stripe

from tollgate.gateways.exceptions import GatewayError
from tollgate.gateways.models import Model, answer_object
from tollgate.gateways.stripe import schemas

GATEWAY = "stripe"
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 10.0

# Things in a Stripe error message that must never reach a response or a log line.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_*]+")
_MAX_MESSAGE = 300


def clean(message: str | None) -> str:
    """A Stripe message fit to show: one line, keys redacted, bounded."""
    text = " ".join((message or "").split())
    text = _KEY_PATTERN.sub("[redacted]", text)
    return text[:_MAX_MESSAGE] or "no details"


class StripeApi:
    """One ``stripe.StripeClient`` for the current key (rebuilt when the key rotates)."""

    def __init__(self, api_key: Callable[[], str], *, api_base: str | None, max_network_retries: int,
                 http_client: Any = None) -> None:
        self._api_key = api_key  # raises GatewayNotConfigured when there is none
        self.api_base = api_base
        self.max_network_retries = max_network_retries
        self._http_client = http_client
        self._client: stripe.StripeClient | None = None
        self._client_key: str | None = None

    def client(self) -> stripe.StripeClient:
        key = self._api_key()
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

    def _call(self, model: type[Model], action: str, fn: Callable[[stripe.StripeClient], Any]) -> Model:
        """Run one API call; read the answer into ``model``; map every failure."""
        client = self.client()
        try:
            result = fn(client)
        except stripe.StripeError as exc:
            raise gateway_error(action, exc) from exc
        return answer_object(model, result.to_dict(), gateway=GATEWAY, what=action)

    # -- the calls the adapter makes ----------------------------------------------------

    def create_payment_intent(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.PaymentIntent:
        return self._call(schemas.PaymentIntent, "create the payment", lambda c: c.v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def create_checkout_session(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.CheckoutSession:
        return self._call(schemas.CheckoutSession, "create the checkout session", lambda c: c.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def payment_intent(self, intent_id: str) -> schemas.PaymentIntent:
        return self._call(schemas.PaymentIntent, "look up the payment",
                          lambda c: c.v1.payment_intents.retrieve(intent_id))

    def checkout_session(self, session_id: str) -> schemas.CheckoutSession:
        return self._call(schemas.CheckoutSession, "look up the checkout session",
                          lambda c: c.v1.checkout.sessions.retrieve(session_id))

    # -- saved cards (auto top-up) -------------------------------------------------------

    def create_customer(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.Customer:
        return self._call(schemas.Customer, "create the customer", lambda c: c.v1.customers.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def create_setup_intent(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.SetupIntent:
        return self._call(schemas.SetupIntent, "start saving the card", lambda c: c.v1.setup_intents.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def setup_intent(self, setup_intent_id: str) -> schemas.SetupIntent:
        return self._call(schemas.SetupIntent, "look up the card setup",
                          lambda c: c.v1.setup_intents.retrieve(setup_intent_id))

    def payment_method(self, payment_method_id: str) -> schemas.PaymentMethod:
        return self._call(schemas.PaymentMethod, "look up the saved card",
                          lambda c: c.v1.payment_methods.retrieve(payment_method_id))

    def create_refund(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.Refund:
        return self._call(schemas.Refund, "refund the payment", lambda c: c.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def refund(self, refund_id: str) -> schemas.Refund:
        return self._call(schemas.Refund, "look up the refund", lambda c: c.v1.refunds.retrieve(refund_id))

    # -- Connect (payouts) --------------------------------------------------------------

    def create_account(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.Account:
        return self._call(schemas.Account, "create the connected account", lambda c: c.v1.accounts.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def account(self, account_id: str) -> schemas.Account:
        return self._call(schemas.Account, "look up the connected account", lambda c: c.v1.accounts.retrieve(account_id))

    def create_account_link(self, params: dict[str, Any]) -> schemas.AccountLink:
        return self._call(schemas.AccountLink, "create the onboarding link",
                          lambda c: c.v1.account_links.create(params=params))

    def create_transfer(self, params: dict[str, Any], *, idempotency_key: str) -> schemas.Transfer:
        return self._call(schemas.Transfer, "transfer the payout", lambda c: c.v1.transfers.create(
            params=params, options={"idempotency_key": idempotency_key}))

    def transfer(self, transfer_id: str) -> schemas.Transfer:
        return self._call(schemas.Transfer, "look up the transfer", lambda c: c.v1.transfers.retrieve(transfer_id))

    def transfers(self, params: dict[str, Any]) -> schemas.TransferList:
        return self._call(schemas.TransferList, "look up the payout's transfer",
                          lambda c: c.v1.transfers.list(params=params))


def not_found(error: GatewayError) -> bool:
    """Whether Stripe answered that the object asked for does not exist (404 ``resource_missing``)."""
    return error.details.get("gateway_status") == 404


def gateway_error(action: str, exc: stripe.StripeError) -> GatewayError:
    """One Stripe failure as a GatewayError: a short message, Stripe's status and codes where given."""
    code = exc.code if isinstance(exc.code, str) and exc.code else None
    body = exc.json_body
    error = body.get("error") if isinstance(body, dict) else None
    decline = error.get("decline_code") if isinstance(error, dict) else None
    status = exc.http_status if isinstance(exc.http_status, int) else None
    text = clean(exc.user_message or getattr(exc, "_message", None))
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
        message = f"Stripe failed to {action}{f' (HTTP {status})' if status else ''}: {text}"
    return GatewayError(message, gateway=GATEWAY, gateway_status=status, gateway_code=code,
                        decline_code=decline if isinstance(decline, str) and decline else None)


__all__ = ["StripeApi", "clean", "gateway_error", "not_found"]
