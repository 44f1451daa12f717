"""The Paystack adapter: transactions, signed webhooks, refunds, and payouts (``payouts.py``:
transfer recipients and transfers).

* **Idempotency.** For a payment the transaction ``reference`` is the idempotency key: it is
  derived from the purchase id (``references.py``), and Paystack refuses a second initialize
  with the same reference ("Duplicate Transaction Reference", a GatewayError here) - so a
  replayed checkout can never open a second transaction; the caller replays the session it
  stored. Refunds have no idempotency at Paystack at all: the key is written into the
  refund's ``merchant_note`` (a documented, free-text field), and the transaction's refunds
  are listed for it before one is created (``refunds.py``).
* **Email.** Paystack requires the payer's email to initialize a transaction, so a request
  without one is refused here with :class:`ValidationFailed` (422) before any call is made.
* **Amounts** are integers in the currency's minor unit (kobo for NGN), in both directions.
* **The secret key** is read at each call (env, else SSM / Secrets Manager, cached there): a
  deployment without it starts fine and answers 503 only where Paystack is used, webhooks
  included (Paystack signs them with that key).

Each module does one job: ``client`` the HTTP calls, ``webhooks`` the signature, ``schemas``
the Paystack objects, ``events`` their mapping to a GatewayEvent, ``references`` the
purchase-id <-> reference rule, ``refunds`` refunds, ``payouts`` the payout half of the adapter.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from tollgate.errors import ValidationFailed
from tollgate.gateways.base import (
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
)
from tollgate.gateways.config import SecretSource, require_secret, secret_source
from tollgate.gateways.models import answer_object, json_object
from tollgate.gateways.paystack import schemas, webhooks
from tollgate.gateways.paystack.client import DEFAULT_API_BASE, DEFAULT_TIMEOUT_S, PaystackClient
from tollgate.gateways.paystack.events import GATEWAY, event_from_dict
from tollgate.gateways.paystack.payouts import PaystackPayouts
from tollgate.gateways.paystack.references import reference_for
from tollgate.gateways.paystack.refunds import PaystackRefunds

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PaystackGateway(PaystackRefunds, PaystackPayouts, PaymentGateway):
    name = GATEWAY

    def __init__(
        self,
        secret_key: str | SecretSource | None,
        *,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._secret_key = secret_source(secret_key)
        self.client = PaystackClient(self._key, api_base=api_base, timeout=timeout)

    @classmethod
    def from_config(cls) -> PaystackGateway:
        from tollgate.secrets import secret

        api_base = os.environ.get("PAYSTACK_API_BASE") or DEFAULT_API_BASE
        return cls(lambda: secret("PAYSTACK_SECRET_KEY"), api_base=api_base)

    @property
    def api_base(self) -> str:
        return self.client.api_base

    @property
    def timeout(self) -> float:
        return self.client.timeout

    def _key(self) -> str:
        return require_secret(self._secret_key, gateway=GATEWAY, what="secret key", setting="PAYSTACK_SECRET_KEY")

    # -- payments -----------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        if not request.email or not _EMAIL.fullmatch(request.email):
            raise ValidationFailed("Paying with Paystack needs the payer's email address", field="email")
        amount = _positive(request.amount, "payment")
        body: dict[str, Any] = {
            "email": request.email,
            "amount": amount,
            "currency": request.currency.upper(),
            "reference": reference_for(request.purchase_id),
            "metadata": {**request.metadata, "purchase_id": request.purchase_id},
        }
        if request.callback_url:
            body["callback_url"] = request.callback_url
        data = self.client.call("POST", "/transaction/initialize", body, what="initialize")
        started = answer_object(schemas.Initialized, data, gateway=GATEWAY, what="initialize")
        return PaymentSession(reference=started.reference, authorization_url=started.authorization_url,
                              access_code=started.access_code)

    def verify_payment(self, reference: str) -> PaymentStatus:
        path = "/transaction/verify/" + urllib.parse.quote(reference, safe="")
        data = self.client.call("GET", path, None, what="verify")
        tx = answer_object(schemas.Transaction, data, gateway=GATEWAY, what="verify")
        status = tx.status or ""
        return PaymentStatus(reference=tx.reference or reference, succeeded=status == "success", status=status,
                             amount=tx.amount, currency=tx.currency or "", purchase_id=tx.purchase_id)

    # -- webhooks -----------------------------------------------------------------------

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        webhooks.verify(raw_body, headers, self._key())
        return event_from_dict(json_object(raw_body, gateway=GATEWAY))


def _positive(amount: int, what: str) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"a {what} amount is a positive whole number of minor units")
    return amount


__all__ = ["PaystackGateway"]
