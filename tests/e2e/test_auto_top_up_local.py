"""Auto top-up end to end on the local stack (issue 15): the card saved through a SetupIntent at
localstripe (confirmed as Stripe.js would), the crossing seen by the stream poller, the charge made
off-session at localstripe by AutoTopUpFunction (fed by the queue poller), and the credits granted by
localstripe's real signed webhook; a card that declines turns auto top-up off and grants nothing."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import local_gateway
from tests.e2e.test_local_stack import fund

SETTINGS = {"enabled": True, "threshold": "30", "package_id": "starter", "monthly_limit": "500"}


def saved_card(api, stripe_payer, token, payment_method: str) -> dict:
    started = api.post("/v1/wallet/payment-method", token=token)
    assert started.status == 201, started
    intent = stripe_payer.v1.setup_intents.confirm(started.body["setup_intent_id"],
                                                  params={"payment_method": payment_method})
    assert intent.status == "succeeded"
    saved = api.put("/v1/wallet/payment-method", token=token, body={"setup_intent_id": started.body["setup_intent_id"]})
    assert saved.status == 200, saved
    return saved.body


def cross(stack, api, token, keys: str) -> None:
    for n in range(2):  # ai-insight costs 9: 40 -> 31 -> 22 crosses 30
        assert api.post("/v1/usage", token=token, body={"feature": "ai-insight"},
                        headers={"Idempotency-Key": f"{keys}-{n}"}).status == 201
    for _ in range(2):
        assert stack.poller.wait_idle(15)
        assert stack.queues.wait_idle(15)


def test_a_crossing_charges_the_saved_card_at_localstripe_and_its_webhook_grants(stack, api, tokens, catalog,
                                                                                stripe_payer):
    sub = f"topup{uuid.uuid4().hex[:8]}"
    token = stack.signer.token(sub, ["user"], email=f"{sub}@example.com")
    fund(api, tokens, f"user:{sub}", "40")
    card = saved_card(api, stripe_payer, token, "pm_card_visa")["card"]
    assert card is not None and card["last4"]
    assert api.put("/v1/wallet/auto-top-up", token=token, body=SETTINGS).status == 200
    seen = len(local_gateway(stack).answered)
    cross(stack, api, token, "top")
    _, _, status = local_gateway(stack).wait_for("POST", "/v1/webhooks/stripe", after=seen,
                                                 containing=b"payment_intent.succeeded")
    assert status == 200
    wallet = api.get("/v1/wallet", token=token).body
    assert wallet["balance"] == "122"  # 22 + the starter package's 100
    purchases = api.get("/v1/purchases", token=token).body["data"]
    assert [(p["status"], p["credits"], p["amount"]) for p in purchases] == [("paid", "100", 1000)]
    assert api.get("/v1/wallet/auto-top-up", token=token).body["charged_this_month"] == "100"
    assert api.get(f"/v1/admin/wallets/user:{sub}/reconciliation", token=tokens["admin"]).body["consistent"] is True


def test_a_card_that_declines_turns_auto_top_up_off_and_grants_nothing(stack, api, tokens, catalog, stripe_payer):
    sub = f"topup{uuid.uuid4().hex[:8]}"
    token = stack.signer.token(sub, ["user"], email=f"{sub}@example.com")
    fund(api, tokens, f"user:{sub}", "40")
    declining = stripe_payer.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    saved_card(api, stripe_payer, token, declining.id)
    assert api.put("/v1/wallet/auto-top-up", token=token, body=SETTINGS).status == 200
    cross(stack, api, token, "declined")
    now = api.get("/v1/wallet/auto-top-up", token=token).body
    assert now["enabled"] is False and "declined" in now["disabled_reason"], now
    assert api.get("/v1/wallet", token=token).body["balance"] == "22"
    purchases = api.get("/v1/purchases", token=token).body["data"]
    assert [p["status"] for p in purchases] == ["failed"]
