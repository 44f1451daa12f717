"""A payment gateway fake for functional tests: records calls, answers deterministically.

Its webhooks are JSON GatewayEvents "signed" with a header the fake checks, so tests can
drive every event kind through the real webhooks handler without a gateway's crypto.

Refunds are made once per idempotency key (a call with a key already used returns the
refund made for it, as both real adapters do) and every call is kept in ``refund_calls``. A
test chooses how they go: ``refund_status`` / ``refund_failure`` for the Refund a new refund
gets, ``refund_error`` for an exception every call raises (before anything is made) while it
is set. As on the real adapters, only the "stripe" fake keeps ``tollgate_refund_id``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from tollgate.gateways import (
    CardSetup,
    GatewayError,
    GatewayEvent,
    InvalidSignature,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
    RefundStatus,
    SavedCard,
)

SIGNATURE_HEADER = "x-fake-signature"
GOOD_SIGNATURE = "valid"


@dataclass(frozen=True)
class RefundCall:
    reference: str
    amount: int | None
    idempotency_key: str
    refund_id: str | None


class FakeGateway(PaymentGateway):
    def __init__(self, name: str) -> None:
        self.name = name
        self.created: list[tuple[PaymentRequest, str]] = []
        self.fail_next = False
        self.verified: dict[str, PaymentStatus] = {}
        self.refund_calls: list[RefundCall] = []
        self.refunds_made: dict[str, Refund] = {}  # by idempotency key
        self.refund_status: RefundStatus = "succeeded"
        self.refund_failure: str | None = None  # a new "failed" refund's failure (a default if None)
        self.refund_error: Exception | None = None
        self._refunded: dict[str, str] = {}  # idempotency key -> the reference it refunded
        # Saved cards (stripe): setups started, the card each confirmed one saved, off-session charges.
        self.setups: dict[str, CardSetup] = {}
        self.confirmed: dict[str, SavedCard] = {}
        self.charges: dict[str, tuple[PaymentRequest, SavedCard]] = {}  # by idempotency key
        self.declining: set[str] = set()  # payment methods that decline

    def start_card_setup(self, *, wallet_id: str, customer_id: str | None, email: str | None,
                         idempotency_key: str) -> CardSetup:
        setup = CardSetup(customer_id=customer_id or f"cus_{wallet_id}", setup_intent_id=f"seti_{idempotency_key}",
                          client_secret=f"seti_{idempotency_key}_secret")
        return self.setups.setdefault(setup.setup_intent_id, setup)

    def confirm_setup(self, setup_intent_id: str, payment_method: str = "pm_card_visa") -> None:
        """The payer confirms the setup in their browser (Stripe.js's confirmCardSetup)."""
        setup = self.setups[setup_intent_id]
        self.confirmed[setup_intent_id] = SavedCard(setup.customer_id, payment_method, "visa", "4242")

    def saved_card(self, setup_intent_id: str) -> SavedCard | None:
        return self.confirmed.get(setup_intent_id)

    def charge_saved_card(self, request: PaymentRequest, card: SavedCard, *, idempotency_key: str) -> PaymentSession:
        if card.payment_method_id in self.declining:
            raise GatewayError("Stripe declined the card: Your card was declined.", gateway=self.name,
                               gateway_status=402, gateway_code="card_declined", decline_code="generic_decline")
        self.charges.setdefault(idempotency_key, (request, card))
        return PaymentSession(reference=f"pi_fake_{request.purchase_id}")

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        if self.fail_next:
            self.fail_next = False
            raise GatewayError("the gateway is down", gateway=self.name)
        self.created.append((request, idempotency_key))
        ref = f"pi_fake_{request.purchase_id}" if self.name == "stripe" else request.purchase_id
        if self.name == "stripe" and request.hosted:
            return PaymentSession(reference=f"cs_fake_{request.purchase_id}", checkout_session_id="cs_1",
                                  checkout_url=f"https://checkout.example/c/{request.purchase_id}")
        if self.name == "stripe":
            return PaymentSession(reference=ref, client_secret=f"{ref}_secret_x")
        return PaymentSession(reference=ref, authorization_url=f"https://checkout.example/{ref}", access_code="ac_1")

    def parse_webhook(self, raw_body: bytes, headers: dict[str, str]) -> GatewayEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get(SIGNATURE_HEADER) != GOOD_SIGNATURE:
            raise InvalidSignature("signature does not verify")
        data = json.loads(raw_body)
        data["refunds"] = tuple(Refund(**r) for r in data.get("refunds", ()))
        return GatewayEvent(**data)

    def verify_payment(self, reference: str) -> PaymentStatus:
        return self.verified[reference]

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str,
               refund_id: str | None = None) -> Refund:
        self.refund_calls.append(RefundCall(reference, amount, idempotency_key, refund_id))
        if self.refund_error is not None:
            raise self.refund_error
        if idempotency_key in self.refunds_made:
            return self.refunds_made[idempotency_key]
        earlier = list(self._refunded.values()).count(reference)
        failed = self.refund_status == "failed"
        made = Refund(
            refund_id=f"re_{reference}" + (f"_{earlier + 1}" if earlier else ""),  # the first: re_<reference>
            amount=amount or 0,
            status=self.refund_status,
            tollgate_refund_id=refund_id if self.name == "stripe" else None,
            failure=(self.refund_failure or "the fake gateway failed the refund") if failed else None,
        )
        self.refunds_made[idempotency_key] = made
        self._refunded[idempotency_key] = reference
        return made


def webhook_body(**event: Any) -> str:
    event.setdefault("raw_type", event.get("kind", "x"))
    event["refunds"] = [asdict(r) if isinstance(r, Refund) else r for r in event.get("refunds", ())]
    return json.dumps(event)
