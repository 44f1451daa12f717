"""Stripe webhooks through the real handler and the real Stripe verification (official library).

Each delivery is signed as Stripe signs (t=..., v1=HMAC-SHA256 over "t.payload"); after
every case the ledger invariant holds and only a genuine, fresh event granted anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.functional.fake_gateway import FakeGateway
from tests.support import ADMIN, assert_ledger_invariant, invoke, ledger_state, set_gateway

SECRET = "whsec_functional_test_secret"


@pytest.fixture
def stripe_shop(aws, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_functional")
    # Checkout talks to a fake; webhooks are verified by the real Stripe adapter.
    set_gateway("stripe", FakeGateway("stripe"))
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200
    purchase = invoke("checkout_post_checkout.json").body
    set_gateway("stripe", None)
    yield purchase
    set_gateway("stripe", None)


def sign(payload: str, secret: str = SECRET, at: int | None = None) -> str:
    ts = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def intent_succeeded(purchase, event_id="evt_1QsucceededA", amount=1000) -> str:
    return json.dumps({
        "id": event_id, "object": "event", "api_version": "2024-06-20", "created": int(time.time()),
        "type": "payment_intent.succeeded", "livemode": False, "pending_webhooks": 1,
        "data": {"object": {"id": purchase["reference"], "object": "payment_intent", "amount": amount,
                            "amount_received": amount, "currency": "usd", "status": "succeeded",
                            "metadata": {"purchase_id": purchase["purchase_id"], "wallet_id": "user:alice"}}},
    }, separators=(",", ":"))


def session_completed(purchase) -> str:
    return json.dumps({
        "id": "evt_1QsessionDone", "object": "event", "api_version": "2024-06-20", "created": int(time.time()),
        "type": "checkout.session.completed", "livemode": False, "pending_webhooks": 1,
        "data": {"object": {"id": "cs_test_a1", "object": "checkout.session", "amount_total": 1000,
                            "currency": "usd", "payment_status": "paid", "status": "complete",
                            "payment_intent": purchase["reference"], "client_reference_id": purchase["purchase_id"],
                            "metadata": {"purchase_id": purchase["purchase_id"]}}},
    }, separators=(",", ":"))


def deliver(payload: str, signature: str):
    return invoke("webhooks_stripe.json", caller=None, raw_body=payload, headers={"stripe-signature": signature})


def test_the_same_webhook_five_times_grants_once(stripe_shop):
    payload = intent_succeeded(stripe_shop)
    outcomes = [deliver(payload, sign(payload)) for _ in range(5)]
    assert [r.status for r in outcomes] == [200] * 5
    assert [r.body["outcome"] for r in outcomes] == ["granted"] + ["duplicate"] * 4
    state = assert_ledger_invariant("user:alice")
    assert state["entries"] == [100_000]


def test_two_different_webhooks_for_one_payment_grant_once(stripe_shop):
    for payload in (session_completed(stripe_shop), intent_succeeded(stripe_shop)):
        assert deliver(payload, sign(payload)).status == 200
    state = assert_ledger_invariant("user:alice")
    assert state["entries"] == [100_000]


@pytest.mark.parametrize("case", ["forged signature", "wrong secret", "stale timestamp", "tampered body",
                                  "no signature"])
def test_bad_signatures_grant_nothing(stripe_shop, case):
    payload = intent_succeeded(stripe_shop)
    signature = {
        "forged signature": f"t={int(time.time())},v1={'ab' * 32}",
        "wrong secret": sign(payload, secret="whsec_someone_else"),
        "stale timestamp": sign(payload, at=int(time.time()) - 301),
        "tampered body": sign(payload),
        "no signature": "",
    }[case]
    body = payload.replace('"amount":1000', '"amount":999') if case == "tampered body" else payload
    reply = deliver(body, signature)
    assert reply.status == 400, reply
    assert reply.error_code == "invalid_signature"
    state = ledger_state("user:alice")
    assert (state["balance"], state["entries"]) == (0, [])  # nothing granted, nothing ledgered
    # The genuine delivery still works afterwards: nothing was recorded for the bad one.
    assert deliver(payload, sign(payload)).body["outcome"] == "granted"
    assert assert_ledger_invariant("user:alice")["entries"] == [100_000]


def test_a_signed_event_with_the_wrong_amount_is_flagged(stripe_shop):
    payload = intent_succeeded(stripe_shop, event_id="evt_1Qwrongamount", amount=10)
    reply = deliver(payload, sign(payload))
    assert (reply.status, reply.body["outcome"]) == (200, "flagged_mismatch")
    assert ledger_state("user:alice")["balance"] == 0
