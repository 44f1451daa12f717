"""A payment gateway fake for functional tests: records calls, answers deterministically.

Its webhooks are JSON GatewayEvents "signed" with a header the fake checks, so tests can
drive every event kind through the real webhooks handler without a gateway's crypto.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from tollgate.gateways import (
    GatewayError,
    GatewayEvent,
    InvalidSignature,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
)

SIGNATURE_HEADER = "x-fake-signature"
GOOD_SIGNATURE = "valid"


class FakeGateway(PaymentGateway):
    def __init__(self, name: str) -> None:
        self.name = name
        self.created: list[tuple[PaymentRequest, str]] = []
        self.fail_next = False
        self.verified: dict[str, PaymentStatus] = {}

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

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str) -> Refund:
        return Refund(refund_id=f"re_{reference}", amount=amount or 0)


def webhook_body(**event: Any) -> str:
    event.setdefault("raw_type", event.get("kind", "x"))
    event["refunds"] = [asdict(r) if isinstance(r, Refund) else r for r in event.get("refunds", ())]
    return json.dumps(event)
