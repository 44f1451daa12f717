"""Payout accounts and payout requests through the real payouts handler (gateways and the
workflow engine faked; the workflow itself runs in the workflow tier)."""

from __future__ import annotations

import pytest

from tests.functional.developers import CAROL, SHARE_MC, deliver, earning_records, spend
from tests.functional.fake_payouts import FakePayoutGateway, RecordingEngine
from tests.support import (
    ADMIN,
    ALICE,
    Caller,
    advance_clock,
    assert_earnings_invariant,
    earnings_state,
    invoke,
    set_payout_gateway,
    set_workflow_engine,
)
from tollgate import clock

DAVE = Caller("dev-dave", roles=("user", "developer"))
PAYSTACK_ACCOUNT = {"gateway": "paystack", "bank_code": "058", "account_number": "0123456789",
                    "account_name": "Carol Okafor"}
RATES = {"earnings_hold_days": 0, "payout_rates": {"USD": "0.8", "NGN": "12.5"},
         "payout_minimums": {"USD": 100, "NGN": 500}}


@pytest.fixture
def fakes(aws):
    gateways = {name: FakePayoutGateway(name) for name in ("stripe", "paystack")}
    for name, fake in gateways.items():
        set_payout_gateway(name, fake)
    engine = RecordingEngine()
    set_workflow_engine(engine)
    yield gateways, engine
    # After every test: each developer's paid credits are their paid payouts', whose amounts
    # are what the fake gateways transferred successfully.
    paid = [p for p in payout_items() if p.status == "paid"]
    for developer in (CAROL.sub, DAVE.sub):
        state = assert_earnings_invariant(developer)
        assert state["paid"] == sum(p.credits_mc for p in paid if p.developer_id == developer)
    sent = sum(t.amount for fake in gateways.values() for t in fake.transfers.values() if t.status == "succeeded")
    assert sent == sum(p.amount for p in paid)
    for name in gateways:
        set_payout_gateway(name, None)
    set_workflow_engine(None)


@pytest.fixture
def earned(aws, developer_catalog, fund, fakes):
    """dev-carol has earned 20 calls' share, available now (hold 0), with payout rates set."""
    body = {**invoke("admin_get_settings.json", caller=ADMIN).body, **RATES}
    body.pop("updated_at", None)
    assert invoke("admin_put_settings.json", caller=ADMIN, body=body).status == 200
    fund("user:alice", "1000")
    for i in range(20):
        spend(ALICE, "summarize", f"a-{i}")
    deliver(earning_records(aws))
    return 20 * SHARE_MC


def connect(caller: Caller = CAROL, body: dict | None = None):
    return invoke("payouts_put_payout_account.json", caller=caller, body=PAYSTACK_ACCOUNT if body is None else body)


def request(caller: Caller = CAROL, body: dict | None = None, key: str | None = "po-1"):
    headers = {"idempotency-key": key} if key else None
    return invoke("payouts_post_payout.json", caller=caller, body={} if body is None else body, headers=headers,
                  drop_headers=() if key else ("idempotency-key",))


def payout_items() -> list:
    from tollgate.payouts.models import PayoutItem

    return list(PayoutItem.scan())


def test_a_developer_connects_a_paystack_account(fakes):
    reply = connect()
    assert reply.status == 200, reply
    assert reply.body == {"gateway": "paystack", "status": "active", "currency": "NGN", "onboarding_url": None,
                          "recipient_code": "RCP_dev-carol", "details": {"bank_name": "Bank 058",
                                                                          "account_last4": "6789"},
                          "auto": False}
    assert invoke("payouts_get_payout_account.json", caller=CAROL).body["recipient_code"] == "RCP_dev-carol"


