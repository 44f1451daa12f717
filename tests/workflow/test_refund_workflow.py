"""Refunding purchases end to end: credits bought through localstripe (real signed webhooks)
or the fake Paystack, a refund asked for over HTTP, and ``statemachines/refund.asl.json`` run
by moto with the real step handlers against those gateways.

After every test, for its wallet: the ledger reconciles (sum of entries == balance), the
wallet never went below zero, and the money refunded at the gateway is what the refund and
the purchase say.
"""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Client, confirm_card, local_gateway
from tests.workflow.conftest import wait_for

STARTER = {"USD": (1000, "100"), "NGN": (1500000, "100")}  # the seeded package: minor units, credits
_keys = itertools.count(1)


@pytest.fixture(scope="module")
def admin(stack) -> str:
    return stack.signer.token("admin", ["admin", "user"])


@pytest.fixture(scope="module")
def catalog(stack):
    """The demo catalog, with its starter package: the tier's stack is seeded when it starts."""
    return stack


@pytest.fixture(scope="module")
def stripe_payer(stack):
    import stripe

    from tollgate_local.stack import STRIPE_LOCAL_KEY

    return stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": stack.stripe_url},
                               http_client=stripe.RequestsClient(timeout=10))


@pytest.fixture(autouse=True)
def paystack_defaults(stack):
    yield
    stack.paystack.refund_outcome("processed")


class Buyer:
    """A person with a paid purchase of the seeded starter package (100 credits)."""

    def __init__(self, stack, api: Client, admin: str, gateway: str, stripe_payer=None) -> None:
        self.stack, self.api, self.admin, self.gateway = stack, api, admin, gateway
        self.sub = f"buyer{uuid.uuid4().hex[:8]}"
        self.wallet_id = f"user:{self.sub}"
        self.token = stack.signer.token(self.sub, ["user"], email=f"{self.sub}@example.com")
        currency = "USD" if gateway == "stripe" else "NGN"
        started = api.post("/v1/checkout", token=self.token, headers={"Idempotency-Key": "buy"},
                           body={"package_id": "starter", "gateway": gateway, "currency": currency})
        assert started.status == 201, started
        self.purchase = started.body
        if gateway == "stripe":
            seen = len(local_gateway(stack).answered)
            assert confirm_card(stripe_payer, self.purchase["reference"]).status == "succeeded"
            local_gateway(stack).wait_for("POST", "/v1/webhooks/stripe", after=seen)
        else:
            stack.paystack.complete(self.purchase["reference"])
        assert self.purchase_now()["status"] == "paid"
        self.amount, self.credits = STARTER[currency]

    @property
    def purchase_id(self) -> str:
        return self.purchase["purchase_id"]

    def purchase_now(self) -> dict[str, Any]:
        return self.api.get(f"/v1/purchases/{self.purchase_id}", token=self.token).body

    def balance(self) -> str:
        return self.api.get("/v1/wallet", token=self.token).body["balance"]

    def ask(self, body: dict[str, Any], *, token: str | None = None, key: str | None = None) -> Any:
        return self.api.post(f"/v1/purchases/{self.purchase_id}/refunds", token=token or self.token,
                             body=body, headers={"Idempotency-Key": key or f"refund-{next(_keys)}"})

    def refund(self, refund_id: str) -> dict[str, Any]:
        return self.api.get(f"/v1/refunds/{refund_id}", token=self.token).body

    def finished(self, refund_id: str) -> dict[str, Any]:
        return wait_for(f"refund {refund_id} to finish", lambda: (
            r if (r := self.refund(refund_id)).get("status") in ("succeeded", "failed") else None))

    def reconciled(self) -> None:
        reply = self.api.get(f"/v1/admin/wallets/{self.wallet_id}/reconciliation", token=self.admin)
        assert reply.status == 200 and reply.body["consistent"] is True, reply
        assert not reply.body["balance"].startswith("-"), reply.body

    def history(self) -> list[tuple[str, str]]:
        entries = self.api.get("/v1/history", token=self.token).body["data"]
        return sorted((e["type"], e["amount"]) for e in entries)

    def spend(self, credits: str, key: str) -> Any:
        return self.api.post(f"/v1/admin/wallets/{self.wallet_id}/adjustments", token=self.admin,
                             body={"amount": f"-{credits}", "reason": "spent"}, headers={"Idempotency-Key": key})

    def paystack_refunds(self) -> list[dict[str, Any]]:
        return [r for r in self.stack.paystack.refunds() if r["reference"] == self.purchase["reference"]]


