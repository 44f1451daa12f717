"""Buy credits end to end on the local stack: localstripe's real signed webhooks, the fake Paystack."""

from __future__ import annotations

import uuid

import pytest
import stripe

from tests.e2e.conftest import confirm_card, local_gateway


def person(stack):
    sub = f"buyer{uuid.uuid4().hex[:8]}"
    return sub, stack.signer.token(sub, ["user"], email=f"{sub}@example.com")


def _reconciled(api, tokens, wallet_id):
    reply = api.get(f"/v1/admin/wallets/{wallet_id}/reconciliation", token=tokens["admin"])
    assert reply.status == 200, reply
    assert reply.body["consistent"] is True, reply.body
    return reply.body


def test_stripe_purchase_grants_credits_from_the_real_webhook(stack, api, tokens, catalog, stripe_payer):
    sub, token = person(stack)
    started = api.post("/v1/checkout", token=token, headers={"Idempotency-Key": "buy-1"},
                       body={"package_id": "starter", "gateway": "stripe", "currency": "USD"})
    assert started.status == 201, started
    purchase = started.body
    assert purchase["status"] == "pending" and purchase["client_secret"]
    assert (purchase["amount"], purchase["currency"], purchase["credits"]) == (1000, "USD", "100")

    seen = len(local_gateway(stack).answered)
    intent = confirm_card(stripe_payer, purchase["reference"])
    assert intent.status == "succeeded"
    _, _, status = local_gateway(stack).wait_for("POST", "/v1/webhooks/stripe", after=seen,
                                                 containing=purchase["reference"].encode())
    assert status == 200

    wallet = api.get("/v1/wallet", token=token).body
    assert wallet["balance"] == "100"
    history = api.get("/v1/history", token=token).body["data"]
    assert [(e["type"], e["amount"]) for e in history] == [("purchase", "100")]
    listed = api.get("/v1/purchases", token=token).body["data"]
    assert [(p["purchase_id"], p["status"]) for p in listed] == [(purchase["purchase_id"], "paid")]
    _reconciled(api, tokens, f"user:{sub}")


def test_a_declined_card_grants_nothing_and_marks_the_purchase_failed(stack, api, catalog, stripe_payer):
    _, token = person(stack)
    purchase = api.post("/v1/checkout", token=token, headers={"Idempotency-Key": "buy-declined"},
                        body={"credits": "25", "gateway": "stripe", "currency": "USD"}).body
    assert purchase["amount"] == 250  # 25 credits x 10 cents, computed by the server
    card = stripe_payer.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    seen = len(local_gateway(stack).answered)
    with pytest.raises(stripe.CardError):
        confirm_card(stripe_payer, purchase["reference"], card.id)
    _, _, status = local_gateway(stack).wait_for("POST", "/v1/webhooks/stripe", after=seen,
                                                 containing=purchase["reference"].encode())
    assert status == 200
    assert api.get("/v1/wallet", token=token).body["balance"] == "0"
    listed = api.get("/v1/purchases", token=token).body["data"]
    assert listed[0]["status"] == "failed"
    assert api.get("/v1/history", token=token).body["data"] == []


def test_a_forged_stripe_webhook_is_400_and_changes_nothing(stack, api, catalog):
    _, token = person(stack)
    purchase = api.post("/v1/checkout", token=token, headers={"Idempotency-Key": "buy-forged"},
                        body={"package_id": "starter", "gateway": "stripe", "currency": "USD"}).body
    forged = (
        '{"id":"evt_forged","type":"payment_intent.succeeded","data":{"object":{"id":"'
        + purchase["reference"] + '","object":"payment_intent","amount":1000,"currency":"usd","metadata":'
        '{"purchase_id":"' + purchase["purchase_id"] + '"}}}}'
    )
    reply = api.post("/v1/webhooks/stripe", raw=forged.encode(),
                     headers={"Stripe-Signature": "t=1795242600,v1=" + "0" * 64})
    assert reply.status == 400
    assert reply.error_code == "invalid_signature"
    assert api.get("/v1/wallet", token=token).body["balance"] == "0"


def test_paystack_purchase_through_the_fake_paystack(stack, api, tokens, catalog):
    sub, token = person(stack)
    started = api.post("/v1/checkout", token=token, headers={"Idempotency-Key": "buy-ngn"},
                       body={"package_id": "starter", "gateway": "paystack", "currency": "NGN"})
    assert started.status == 201, started
    purchase = started.body
    assert purchase["authorization_url"].startswith(stack.paystack.endpoint)
    assert (purchase["amount"], purchase["currency"]) == (1500000, "NGN")
    # The payer pays on Paystack's page; Paystack sends its signed charge.success webhook.
    stack.paystack.complete(purchase["reference"])
    assert api.get("/v1/wallet", token=token).body["balance"] == "100"
    assert api.get("/v1/purchases", token=token).body["data"][0]["status"] == "paid"
    _reconciled(api, tokens, f"user:{sub}")