def test_a_stripe_account_onboards_then_becomes_active(fakes):
    gateways, _ = fakes
    reply = connect(body={"gateway": "stripe"})
    assert (reply.status, reply.body["status"]) == (200, "onboarding"), reply
    assert reply.body["onboarding_url"] == "https://connect.example/acct_dev-carol"
    assert invoke("payouts_get_payout_account.json", caller=CAROL).body["status"] == "onboarding"
    gateways["stripe"].enabled.add("acct_dev-carol")
    got = invoke("payouts_get_payout_account.json", caller=CAROL).body
    assert (got["status"], got["onboarding_url"]) == ("active", None)
    assert connect(body={"gateway": "stripe"}).body["status"] == "active"
    assert len(gateways["stripe"].opened) == 1  # the same account, not a new one per PUT


@pytest.mark.parametrize("body", [
    {"gateway": "paystack", "bank_code": "05", "account_number": "0123456789", "account_name": "C"},
    {"gateway": "paystack", "bank_code": "058", "account_number": "012345678", "account_name": "C"},
    {"gateway": "paystack", "bank_code": "058", "account_number": "01234567890", "account_name": "C"},
    {"gateway": "paystack", "bank_code": "058", "account_number": "0123456789"},
    {"gateway": "paystack", "bank_code": "058", "account_number": "0123456789", "account_name": ""},
    {"gateway": "stripe", "bank_code": "058"},
    {"gateway": "paypal"},
    {},
])
def test_a_bad_payout_account_is_refused_and_nothing_is_stored(fakes, body):
    reply = connect(body=body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert invoke("payouts_get_payout_account.json", caller=CAROL).status == 404
    assert fakes[0]["paystack"].opened == []


def test_an_account_the_gateway_refuses_is_a_422(fakes):
    fakes[0]["paystack"].fail_open = True
    reply = connect()
    assert (reply.status, reply.error_code, reply.body["error"]["field"]) == (422, "validation_error",
                                                                              "account_number")
    assert invoke("payouts_get_payout_account.json", caller=CAROL).status == 404


def test_only_developers_have_payout_accounts_and_payouts(fakes):
    for sample, body in (("payouts_put_payout_account.json", PAYSTACK_ACCOUNT),
                         ("payouts_get_payout_account.json", ...), ("payouts_post_payout.json", {}),
                         ("payouts_list_payouts.json", ...), ("payouts_put_payout_settings.json", {"auto": True})):
        reply = invoke(sample, caller=ALICE, body=body)
        assert (reply.status, reply.error_code) == (403, "forbidden"), (sample, reply)
    assert payout_items() == []


def test_a_payout_is_recorded_once_and_its_workflow_started(earned, fakes):
    _, engine = fakes
    connect()
    reply = request()
    assert reply.status == 202, reply
    body = reply.body
    # 20 x 2.592 credits = 51.84 credits at 12.5 kobo a credit = floor(648) kobo.
    assert (body["status"], body["credits"], body["amount"], body["currency"], body["gateway"]) == \
        ("requested", "51.84", 648, "NGN", "paystack")
    assert engine.started == [body["payout_id"]]
    assert [s["name"] for s in body["steps"]] == ["request"]
    state = assert_earnings_invariant("dev-carol")
    assert state["available"] == earned  # Reserve (the workflow's first step) moves it

    again = request()
    assert (again.status, again.body["payout_id"]) == (202, body["payout_id"])
    assert len(payout_items()) == 1
    other = request(key="po-2")
    assert (other.status, other.error_code) == (409, "payout_in_progress")
    changed = request(body={"credits": "1"})
    assert (changed.status, changed.error_code) == (409, "idempotency_conflict")
    assert len(payout_items()) == 1

    listed = invoke("payouts_list_payouts.json", caller=CAROL).body["data"]
    assert [p["payout_id"] for p in listed] == [body["payout_id"]]
    one = invoke("payouts_get_payout.json", caller=CAROL, path=f"/v1/payouts/{body['payout_id']}",
                 path_params={"payout_id": body["payout_id"]})
    assert one.status == 200 and one.body["payout_id"] == body["payout_id"]


def test_foreign_and_unknown_payouts_are_not_found(earned, fakes):
    connect()
    payout_id = request().body["payout_id"]
    for caller in (DAVE,):
        reply = invoke("payouts_get_payout.json", caller=caller, path=f"/v1/payouts/{payout_id}",
                       path_params={"payout_id": payout_id})
        assert (reply.status, reply.error_code) == (404, "not_found")
    missing = invoke("payouts_get_payout.json", caller=CAROL, path="/v1/payouts/po_nope",
                     path_params={"payout_id": "po_nope"})
    assert missing.status == 404
    admin = invoke("payouts_get_payout.json", caller=ADMIN, path=f"/v1/payouts/{payout_id}",
                   path_params={"payout_id": payout_id})
    assert admin.status == 200
    assert invoke("payouts_list_payouts.json", caller=DAVE).body["data"] == []
    everyone = invoke("payouts_list_payouts.json", caller=ADMIN, query={"status": "requested"}).body["data"]
    assert [p["payout_id"] for p in everyone] == [payout_id]
    assert invoke("payouts_list_payouts.json", caller=ADMIN, query={"status": "paid"}).body["data"] == []
    foreign = invoke("payouts_list_payouts.json", caller=DAVE, query={"developer_id": "dev-carol"})
    assert (foreign.status, foreign.error_code) == (403, "forbidden")


@pytest.mark.parametrize(("body", "code"), [
    ({"credits": "0"}, "validation_error"), ({"credits": "-1"}, "validation_error"),
    ({"credits": "100000"}, "validation_error"), ({"credits": "0.001"}, "validation_error"),
    ({"credits": 1.5}, "validation_error"), ({"amount": 5}, "validation_error"),
])
def test_bad_payout_requests_change_nothing(earned, fakes, body, code):
    connect()
    before = earnings_state("dev-carol")
    reply = request(body=body)
    assert (reply.status, reply.error_code) == (422, code), reply
    assert earnings_state("dev-carol") == before
    assert payout_items() == [] and fakes[1].started == []


def test_below_the_minimum_is_a_422_naming_it(earned, fakes):
    connect()
    reply = request(body={"credits": "30"})  # 30 credits x 12.5 = 375 kobo < 500
    assert (reply.status, reply.error_code) == (422, "validation_error")
    assert "500" in reply.body["error"]["message"] and reply.body["error"]["minimum"] == 500
    assert payout_items() == []


def test_no_account_no_payout(earned, fakes):
    reply = request()
    assert (reply.status, reply.error_code) == (409, "payout_account_required")
    connect(body={"gateway": "stripe"})  # still onboarding
    reply = request()
    assert (reply.status, reply.error_code) == (409, "payout_account_required")
    assert payout_items() == []


def test_nothing_available_is_a_422(aws, fakes):
    connect()
    body = {**invoke("admin_get_settings.json", caller=ADMIN).body, **RATES}
    body.pop("updated_at", None)
    invoke("admin_put_settings.json", caller=ADMIN, body=body)
    reply = request()
    assert (reply.status, reply.error_code) == (422, "validation_error")


def test_without_a_rate_for_the_currency_payouts_are_unavailable(aws, developer_catalog, fund, fakes):
    connect()
    fund("user:alice", "100")
    spend(ALICE, "summarize", "a-0")
    deliver(earning_records(aws))
    reply = request()
    assert (reply.status, reply.error_code) == (503, "payouts_unavailable")


def test_the_account_cannot_change_while_a_payout_is_in_flight(earned, fakes):
    connect()
    request()
    for reply in (connect(body={"gateway": "stripe"}), invoke("payouts_delete_payout_account.json", caller=CAROL)):
        assert (reply.status, reply.error_code) == (409, "payout_in_progress"), reply


def test_payout_settings_need_an_account(fakes):
    reply = invoke("payouts_put_payout_settings.json", caller=CAROL, body={"auto": True})
    assert (reply.status, reply.error_code) == (409, "payout_account_required")
    connect()
    assert invoke("payouts_put_payout_settings.json", caller=CAROL, body={"auto": True}).body == {"auto": True}
    assert invoke("payouts_get_payout_settings.json", caller=CAROL).body == {"auto": True}
    assert invoke("payouts_get_payout_account.json", caller=CAROL).body["auto"] is True
    assert invoke("payouts_delete_payout_account.json", caller=CAROL).status == 204
    assert invoke("payouts_get_payout_settings.json", caller=CAROL).body == {"auto": False}
    assert invoke("payouts_delete_payout_account.json", caller=CAROL).status == 404


# -- the workflow's steps around a Paystack webhook (the workflow tier runs them in order) ------

def reserved_and_transferred(payout_id: str) -> dict:
    from tollgate.payouts import workflow

    workflow.reserve(payout_id)
    return workflow.transfer(payout_id)


def test_a_webhook_before_the_wait_is_answered_by_the_waiting_step(earned, fakes):
    from tollgate.gateways import GatewayEvent
    from tollgate.payouts import repository, transfers, workflow

    _, engine = fakes
    connect()
    payout_id = request().body["payout_id"]
    assert reserved_and_transferred(payout_id)["transfer_status"] == "pending"
    payout = repository.get_payout(payout_id)
    event = GatewayEvent(event_id="e1", kind="transfer_succeeded", raw_type="transfer.success",
                         transfer_reference=payout.reference)
    assert transfers.handle("paystack", event) == "transfer_confirmed"
    assert engine.answers == []  # nobody waits yet
    workflow.await_confirmation(payout_id, "token-1")
    assert [(kind, token) for kind, token, _ in engine.answers] == [("succeed", "token-1")]


def test_a_webhook_after_the_wait_answers_the_token_and_a_failure_fails_it(earned, fakes):
    from tollgate.gateways import GatewayEvent
    from tollgate.payouts import repository, transfers, workflow

    _, engine = fakes
    connect()
    payout_id = request().body["payout_id"]
    reserved_and_transferred(payout_id)
    workflow.await_confirmation(payout_id, "token-2")
    assert engine.answers == []
    reference = repository.get_payout(payout_id).reference
    failed = GatewayEvent(event_id="e2", kind="transfer_failed", raw_type="transfer.failed",
                          transfer_reference=reference, failure="Account closed")
    assert transfers.handle("paystack", failed) == "transfer_failed"
    assert engine.answers == [("fail", "token-2", workflow.TRANSFER_FAILED)]
    # The workflow's Catch runs Compensate: the earnings are available again.
    workflow.compensate(payout_id, "TransferFailed: Account closed")
    state = assert_earnings_invariant("dev-carol")
    assert (state["available"], state["in_payout"]) == (earned, 0)
    assert repository.get_payout(payout_id).status == "failed"
    unknown = GatewayEvent(event_id="e3", kind="transfer_succeeded", raw_type="transfer.success",
                           transfer_reference="tollgate-payout-unknown")
    assert transfers.handle("paystack", unknown) == "unknown_payout"


def test_a_payouts_move_of_earnings_marks_the_developer_for_reconciliation(earned, fakes):
    """Every logged change of a developer's balance marks them, payouts' too: a developer whose only
    change on a day is a payout is checked by that day's reconciliation."""
    from tollgate.payouts import workflow
    from tollgate.reconciliation import repository as reconciliation

    advance_clock(86_400_000)  # a day without earnings
    day = clock.iso(clock.now_ms())[:10]
    assert "dev-carol" not in reconciliation.changed(day)[1]
    connect()
    reply = request()
    assert reply.status == 202, reply
    workflow.reserve(reply.body["payout_id"])  # available -> in_payout
    assert "dev-carol" in reconciliation.changed(day)[1]
    assert_earnings_invariant("dev-carol")