@pytest.fixture
def buyer(stack, api, admin, catalog, stripe_payer):
    def make(gateway: str) -> Buyer:
        return Buyer(stack, api, admin, gateway, stripe_payer)
    return make


def stripe_refunds(stripe_payer, buyer: Buyer) -> list[Any]:
    return list(stripe_payer.v1.refunds.list(params={"payment_intent": buyer.purchase["reference"]}).data)


# -- the happy paths ------------------------------------------------------------------------

def test_a_full_stripe_refund_claws_back_refunds_the_payment_and_marks_it_refunded(buyer, stripe_payer):
    b = buyer("stripe")
    reply = b.ask({"reason": "changed my mind"})
    assert reply.status == 202, reply
    asked = reply.body
    assert (asked["status"], asked["credits"], asked["amount"], asked["currency"]) == ("approved", "100", 1000, "USD")
    done = b.finished(asked["refund_id"])
    assert done["status"] == "succeeded", done
    assert b.balance() == "0"
    assert b.history() == [("purchase", "100"), ("refund", "-100")]
    purchase = b.purchase_now()
    assert (purchase["status"], purchase["refunded_amount"], purchase["credits_clawed_back"]) == ("refunded", 1000,
                                                                                                    "100")
    refunds = stripe_refunds(stripe_payer, b)
    assert [(r.amount, r.metadata["tollgate_refund_id"]) for r in refunds] == [(1000, asked["refund_id"])]
    b.reconciled()


def test_a_partial_paystack_refund_waits_for_the_webhook_then_marks_it_partially_refunded(buyer, stack):
    b = buyer("paystack")
    stack.paystack.refund_outcome("none")  # Paystack processes refunds later: the workflow waits
    asked = b.ask({"credits": "40", "reason": "part"}).body
    assert (asked["credits"], asked["amount"]) == ("40", 600000)
    made = wait_for("the Paystack refund", lambda: b.paystack_refunds() or None)
    assert b.refund(asked["refund_id"])["status"] == "processing"
    assert b.balance() == "60"
    stack.paystack.send_refund_webhook(made[0]["id"], "processed")
    assert b.finished(asked["refund_id"])["status"] == "succeeded"
    purchase = b.purchase_now()
    assert (purchase["status"], purchase["refunded_amount"]) == ("partially_refunded", 600000)
    assert [r["amount"] for r in b.paystack_refunds()] == [600000]
    b.reconciled()


def test_a_full_paystack_refund_and_a_partial_stripe_refund(buyer, stripe_payer):
    paystack, stripe_buyer = buyer("paystack"), buyer("stripe")
    full = paystack.ask({"reason": "all"}).body
    part = stripe_buyer.ask({"credits": "25.5", "reason": "some"}).body
    assert part["amount"] == 255  # floor(1000 x 25500 / 100000)
    assert paystack.finished(full["refund_id"])["status"] == "succeeded"
    assert stripe_buyer.finished(part["refund_id"])["status"] == "succeeded"
    assert paystack.purchase_now()["status"] == "refunded" and paystack.balance() == "0"
    assert stripe_buyer.purchase_now()["status"] == "partially_refunded" and stripe_buyer.balance() == "74.5"
    assert [r.amount for r in stripe_refunds(stripe_payer, stripe_buyer)] == [255]
    paystack.reconciled()
    stripe_buyer.reconciled()


