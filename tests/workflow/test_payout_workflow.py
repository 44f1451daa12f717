"""Paying developers out, end to end: earnings from real debits through the stream, a payout
asked for over HTTP, and ``statemachines/payout.asl.json`` run by moto with the real step
handlers against localstripe's Connect shim and the fake Paystack.

After every test, for its developer: ``earned = pending + available + in_payout + paid``, the
earnings log sums to the balance, and ``paid`` equals what the fake gateway really sent.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.support import assert_earnings_invariant, earnings_state
from tests.workflow.conftest import terminal, wait_for

CALL_CREDITS = 10
SHARE_BPS = 5000  # 5 credits a call
RATES = {"earnings_hold_days": 0, "payout_rates": {"USD": "2", "NGN": "150"},
         "payout_minimums": {"USD": 10, "NGN": 1000}}
_developers = itertools.count(1)


@pytest.fixture(scope="module")
def admin(stack) -> str:
    return stack.signer.token("admin", ["admin", "user"])


@pytest.fixture(scope="module")
def payer(stack, api, admin) -> str:
    """alice, funded, and the payout settings in place."""
    settings = api.get("/v1/admin/settings", token=admin).body
    settings.pop("updated_at", None)
    assert api.put("/v1/admin/settings", token=admin, body={**settings, **RATES}).status == 200
    reply = api.post("/v1/admin/wallets/user:alice/adjustments", token=admin,
                     body={"amount": "1000000", "reason": "workflow tests"}, headers={"Idempotency-Key": "fund-alice"})
    assert reply.status == 201, reply
    return stack.signer.token("alice", ["user"])


class Developer:
    def __init__(self, stack, api, admin: str, payer: str, calls: int) -> None:
        number = next(_developers)
        self.id = f"dev-{number}"
        self.account_number = f"9{number:09d}"  # a bank account of their own (a recipient of their own)
        self.api, self.stack = api, stack
        self.token = stack.signer.token(self.id, ["user", "developer"])
        feature = f"feature-{self.id}"
        reply = api.put(f"/v1/admin/features/{feature}", token=admin, body={
            "name": feature, "pricing": {"type": "per_call", "credits": str(CALL_CREDITS)},
            "developer_id": self.id, "revenue_share_bps": SHARE_BPS})
        assert reply.status == 200, reply
        for i in range(calls):
            spent = api.post("/v1/usage", token=payer, body={"feature": feature},
                             headers={"Idempotency-Key": f"{self.id}-{i}"})
            assert spent.status == 201, spent
        self.earned_mc = calls * CALL_CREDITS * 1000 * SHARE_BPS // 10_000
        wait_for(f"{self.id}'s earnings to accrue",
                 lambda: earnings_state(self.id)["earned"] == self.earned_mc or None)

    def connect(self, gateway: str) -> dict[str, Any]:
        self.gateway = gateway
        if gateway == "paystack":
            reply = self.api.put("/v1/developers/me/payout-account", token=self.token, body={
                "gateway": "paystack", "bank_code": "058", "account_number": self.account_number,
                "account_name": self.id})
            assert (reply.status, reply.body["status"]) == (200, "active"), reply
            return reply.body
        reply = self.api.put("/v1/developers/me/payout-account", token=self.token, body={"gateway": "stripe"})
        assert (reply.status, reply.body["status"]) == (200, "onboarding"), reply
        with urllib.request.urlopen(reply.body["onboarding_url"], timeout=10) as page:  # the hosted onboarding
            assert page.status == 200
        active = self.api.get("/v1/developers/me/payout-account", token=self.token).body
        assert active["status"] == "active", active
        return active

    def pay_out(self, key: str = "payout-1", **body: Any) -> dict[str, Any]:
        reply = self.api.post("/v1/payouts", token=self.token, body=body, headers={"Idempotency-Key": key})
        assert reply.status == 202, reply
        return reply.body

    def finished(self, payout_id: str) -> dict[str, Any]:
        return wait_for(f"payout {payout_id} to finish", terminal(self.api, self.token, payout_id), timeout_s=90)

    def earnings(self) -> dict[str, str]:
        return self.api.get("/v1/developers/me/earnings", token=self.token).body


@pytest.fixture
def developer(stack, api, admin, payer):
    made: list[Developer] = []

    def make(calls: int = 4) -> Developer:
        made.append(Developer(stack, api, admin, payer, calls))
        return made[-1]

    yield make
    for dev in made:  # the invariants, whatever the test did
        assert_earnings_invariant(dev.id)
        assert_paid_is_what_the_gateway_sent(stack, api, dev)


def assert_paid_is_what_the_gateway_sent(stack, api, dev: Developer) -> None:
    """``paid`` is the credits of the paid payouts, whose amounts are exactly what the fake
    gateway transferred successfully (and not reversed)."""
    payouts = api.get("/v1/payouts?limit=100", token=dev.token).body["data"]
    paid = [p for p in payouts if p["status"] == "paid"]
    assert earnings_state(dev.id)["paid"] == sum(credits_mc(p["credits"]) for p in paid)
    gateway = getattr(dev, "gateway", None)
    if gateway == "stripe":
        sent = sum(t["amount"] for t in stripe_transfers(stack, account_id(stack, dev)) if not t.get("reversed"))
    elif gateway == "paystack":
        recipient = account_recipient(dev)
        sent = sum(t["amount"] for t in paystack_transfers(stack, recipient) if t["status"] == "success")
    else:
        sent = 0
    assert sent == sum(p["amount"] for p in paid), (sent, paid)


def account_recipient(dev: Developer) -> str:
    from tollgate.payouts import repository

    return repository.get_account(dev.id).account_id


# -- what the fake gateways really sent ------------------------------------------------------

def stripe_transfers(stack, destination: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.stripe_url}/_tollgate/transfers", timeout=10) as response:
        listed = json.loads(response.read())
    return [t for t in listed["data"] if t["destination"] == destination]


def stripe_control(stack, path: str, **form: Any) -> None:
    request = urllib.request.Request(f"{stack.stripe_url}{path}", data=json.dumps(form).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def paystack_transfers(stack, recipient: str) -> list[dict[str, Any]]:
    return [t for t in stack.paystack.transfers() if t["recipient"]["recipient_code"] == recipient]


def credits_mc(text: str) -> int:
    return int(Decimal(text) * 1000)


def assert_paid_matches_the_gateway(dev: Developer, sent_minor_units: int, rate: str) -> None:
    """paid (credits) converts to exactly what the gateway sent."""
    paid = earnings_state(dev.id)["paid"]
    assert paid * int(Decimal(rate) * 1000) // 1_000_000 == sent_minor_units


# -- Stripe Connect ----------------------------------------------------------------------------

def test_stripe_payout_reserves_transfers_and_marks_paid(stack, developer):
    dev = developer()
    account = dev.connect("stripe")
    payout = dev.pay_out()
    assert (payout["credits"], payout["amount"], payout["currency"]) == ("20", 40, "USD")
    done = dev.finished(payout["payout_id"])
    assert done["status"] == "paid", done
    assert [s["name"] for s in done["steps"]] == ["request", "reserve", "transfer", "mark_paid"]
    sent = stripe_transfers(stack, account_id(stack, dev))
    assert [(t["amount"], t["currency"], t["transfer_group"]) for t in sent] == [(40, "usd", payout["payout_id"])]
    state = earnings_state(dev.id)
    assert (state["available"], state["in_payout"], state["paid"]) == (0, 0, dev.earned_mc)
    assert_paid_matches_the_gateway(dev, sum(t["amount"] for t in sent), "2")
    assert account["gateway"] == "stripe"


def account_id(stack, dev: Developer) -> str:
    from tollgate.payouts import repository

    return repository.get_account(dev.id).account_id


def test_a_transient_transfer_failure_is_retried_by_the_workflow_and_pays_once(stack, developer):
    dev = developer()
    account = dev.connect("paystack")  # the Paystack client does not retry by itself: the workflow's Retry must
    stack.paystack.fail_next_transfers(503, 2)
    done = dev.finished(dev.pay_out()["payout_id"])
    assert done["status"] == "paid", done
    sent = paystack_transfers(stack, account["recipient_code"])
    assert len(sent) == 1
    assert_paid_matches_the_gateway(dev, sent[0]["amount"], "150")


def test_a_permanent_transfer_failure_gives_the_earnings_back(stack, developer):
    dev = developer()
    dev.connect("stripe")
    stripe_control(stack, "/_tollgate/transfers/fail", status=400, count=1)
    done = dev.finished(dev.pay_out()["payout_id"])
    assert done["status"] == "failed", done
    assert done["failure"] and "compensate" in [s["name"] for s in done["steps"]]
    assert stripe_transfers(stack, account_id(stack, dev)) == []
    state = earnings_state(dev.id)
    assert (state["available"], state["in_payout"], state["paid"]) == (dev.earned_mc, 0, 0)
    # The earnings can be paid out again.
    again = dev.finished(dev.pay_out(key="payout-2")["payout_id"])
    assert again["status"] == "paid"


def test_a_reversal_after_payment_makes_the_earnings_available_again(stack, developer):
    dev = developer()
    dev.connect("stripe")
    payout_id = dev.pay_out()["payout_id"]
    assert dev.finished(payout_id)["status"] == "paid"
    transfer = stripe_transfers(stack, account_id(stack, dev))[0]
    stripe_control(stack, f"/_tollgate/transfers/{transfer['id']}/reverse")
    reversed_ = wait_for("the reversal", lambda: (
        p := dev.api.get(f"/v1/payouts/{payout_id}", token=dev.token).body)["status"] == "reversed" and p)
    assert "reversal" in [s["name"] for s in reversed_["steps"]]
    state = earnings_state(dev.id)
    assert (state["available"], state["paid"]) == (dev.earned_mc, 0)


# -- Paystack ----------------------------------------------------------------------------------

def test_paystack_payout_waits_for_the_transfer_webhook(stack, developer):
    dev = developer()
    account = dev.connect("paystack")
    stack.paystack.transfer_outcome("success")
    payout = dev.pay_out()
    assert (payout["amount"], payout["currency"]) == (3000, "NGN")  # 20 credits x 150 kobo
    done = dev.finished(payout["payout_id"])
    assert done["status"] == "paid", done
    sent = paystack_transfers(stack, account["recipient_code"])
    assert [(t["amount"], t["status"]) for t in sent] == [(3000, "success")]
    assert_paid_matches_the_gateway(dev, 3000, "150")

    # The same webhook delivered again changes nothing.
    before = earnings_state(dev.id)
    stack.paystack.send_transfer_webhook(sent[0]["reference"], "transfer.success")
    assert earnings_state(dev.id) == before
    assert dev.api.get(f"/v1/payouts/{payout['payout_id']}", token=dev.token).body["status"] == "paid"


def test_a_failed_paystack_transfer_gives_the_earnings_back(stack, developer):
    dev = developer()
    dev.connect("paystack")
    stack.paystack.transfer_outcome("failed")
    try:
        done = dev.finished(dev.pay_out()["payout_id"])
    finally:
        stack.paystack.transfer_outcome("success")
    assert done["status"] == "failed", done
    state = earnings_state(dev.id)
    assert (state["available"], state["in_payout"], state["paid"]) == (dev.earned_mc, 0, 0)


def test_a_lost_webhook_is_found_by_verifying_the_reference(stack, developer):
    dev = developer()
    account = dev.connect("paystack")
    stack.paystack.transfer_outcome("none")
    try:
        payout_id = dev.pay_out()["payout_id"]
        sent = wait_for("the transfer", lambda: paystack_transfers(stack, account["recipient_code"]))
        wait_for("the wait to time out into a verify", lambda: "verify" in {
            s["name"] for s in dev.api.get(f"/v1/payouts/{payout_id}", token=dev.token).body["steps"]})
        stack.paystack.settle_transfer(sent[0]["reference"], "transfer.success")  # and its webhook is lost
        done = dev.finished(payout_id)
    finally:
        stack.paystack.transfer_outcome("success")
    assert done["status"] == "paid", done
    assert len(paystack_transfers(stack, account["recipient_code"])) == 1


def test_a_crash_after_the_transfer_then_re_run_steps_pay_exactly_once(stack, developer):
    dev = developer()
    account = dev.connect("paystack")
    # Paystack creates the transfer but its answer never arrives: to the step, a crash after
    # the call. The retry must verify the reference and adopt the transfer, not send another.
    stack.paystack.fail_next_transfers(500, 1, after_creating=True)
    payout_id = dev.pay_out()["payout_id"]
    assert dev.finished(payout_id)["status"] == "paid"
    steps = stack.registry.get("PayoutStepsFunction")
    before = earnings_state(dev.id)
    for step in ("reserve", "transfer", "mark_paid"):  # each step run again after the fact
        steps.invoke({"step": step, "payout_id": payout_id})
    assert earnings_state(dev.id) == before
    sent = paystack_transfers(stack, account["recipient_code"])
    assert len(sent) == 1
    assert_paid_matches_the_gateway(dev, sent[0]["amount"], "150")


# -- one payout at a time, and the weekly run ------------------------------------------------

def test_concurrent_payout_requests_make_one_payout(stack, api, developer):
    dev = developer()
    account = dev.connect("paystack")
    stack.paystack.transfer_outcome("none")  # the payout stays in flight through the burst

    def ask(i: int):
        return api.post("/v1/payouts", token=dev.token, body={}, headers={"Idempotency-Key": f"burst-{i % 2}"})

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            replies = list(pool.map(ask, range(20)))
        accepted = {r.body["payout_id"] for r in replies if r.status == 202}
        assert len(accepted) == 1, [(r.status, r.body) for r in replies]
        assert all(r.status == 202 or (r.status, r.error_code) == (409, "payout_in_progress") for r in replies), \
            [(r.status, r.error_code) for r in replies]
        payout_id = accepted.pop()
        sent = wait_for("the transfer", lambda: paystack_transfers(stack, account["recipient_code"]))
        stack.paystack.send_transfer_webhook(sent[0]["reference"], "transfer.success")
        assert dev.finished(payout_id)["status"] == "paid"
    finally:
        stack.paystack.transfer_outcome("success")
    assert len(paystack_transfers(stack, account["recipient_code"])) == 1
    assert earnings_state(dev.id)["paid"] == dev.earned_mc  # never more than earned


def test_the_weekly_run_pays_each_auto_developer_once_a_week(stack, api, developer):
    dev = developer()
    dev.connect("paystack")
    manual = developer()
    manual.connect("paystack")  # auto off: not paid by the run
    assert api.put("/v1/developers/me/payout-settings", token=dev.token, body={"auto": True}).body == {"auto": True}
    run = stack.registry.get("PayoutRunFunction")
    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-30T06:00:00Z",
             "detail": {}}
    first = run.invoke(event)
    payouts = api.get("/v1/payouts", token=dev.token).body["data"]
    assert len(payouts) == 1 and payouts[0]["developer_id"] == dev.id
    dev.finished(payouts[0]["payout_id"])
    second = run.invoke(event)  # the schedule's retry: nothing new
    assert first["started"] >= 1 and second["started"] == 0 and second["already"] >= 1, (first, second)
    payouts = api.get("/v1/payouts", token=dev.token).body["data"]
    assert len(payouts) == 1 and payouts[0]["developer_id"] == dev.id
    assert dev.finished(payouts[0]["payout_id"])["status"] == "paid"
    assert api.get("/v1/payouts", token=manual.token).body["data"] == []


def test_earnings_accrue_exactly_once_under_concurrent_debits(stack, api, admin, payer, developer):
    dev = developer(calls=0)
    feature = f"feature-{dev.id}"

    def spend(i: int):
        return api.post("/v1/usage", token=payer, body={"feature": feature}, headers={"Idempotency-Key": f"c-{i}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [r.status for r in pool.map(spend, range(200))]
    assert statuses == [201] * 200
    expected = 200 * CALL_CREDITS * 1000 * SHARE_BPS // 10_000
    wait_for("200 earnings", lambda: earnings_state(dev.id)["earned"] == expected or None)
    assert dev.earnings()["earned"] == str(expected // 1000)
