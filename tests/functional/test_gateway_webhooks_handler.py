"""Both gateways through the real handlers and the real adapters: one answer per case.

A body each gateway signs correctly but that is not a usable event answers the same status
and error code on Stripe and Paystack (422 ``validation_error``, naming the field); a bad
signature answers the same 400 ``invalid_signature``. Either way nothing changes: the
purchase the event names stays pending and no credit is ledgered. A gateway call that fails
is a 503 ``try_again`` (with ``Retry-After``) whose details have the same keys on both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time

import pytest

from tests.functional.fake_gateway import FakeGateway
from tests.support import ADMIN, invoke, ledger_state, set_gateway
from tollgate.gateways.paystack import PaystackGateway
from tollgate.gateways.stripe import StripeGateway

STRIPE_SECRET = "whsec_functional_both_gateways"
PAYSTACK_KEY = "sk_test_functional_both_gateways"


@pytest.fixture
def purchases(aws, monkeypatch):
    """One pending purchase per gateway (checkout through fakes); webhooks verified by the real adapters."""
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    monkeypatch.setenv("PAYSTACK_SECRET_KEY", PAYSTACK_KEY)
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200
    made = {}
    for gateway, currency in (("stripe", "USD"), ("paystack", "NGN")):
        set_gateway(gateway, FakeGateway(gateway))
        reply = invoke("checkout_post_checkout.json", body={"package_id": "starter", "gateway": gateway,
                                                            "currency": currency},
                       headers={"idempotency-key": f"co-{gateway}"})
        assert reply.status == 201, reply
        made[gateway] = reply.body
        set_gateway(gateway, None)
    yield made
    for gateway in made:
        set_gateway(gateway, None)


def stripe_signed(body: str) -> dict[str, str]:
    ts = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={ts},v1={mac}"}


def paystack_signed(body: str) -> dict[str, str]:
    return {"x-paystack-signature": hmac.new(PAYSTACK_KEY.encode(), body.encode(), hashlib.sha512).hexdigest()}


def deliver(gateway: str, body: str, headers: dict[str, str] | None = None):
    signed = headers if headers is not None else (stripe_signed if gateway == "stripe" else paystack_signed)(body)
    return invoke(f"webhooks_{gateway}.json", caller=None, raw_body=body, headers=signed)


def stripe_paid(purchase: dict, amount) -> str:
    return json.dumps({"id": "evt_1Qmalformed", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": purchase["reference"], "object": "payment_intent", "amount": amount,
                                           "amount_received": amount, "currency": "usd", "status": "succeeded",
                                           "metadata": {"purchase_id": purchase["purchase_id"]}}}})


def paystack_paid(purchase: dict, amount) -> str:
    return json.dumps({"event": "charge.success",
                       "data": {"id": 302961, "status": "success", "reference": purchase["reference"], "amount": amount,
                                "currency": "NGN", "metadata": {"purchase_id": purchase["purchase_id"]}}})


# Each case: what Stripe gets, what Paystack gets (both signed correctly), the field both name.
MALFORMED = {
    "not JSON": (lambda p: "{not json", lambda p: "{not json", "body"),
    "a JSON array": (lambda p: "[]", lambda p: "[]", "body"),
    "an empty object": (lambda p: "{}", lambda p: "{}", None),
    "a payment with a fractional amount": (lambda p: stripe_paid(p, 10.5), lambda p: paystack_paid(p, 10.5), None),
    "a payment with a negative amount": (lambda p: stripe_paid(p, -1000), lambda p: paystack_paid(p, -1500000), None),
    "a payment with no amount": (lambda p: stripe_paid(p, None), lambda p: paystack_paid(p, None), None),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_but_signed_body_answers_the_same_on_both_gateways(purchases, case):
    stripe_body, paystack_body, field = MALFORMED[case]
    replies = {"stripe": deliver("stripe", stripe_body(purchases["stripe"])),
               "paystack": deliver("paystack", paystack_body(purchases["paystack"]))}

    assert {name: (r.status, r.error_code) for name, r in replies.items()} == {
        "stripe": (422, "validation_error"), "paystack": (422, "validation_error")}
    for name, reply in replies.items():
        error = reply.body["error"]
        assert error["gateway"] == name
        assert error["field"] == (field or error["field"]) and error["field"]
        assert PAYSTACK_KEY not in json.dumps(reply.body) and STRIPE_SECRET not in json.dumps(reply.body)
    # Nothing changed: no credit, and each purchase still pending.
    assert (ledger_state("user:alice")["balance"], ledger_state("user:alice")["entries"]) == (0, [])
    listed = invoke("checkout_list_purchases.json").body["data"]
    assert sorted((p["gateway"], p["status"]) for p in listed) == [("paystack", "pending"), ("stripe", "pending")]


def test_the_amount_field_is_named_the_same_way_on_both(purchases):
    stripe_reply = deliver("stripe", stripe_paid(purchases["stripe"], 10.5))
    paystack_reply = deliver("paystack", paystack_paid(purchases["paystack"], 10.5))
    assert stripe_reply.body["error"]["field"] == "data.object.amount"  # Stripe's event wraps its object
    assert paystack_reply.body["error"]["field"] == "data.amount"


@pytest.mark.parametrize("signature", ["forged", "missing"])
def test_a_bad_signature_answers_the_same_on_both_gateways(purchases, signature):
    replies = []
    for gateway, body in (("stripe", stripe_paid(purchases["stripe"], 1000)),
                          ("paystack", paystack_paid(purchases["paystack"], 1500000))):
        header = "stripe-signature" if gateway == "stripe" else "x-paystack-signature"
        forged = {header: f"t={int(time.time())},v1={'ab' * 32}" if gateway == "stripe" else "ab" * 64}
        replies.append(deliver(gateway, body, forged if signature == "forged" else {}))
    assert [(r.status, r.error_code) for r in replies] == [(400, "invalid_signature")] * 2
    assert ledger_state("user:alice")["balance"] == 0


def test_a_gateway_that_cannot_be_reached_is_a_retryable_503_of_one_shape_on_both(aws):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again: nothing listens there
    set_gateway("stripe", StripeGateway("sk_test_unreachable", api_base=nowhere, max_network_retries=0))
    set_gateway("paystack", PaystackGateway("sk_test_unreachable", api_base=nowhere, timeout=5))
    try:
        assert invoke("admin_put_package.json", caller=ADMIN).status == 200
        errors = {}
        for gateway, currency in (("stripe", "USD"), ("paystack", "NGN")):
            reply = invoke("checkout_post_checkout.json", body={"package_id": "starter", "gateway": gateway,
                                                                "currency": currency},
                           headers={"idempotency-key": f"down-{gateway}"})
            assert (reply.status, reply.error_code, reply.headers.get("Retry-After")) == (503, "try_again", "1"), reply
            errors[gateway] = reply.body["error"]
    finally:
        set_gateway("stripe", None)
        set_gateway("paystack", None)
    assert set(errors["stripe"]) == set(errors["paystack"]) == {
        "code", "message", "request_id", "gateway", "gateway_status", "gateway_code", "decline_code",
        "retry_after_seconds"}
    assert [(e["gateway"], e["gateway_status"]) for e in errors.values()] == [("stripe", None), ("paystack", None)]
    assert "sk_test_unreachable" not in json.dumps(errors)