# -- failures and compensation ---------------------------------------------------------------

@pytest.fixture
def approval_above(api, admin):
    """Users' refunds above ``credits`` wait for an admin (the setting restored afterwards)."""
    saved = api.get("/v1/admin/settings", token=admin).body
    saved.pop("updated_at", None)

    def apply(credits: str) -> None:
        reply = api.put("/v1/admin/settings", token=admin, body={**saved, "refund_auto_approve_credits": credits})
        assert reply.status == 200, reply
    yield apply
    assert api.put("/v1/admin/settings", token=admin, body=saved).status == 200


def test_credits_spent_before_the_claw_back_fail_it_and_nothing_is_refunded_at_the_gateway(buyer, admin, api,
                                                                                           approval_above):
    approval_above("50")
    b = buyer("paystack")
    asked = b.ask({"reason": "all of it"}).body
    assert asked["status"] == "pending_approval", asked
    assert b.spend("30", "spend-before-approval").status == 201
    assert api.post(f"/v1/admin/refunds/{asked['refund_id']}/approve", token=admin, body={}).status == 200
    done = b.finished(asked["refund_id"])
    assert (done["status"], done["failure_reason"]) == ("failed", "credits_used")
    assert b.balance() == "70"
    assert b.paystack_refunds() == []
    assert b.purchase_now()["status"] == "paid"
    b.reconciled()


def test_a_permanent_gateway_refusal_gives_the_credits_back(buyer, stack):
    b = buyer("paystack")
    stack.paystack.fail_next_refunds(400, 1)
    asked = b.ask({"credits": "10", "reason": "refused"}).body
    done = b.finished(asked["refund_id"])
    assert (done["status"], done["failure_reason"]) == ("failed", "gateway_refused")
    assert b.balance() == "100"
    assert b.history() == [("purchase", "100"), ("refund", "-10"), ("refund_reversal", "10")]
    given_back = b.api.get("/v1/history?type=refund_reversal", token=b.token)
    assert given_back.status == 200 and [e["amount"] for e in given_back.body["data"]] == ["10"], given_back
    purchase = b.purchase_now()
    assert (purchase["status"], purchase["credits_clawed_back"], purchase["refunded_amount"]) == ("paid", "0", 0)
    b.reconciled()


def test_a_refund_the_gateway_reports_failed_gives_the_credits_back(buyer, stack):
    b = buyer("paystack")
    stack.paystack.refund_outcome("failed")
    asked = b.ask({"credits": "10", "reason": "fails later"}).body
    done = b.finished(asked["refund_id"])
    assert (done["status"], done["failure_reason"]) == ("failed", "gateway_failed")
    assert b.balance() == "100"
    assert eligible_credits(b) == "100"  # the purchase can be refunded again
    b.reconciled()


def eligible_credits(b: Buyer) -> str:
    return b.api.get(f"/v1/purchases/{b.purchase_id}/refund-eligibility", token=b.token).body["refundable_credits"]


def test_a_transient_failure_then_success_refunds_once(buyer, stack):
    b = buyer("paystack")
    # Paystack creates the refund but its answer is lost (500): the retry must list the
    # transaction's refunds and adopt it, not create another.
    stack.paystack.fail_next_refunds(500, 1, after_creating=True)
    asked = b.ask({"credits": "20", "reason": "flaky"}).body
    assert b.finished(asked["refund_id"])["status"] == "succeeded"
    assert [r["amount"] for r in b.paystack_refunds()] == [300000]
    assert b.balance() == "80"
    b.reconciled()


def test_steps_run_again_after_the_fact_change_nothing_and_refund_once(buyer, stack, stripe_payer):
    for gateway in ("paystack", "stripe"):
        b = buyer(gateway)
        asked = b.ask({"credits": "50", "reason": "re-run"}).body
        assert b.finished(asked["refund_id"])["status"] == "succeeded"
        before = (b.balance(), b.history(), b.purchase_now())
        steps = stack.registry.get("RefundStepsFunction")
        # A crash after the gateway call and before MarkRefunded, re-run: every step again.
        for step in ("claw_back", "gateway_refund", "mark_refunded"):
            steps.invoke({"step": step, "refund_id": asked["refund_id"]})
        assert (b.balance(), b.history(), b.purchase_now()) == before
        made = b.paystack_refunds() if gateway == "paystack" else stripe_refunds(stripe_payer, b)
        assert len(made) == 1
        b.reconciled()


def test_a_second_execution_of_a_waiting_refund_adopts_the_gateway_refund(buyer, stack):
    b = buyer("paystack")
    stack.paystack.refund_outcome("none")
    asked = b.ask({"credits": "30", "reason": "crash"}).body
    made = wait_for("the Paystack refund", lambda: b.paystack_refunds() or None)
    # The workflow is re-run from the start while the first run waits (after a crash, say).
    steps = stack.registry.get("RefundStepsFunction")
    assert steps.invoke({"step": "claw_back", "refund_id": asked["refund_id"]})["gateway_status"]
    assert steps.invoke({"step": "gateway_refund", "refund_id": asked["refund_id"]})["gateway_status"] == "pending"
    assert len(b.paystack_refunds()) == 1
    stack.paystack.send_refund_webhook(made[0]["id"], "processed")
    assert b.finished(asked["refund_id"])["status"] == "succeeded"
    assert b.balance() == "70" and len(b.paystack_refunds()) == 1
    b.reconciled()


# -- webhooks for Tollgate's own refunds -----------------------------------------------------

def test_the_paystack_webhook_twice_or_early_is_handled_and_claws_back_nothing_more(buyer, stack):
    b = buyer("paystack")
    stack.paystack.refund_outcome("none")
    asked = b.ask({"credits": "10", "reason": "webhooks"}).body
    made = wait_for("the Paystack refund", lambda: b.paystack_refunds() or None)
    # Delivered twice (and possibly before the workflow waits for it): applied once.
    stack.paystack.send_refund_webhook(made[0]["id"], "processed")
    stack.paystack.send_refund_webhook(made[0]["id"], "processed")
    assert b.finished(asked["refund_id"])["status"] == "succeeded"
    assert b.balance() == "90"
    assert b.history() == [("purchase", "100"), ("refund", "-10")]
    assert b.purchase_now()["credits_clawed_back"] == "10"
    b.reconciled()


def test_a_lost_paystack_webhook_is_found_by_asking_and_its_late_delivery_takes_nothing(buyer, stack):
    b = buyer("paystack")
    stack.paystack.refund_outcome("none")
    asked = b.ask({"credits": "20", "reason": "lost webhook"}).body
    made = wait_for("the Paystack refund", lambda: b.paystack_refunds() or None)
    # Paystack processes it, but its webhook goes astray (here: to a route that is not ours).
    stack.paystack.send_refund_webhook(made[0]["id"], "processed", url=f"{stack.url}/v1/health")
    # After RefundConfirmationTimeoutSeconds the workflow asks Paystack, which says processed.
    done = b.finished(asked["refund_id"])
    assert done["status"] == "succeeded", done
    # The webhook arrives at last: matched to the refund by amount, it takes nothing more.
    assert stack.paystack.send_refund_webhook(made[0]["id"], "processed") == 200
    assert b.balance() == "80"
    assert b.history() == [("purchase", "100"), ("refund", "-20")]
    assert b.purchase_now()["credits_clawed_back"] == "20"
    b.reconciled()


def test_stripes_own_refund_webhooks_for_our_refund_claw_back_nothing_more(buyer, stripe_payer, stack, api):
    """localstripe sends no refund webhooks: send Stripe's documented ones, signed, as Stripe would."""
    b = buyer("stripe")
    asked = b.ask({"credits": "40", "reason": "webhook"}).body
    assert b.finished(asked["refund_id"])["status"] == "succeeded"
    refund = stripe_refunds(stripe_payer, b)[0]
    for payload in stripe_refund_events(b, refund, asked["refund_id"]):
        reply = send_stripe_webhook(stack, payload)
        assert reply == 200
    assert b.balance() == "60"
    assert b.history() == [("purchase", "100"), ("refund", "-40")]
    purchase = b.purchase_now()
    assert (purchase["refunded_amount"], purchase["credits_clawed_back"]) == (400, "40")
    b.reconciled()


def stripe_refund_events(b: Buyer, refund: Any, refund_id: str) -> list[dict[str, Any]]:
    charge = f"ch_{uuid.uuid4().hex[:14]}"
    refund_object = {"id": refund.id, "object": "refund", "amount": refund.amount, "currency": "usd",
                     "payment_intent": b.purchase["reference"], "status": "succeeded", "charge": charge,
                     "metadata": {"tollgate_refund_id": refund_id}}
    charge_object = {"id": charge, "object": "charge", "amount": 1000, "amount_refunded": refund.amount,
                     "currency": "usd", "payment_intent": b.purchase["reference"], "refunded": False,
                     "metadata": {"purchase_id": b.purchase_id}}
    return [
        {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": "refund.created",
         "data": {"object": refund_object}},
        {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": "charge.refunded",
         "data": {"object": charge_object, "previous_attributes": {"amount_refunded": 0}}},
    ]


def send_stripe_webhook(stack, payload: dict[str, Any]) -> int:
    import json
    import time
    import urllib.error
    import urllib.request

    import stripe

    from tollgate_local.stack import STRIPE_WEBHOOK_SECRET

    body = json.dumps(payload)
    stamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{stamp}.{body}", STRIPE_WEBHOOK_SECRET)
    request = urllib.request.Request(f"{stack.url}/v1/webhooks/stripe", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Stripe-Signature": f"t={stamp},v1={signature}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# -- concurrency -----------------------------------------------------------------------------

def test_ten_concurrent_refund_requests_never_refund_more_than_the_purchase(buyer, admin, api):
    b = buyer("stripe")

    def ask(i: int) -> Any:
        return b.ask({"credits": "30", "reason": f"burst {i}"}, token=admin, key=f"burst-{i}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(ask, range(10)))
    started = [r.body["refund_id"] for r in replies if r.status == 202]
    assert started and all(r.status in (202, 422) for r in replies), replies
    finished = [b.finished(rid) for rid in started]
    succeeded = [r for r in finished if r["status"] == "succeeded"]
    assert len(succeeded) == 3  # 3 x 30 of 100 credits; the rest find them already refunded
    assert all(r["failure_reason"] == "already_refunded" for r in finished if r["status"] == "failed")
    purchase = b.purchase_now()
    assert purchase["credits_clawed_back"] == "90" and purchase["refunded_amount"] == 900
    assert b.balance() == "10"
    b.reconciled()


def test_a_refund_racing_a_hundred_debits_never_takes_the_wallet_below_zero(buyer, admin, api):
    b = buyer("stripe")
    feature = "refund-race"
    assert api.put(f"/v1/admin/features/{feature}", token=admin, body={
        "name": feature, "pricing": {"type": "per_call", "credits": "1"}}).status == 200
    asked = b.ask({"reason": "race"}, token=admin).body  # all 100 credits

    def spend(i: int) -> int:
        return api.post("/v1/usage", token=b.token, body={"feature": feature},
                        headers={"Idempotency-Key": f"race-{i}"}).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(spend, range(100)))
    assert set(statuses) <= {201, 402}, statuses
    done = b.finished(asked["refund_id"])
    spent = statuses.count(201)
    if done["status"] == "succeeded":
        assert spent == 0  # the claw-back took all 100 first: every debit after it was refused
    else:
        assert done["failure_reason"] == "credits_used" and spent > 0
    balance = int(b.balance())
    refunded = 100 if done["status"] == "succeeded" else 0
    assert balance == 100 - spent - refunded >= 0
    b.reconciled()
