"""Refunds through the real checkout and admin handlers: eligibility, requests (auto-approved
or waiting for an admin), decisions, listing, and refused input. Gateways and the workflow
engine are faked; nothing moves until the workflow's ClawBack (the workflow tier runs it), so
every request here leaves the ledger as it was."""

from __future__ import annotations

import pytest

from tests.functional.fake_gateway import FakeGateway
from tests.functional.fake_payouts import RecordingEngine
from tests.functional.fake_refunds import (
    DAY_MS,
    ODD,
    ask,
    buy,
    checkout,
    decide,
    eligibility,
    get_refund,
    pay,
    put_settings,
    refund_items,
    snapshot,
)
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    SERVICE,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    set_gateway,
    set_workflow_engine,
)
from tollgate import clock
from tollgate.gateways import PaymentStatus

WALLET = ALICE.wallet_id


@pytest.fixture
def engine(aws):
    recording = RecordingEngine()
    set_workflow_engine(recording)
    try:
        yield recording
        # After every test: no wallet's ledger drifted from its balance.
        from tollgate.ledger import posting

        for caller in (ALICE, BOB, ADMIN):
            if posting.read_wallet(caller.wallet_id).exists:
                assert_ledger_invariant(caller.wallet_id)
    finally:
        set_workflow_engine(None)


@pytest.fixture
def shop(aws, engine):
    fakes = {name: FakeGateway(name) for name in ("stripe", "paystack")}
    for name, fake in fakes.items():
        set_gateway(name, fake)
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 cents
    assert invoke("admin_put_package.json", caller=ADMIN, body=ODD, path="/v1/admin/packages/odd",
                  path_params={"package_id": "odd"}).status == 200
    assert invoke("admin_put_settings.json", caller=ADMIN).status == 200  # refund settings at their defaults
    yield fakes
    for name in fakes:
        set_gateway(name, None)


def spend(amount: str, key: str, wallet: str = WALLET) -> None:
    """An admin's negative adjustment: ``amount`` credits leave the wallet."""
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": f"-{amount}", "reason": "spent"},
                   headers={"idempotency-key": key}, path=f"/v1/admin/wallets/{wallet}/adjustments",
                   path_params={"wallet_id": wallet})
    assert reply.status == 201, reply


def use(feature: str, key: str) -> None:
    """POST /v1/usage through the deduction function, as alice."""
    reply = invoke("deduction_post_usage.json", body={"feature": feature}, headers={"idempotency-key": key})
    assert reply.status == 201, reply


def window_end(purchase: dict, days: int = 14) -> str:
    return clock.iso(clock.parse_rfc3339(purchase["paid_at"]) + days * DAY_MS)


# -- eligibility ----------------------------------------------------------------------------


def test_a_fresh_paid_purchase_is_refundable_in_full(shop):
    settings = invoke("admin_get_settings.json", caller=ADMIN).body
    assert (settings["refund_window_days"], settings["refund_auto_approve_credits"]) == (14, "100")
    purchase = buy()
    reply = eligibility(purchase["purchase_id"])
    assert reply.status == 200, reply
    assert reply.body == {"eligible": True, "refundable_credits": "100", "refundable_amount": 1000,
                          "currency": "USD", "reasons": [], "window_ends_at": window_end(purchase)}
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000


def test_a_paystack_purchase_is_refundable_in_kobo(shop):
    started = checkout(gateway="paystack", currency="NGN")
    reference = started["reference"]
    shop["paystack"].verified[reference] = PaymentStatus(reference=reference, succeeded=True, status="success",
                                                         amount=1_500_000, currency="NGN")
    purchase = pay(started)
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["refundable_credits"], body["refundable_amount"], body["currency"]) == \
        (True, "100", 1_500_000, "NGN")


def test_credits_spent_through_usage_are_not_refundable(shop, catalog):
    purchase = buy()
    use("ai-insight", "u-1")  # 9 credits
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["refundable_credits"], body["refundable_amount"], body["reasons"]) == \
        (True, "91", 910, [])
    assert assert_ledger_invariant(WALLET)["balance"] == 91_000


def test_refundable_is_the_smaller_of_unrefunded_and_available_and_money_rounds_down(shop, fund):
    purchase = buy("odd")  # 7 credits for 1000 cents
    spend("2.5", "s-1")  # 4.5 credits left: floor(1000 x 4500 / 7000) = floor(642.86)
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["refundable_credits"], body["refundable_amount"]) == (True, "4.5", 642)
    spend("1.001", "s-2")  # 3.499 left: floor(1000 x 3499 / 7000) = floor(499.857)
    body = eligibility(purchase["purchase_id"]).body
    assert (body["refundable_credits"], body["refundable_amount"]) == ("3.499", 499)
    fund(WALLET, "50")  # more available than the purchase had: only the purchase's credits come back
    body = eligibility(purchase["purchase_id"]).body
    assert (body["refundable_credits"], body["refundable_amount"]) == ("7", 1000)
    assert assert_ledger_invariant(WALLET)["balance"] == 53_499


def test_everything_spent_is_credits_used(shop):
    purchase = buy()
    spend("100", "s-all")
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["reasons"], body["refundable_credits"], body["refundable_amount"]) == \
        (False, ["credits_used"], "0", 0)


def test_a_pending_purchase_is_not_paid(shop):
    purchase = checkout()
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["reasons"], body["refundable_credits"], body["refundable_amount"]) == \
        (False, ["not_paid"], "0", 0)
    assert body["window_ends_at"] is None


def test_the_window_closes_refund_window_days_after_payment(shop):
    purchase = buy()
    advance_clock(14 * DAY_MS - 60_000)  # a minute before the window ends
    assert eligibility(purchase["purchase_id"]).body["eligible"] is True
    advance_clock(60_001)
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["reasons"], body["window_ends_at"]) == \
        (False, ["window_expired"], window_end(purchase))


def test_a_zero_day_window_closes_at_once(shop):
    purchase = buy()
    put_settings(refund_window_days=0)
    advance_clock(1)
    body = eligibility(purchase["purchase_id"]).body
    assert (body["eligible"], body["reasons"]) == (False, ["window_expired"])
    put_settings(refund_window_days=30)  # the setting is read per request
    assert eligibility(purchase["purchase_id"]).body["window_ends_at"] == window_end(purchase, 30)


def test_someone_elses_purchase_is_not_found_but_admins_read_any(shop):
    purchase = buy()
    for purchase_id in (purchase["purchase_id"], "pur_nope", "nope"):
        reply = eligibility(purchase_id, caller=BOB)
        assert (reply.status, reply.error_code) == (404, "not_found"), (purchase_id, reply)
    admin = eligibility(purchase["purchase_id"], caller=ADMIN)
    assert (admin.status, admin.body["refundable_credits"]) == (200, "100")


# -- requests -----------------------------------------------------------------------------


def test_a_small_refund_is_approved_and_its_workflow_started_once(shop, engine):
    purchase = buy()
    purchase_id = purchase["purchase_id"]
    before = ledger_state(WALLET)
    reply = ask(purchase_id, {"credits": "40", "reason": "bought too many"})
    assert reply.status == 202, reply
    refund = reply.body
    assert refund["refund_id"].startswith("rf_")
    assert (refund["status"], refund["credits"], refund["amount"], refund["currency"], refund["gateway"]) == \
        ("approved", "40", 400, "USD", "stripe")
    assert (refund["purchase_id"], refund["wallet_id"], refund["reason"]) == (purchase_id, WALLET, "bought too many")
    assert (refund["requested_by"], refund["decided_by"]) == ("user:alice", "auto")
    assert [(s["name"], s["status"]) for s in refund["steps"]] == [("request", "succeeded")]
    assert engine.started == [refund["refund_id"]]
    assert engine.workflows == ["refund"]
    # Nothing moves before the workflow's ClawBack.
    assert assert_ledger_invariant(WALLET) == before
    assert get_refund(refund["refund_id"]).body == refund

    again = ask(purchase_id, {"credits": "40", "reason": "bought too many"})
    assert (again.status, again.body) == (202, refund)
    assert set(engine.started) == {refund["refund_id"]}  # at most the same execution again
    assert list(refund_items()) == [refund["refund_id"]]

    state = snapshot(engine, purchase_id)
    for changed in ({"credits": "41", "reason": "bought too many"}, {"reason": "bought too many"},
                    {"credits": "40", "reason": "something else"}):
        conflict = ask(purchase_id, changed)
        assert (conflict.status, conflict.error_code) == (409, "idempotency_conflict"), (changed, conflict)
    assert snapshot(engine, purchase_id) == state


def test_without_credits_everything_refundable_is_asked_for(shop, engine):
    purchase = buy()
    spend("30", "s-1")
    reply = ask(purchase["purchase_id"], {"reason": "all of it"})
    assert reply.status == 202, reply
    # 70 credits: at or below refund_auto_approve_credits (default 100) is approved at once.
    assert (reply.body["credits"], reply.body["amount"], reply.body["status"]) == ("70", 700, "approved")
    assert engine.started == [reply.body["refund_id"]]


def test_requests_without_an_idempotency_key_are_separate_refunds(shop, engine):
    purchase = buy()
    first = ask(purchase["purchase_id"], {"credits": "1", "reason": "x"}, key=None)
    second = ask(purchase["purchase_id"], {"credits": "1", "reason": "x"}, key=None)
    assert (first.status, second.status) == (202, 202), (first, second)
    assert first.body["refund_id"] != second.body["refund_id"]
    assert engine.started == [first.body["refund_id"], second.body["refund_id"]]


def test_exactly_the_auto_approve_limit_is_approved(shop, engine):
    purchase = buy()
    put_settings(refund_auto_approve_credits="40")
    reply = ask(purchase["purchase_id"], {"credits": "40", "reason": "x"})
    assert (reply.status, reply.body["status"]) == (202, "approved"), reply
    assert engine.started == [reply.body["refund_id"]]


def test_above_the_auto_approve_limit_a_refund_waits_for_an_admin(shop, engine):
    purchase = buy()
    assert put_settings(refund_auto_approve_credits="10")["refund_auto_approve_credits"] == "10"
    before = ledger_state(WALLET)
    reply = ask(purchase["purchase_id"], {"credits": "10.001", "reason": "too many"})
    assert reply.status == 202, reply
    assert (reply.body["status"], reply.body["decided_by"], reply.body["credits"], reply.body["amount"]) == \
        ("pending_approval", None, "10.001", 100)
    assert engine.started == []
    assert ask(purchase["purchase_id"], {"credits": "10.001", "reason": "too many"}).body == reply.body
    assert engine.started == []  # a replay of a waiting refund starts nothing either
    assert assert_ledger_invariant(WALLET) == before


def test_an_admin_asking_is_approved_whatever_the_limit(shop, engine):
    purchase = buy()
    put_settings(refund_auto_approve_credits="0")
    reply = ask(purchase["purchase_id"], {"credits": "100", "reason": "goodwill"}, caller=ADMIN, key="adm-1")
    assert reply.status == 202, reply
    assert (reply.body["status"], reply.body["requested_by"], reply.body["wallet_id"], reply.body["amount"]) == \
        ("approved", "user:root", WALLET, 1000)
    assert engine.started == [reply.body["refund_id"]]


def test_a_refund_whose_workflow_cannot_start_is_503_and_the_same_request_resumes_it(shop, engine):
    purchase = buy()
    engine.fail_start = True
    failed = ask(purchase["purchase_id"], {"credits": "5", "reason": "x"})
    assert (failed.status, failed.error_code) == (503, "try_again"), failed
    refund_id = failed.body["error"]["refund_id"]
    assert refund_items()[refund_id]["status"] == "approved"
    engine.fail_start = False
    again = ask(purchase["purchase_id"], {"credits": "5", "reason": "x"})
    assert (again.status, again.body["refund_id"], again.body["status"]) == (202, refund_id, "approved")
    assert engine.started == [refund_id]


# -- decisions ----------------------------------------------------------------------------


@pytest.fixture
def pending(shop, engine):
    """alice's purchase and a refund of 60 of its credits waiting for an admin."""
    purchase = buy()
    put_settings(refund_auto_approve_credits="10")
    reply = ask(purchase["purchase_id"], {"credits": "60", "reason": "too many"})
    assert (reply.status, reply.body["status"]) == (202, "pending_approval"), reply
    return purchase, reply.body


def test_an_admin_approves_and_the_workflow_starts(pending, engine):
    purchase, refund = pending
    before = ledger_state(WALLET)
    reply = decide(refund["refund_id"], "approve", {"note": "checked"})
    assert reply.status == 200, reply
    assert (reply.body["status"], reply.body["decided_by"], reply.body["decision_note"]) == \
        ("approved", "user:root", "checked")
    assert [(s["name"], s["status"]) for s in reply.body["steps"]] == [("request", "succeeded"),
                                                                      ("decision", "approved")]
    assert engine.started == [refund["refund_id"]] and engine.workflows == ["refund"]
    assert assert_ledger_invariant(WALLET) == before
    assert get_refund(refund["refund_id"]).body == reply.body

    state = snapshot(engine, purchase["purchase_id"])
    for verb in ("approve", "reject"):
        late = decide(refund["refund_id"], verb)
        assert (late.status, late.error_code) == (409, "refund_already_decided"), (verb, late)
        assert late.body["error"]["status"] == "approved"
    assert snapshot(engine, purchase["purchase_id"]) == state


def test_an_admin_rejects_and_nothing_starts(pending, engine):
    purchase, refund = pending
    reply = decide(refund["refund_id"], "reject")  # no body at all
    assert reply.status == 200, reply
    assert (reply.body["status"], reply.body["decided_by"], reply.body["decision_note"]) == \
        ("rejected", "user:root", None)
    assert engine.started == []
    state = snapshot(engine, purchase["purchase_id"])
    for verb in ("approve", "reject"):
        late = decide(refund["refund_id"], verb, {"note": "again"})
        assert (late.status, late.error_code) == (409, "refund_already_decided"), (verb, late)
    assert snapshot(engine, purchase["purchase_id"]) == state
    # A rejected request's key still names it: replaying it is the rejected refund, not a new one.
    assert ask(purchase["purchase_id"], {"credits": "60", "reason": "too many"}).body["status"] == "rejected"
    assert engine.started == []


@pytest.mark.parametrize("verb", ["approve", "reject"])
@pytest.mark.parametrize("raw_body", [None, '{"note": ""}', '{"nope": 1}', "not json"])
def test_only_admins_decide_whatever_they_send(pending, engine, verb, raw_body):
    purchase, refund = pending
    state = snapshot(engine, purchase["purchase_id"])
    reply = decide(refund["refund_id"], verb, caller=ALICE, raw_body=raw_body)
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert snapshot(engine, purchase["purchase_id"]) == state


@pytest.mark.parametrize("verb", ["approve", "reject"])
@pytest.mark.parametrize("body", [{"note": ""}, {"note": "x" * 501}, {"reason": "x"}])
def test_a_bad_decision_body_is_422_and_decides_nothing(pending, engine, verb, body):
    purchase, refund = pending
    state = snapshot(engine, purchase["purchase_id"])
    reply = decide(refund["refund_id"], verb, body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert snapshot(engine, purchase["purchase_id"]) == state


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_deciding_an_unknown_refund_is_404(shop, engine, verb):
    for refund_id in ("rf_nope", "nope"):
        reply = decide(refund_id, verb)
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert refund_items() == {} and engine.started == []


def test_an_approval_whose_workflow_cannot_start_can_be_retried(pending, engine):
    _, refund = pending
    engine.fail_start = True
    failed = decide(refund["refund_id"], "approve")
    assert (failed.status, failed.error_code) == (503, "try_again"), failed
    engine.fail_start = False
    # The 503 says to send the same request again; that must start the refund's workflow.
    retried = decide(refund["refund_id"], "approve")
    assert retried.status == 200, retried
    assert retried.body["status"] == "approved"
    assert engine.started == [refund["refund_id"]]


# -- listing ------------------------------------------------------------------------------


def test_people_see_their_own_refunds_and_admins_everyones(shop, engine):
    mine = buy()
    theirs = buy(caller=BOB, key="co-bob")
    put_settings(refund_auto_approve_credits="50")
    first = ask(mine["purchase_id"], {"credits": "10", "reason": "a"}, key="a-1").body  # approved
    advance_clock(1)
    second = ask(mine["purchase_id"], {"credits": "60", "reason": "b"}, key="a-2").body  # pending_approval
    advance_clock(1)
    bobs = ask(theirs["purchase_id"], {"credits": "5", "reason": "c"}, caller=BOB, key="b-1").body
    assert (first["status"], second["status"], bobs["status"]) == ("approved", "pending_approval", "approved")

    alice = invoke("checkout_list_refunds.json", caller=ALICE)
    assert alice.status == 200, alice
    assert [r["refund_id"] for r in alice.body["data"]] == [second["refund_id"], first["refund_id"]]
    assert alice.body["data"][1] == first
    assert [r["refund_id"] for r in invoke("checkout_list_refunds.json", caller=BOB).body["data"]] == \
        [bobs["refund_id"]]
    for caller, refund_id in ((BOB, first["refund_id"]), (ALICE, bobs["refund_id"]), (ALICE, "rf_nope"),
                              (ALICE, "nope")):
        reply = get_refund(refund_id, caller=caller)
        assert (reply.status, reply.error_code) == (404, "not_found"), (caller, refund_id, reply)
    assert get_refund(first["refund_id"], caller=ADMIN).body == first

    everyone = invoke("admin_list_refunds.json", caller=ADMIN, query={})
    assert [r["refund_id"] for r in everyone.body["data"]] == [bobs["refund_id"], second["refund_id"],
                                                               first["refund_id"]]
    waiting = invoke("admin_list_refunds.json", caller=ADMIN, query={"status": "pending_approval"}).body["data"]
    assert [r["refund_id"] for r in waiting] == [second["refund_id"]]
    approved = invoke("admin_list_refunds.json", caller=ADMIN, query={"status": "approved"}).body["data"]
    assert [r["refund_id"] for r in approved] == [bobs["refund_id"], first["refund_id"]]
    assert invoke("admin_list_refunds.json", caller=ADMIN, query={"status": "rejected"}).body["data"] == []
    bobs_only = invoke("admin_list_refunds.json", caller=ADMIN, query={"wallet_id": "user:bob"}).body["data"]
    assert [r["refund_id"] for r in bobs_only] == [bobs["refund_id"]]
    for query in ({"status": "nope"}, {"wallet_id": "bob"}, {"limit": "0"}, {"cursor": "%%%"}):
        reply = invoke("admin_list_refunds.json", caller=ADMIN, query=query)
        assert (reply.status, reply.error_code) == (422, "validation_error"), (query, reply)
    assert invoke("admin_list_refunds.json", caller=ALICE, query={}).status == 403


def test_refund_lists_page_with_a_cursor(shop, engine):
    purchase = buy()
    made = []
    for i in range(3):
        made.append(ask(purchase["purchase_id"], {"credits": "1", "reason": f"r{i}"}, key=f"k-{i}").body["refund_id"])
        advance_clock(1)
    newest_first = made[::-1]
    for sample, caller in (("checkout_list_refunds.json", ALICE), ("admin_list_refunds.json", ADMIN)):
        seen, cursor, pages = [], None, 0
        while pages == 0 or cursor:
            query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
            page = invoke(sample, caller=caller, query=query)
            assert page.status == 200, page
            assert len(page.body["data"]) <= 1
            seen += [r["refund_id"] for r in page.body["data"]]
            cursor, pages = page.body["next_cursor"], pages + 1
            assert pages <= 4, seen
        assert seen == newest_first, sample
    # A cursor is bound to what it lists: the admin's all-refunds cursor is not alice's.
    everyone = invoke("admin_list_refunds.json", caller=ADMIN, query={"limit": "1"}).body["next_cursor"]
    assert invoke("checkout_list_refunds.json", caller=ALICE, query={"cursor": everyone}).status == 422


# -- refused requests ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"credits": "0", "reason": "x"},
    {"credits": "-1", "reason": "x"},
    {"credits": "abc", "reason": "x"},
    {"credits": "1.0001", "reason": "x"},
    {"credits": "NaN", "reason": "x"},
    {"credits": "1e3", "reason": "x"},
    {"credits": "", "reason": "x"},
    {"credits": None, "reason": "x", "amount": 100},
    {"credits": "100.001", "reason": "x"},  # more than the purchase had
    {"credits": "10000000000", "reason": "x"},  # past any sane maximum
    {"credits": "1"},  # no reason
    {"credits": "1", "reason": ""},
    {"credits": "1", "reason": "x" * 501},
    {},
    [],
    "refund",
])
def test_bad_refund_requests_are_422_and_change_nothing(shop, engine, body):
    purchase = buy()
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert snapshot(engine, purchase["purchase_id"]) == state


def test_more_than_is_refundable_names_what_is(shop, engine):
    purchase = buy()
    spend("95.5", "s-1")
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], {"credits": "4.501", "reason": "x"})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert (reply.body["error"]["field"], reply.body["error"]["refundable_credits"]) == ("credits", "4.5")
    assert snapshot(engine, purchase["purchase_id"]) == state
    assert ask(purchase["purchase_id"], {"credits": "4.5", "reason": "x"}).status == 202


def test_credits_worth_less_than_a_cent_are_refused(shop, engine):
    purchase = buy("odd")  # a cent is worth 7 millicredits
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], {"credits": "0.006", "reason": "x"})
    assert (reply.status, reply.error_code, reply.body["error"].get("field")) == (422, "validation_error", "credits")
    assert snapshot(engine, purchase["purchase_id"]) == state
    smallest = ask(purchase["purchase_id"], {"credits": "0.007", "reason": "x"})
    assert (smallest.status, smallest.body["amount"]) == (202, 1)


@pytest.mark.parametrize("case", ["not_paid", "window_expired", "credits_used"])
def test_an_ineligible_purchase_is_422_with_its_reasons(shop, engine, case):
    if case == "not_paid":
        purchase = checkout()
    else:
        purchase = buy()
        if case == "window_expired":
            advance_clock(14 * DAY_MS + 1)
        else:
            spend("100", "s-all")
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], {"credits": "1", "reason": "x"})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["reasons"] == [case]
    assert snapshot(engine, purchase["purchase_id"]) == state


def test_someone_elses_or_an_unknown_purchase_is_404(shop, engine):
    purchase = buy()
    state = snapshot(engine, purchase["purchase_id"])
    for caller, purchase_id in ((BOB, purchase["purchase_id"]), (ALICE, "pur_nope"), (ALICE, "nope")):
        reply = ask(purchase_id, {"credits": "1", "reason": "x"}, caller=caller)
        assert (reply.status, reply.error_code) == (404, "not_found"), (caller, purchase_id, reply)
    assert snapshot(engine, purchase["purchase_id"]) == state


def test_a_server_api_key_cannot_ask_for_refunds(shop, engine):
    # In AWS these routes sit behind the JWT authorizer, which never admits an API key; as
    # test_service_keys_cannot_checkout does, the handler's own refusal is checked as well.
    purchase = buy()
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], {"credits": "1", "reason": "x"}, caller=SERVICE)
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert snapshot(engine, purchase["purchase_id"]) == state


def test_a_bad_idempotency_key_is_422(shop, engine):
    purchase = buy()
    state = snapshot(engine, purchase["purchase_id"])
    reply = ask(purchase["purchase_id"], {"credits": "1", "reason": "x"}, key="x" * 256)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert snapshot(engine, purchase["purchase_id"]) == state


# -- the workflow's steps around the gateway's refund webhooks (the workflow tier runs them in order) --

def processing_paystack_refund(shop, credits: str = "40") -> tuple[dict, str]:
    """A paid Paystack purchase and a refund of ``credits`` clawed back and waiting at Paystack."""
    from tollgate.refunds import workflow

    shop["paystack"].refund_status = "pending"  # Paystack processes refunds later
    started = checkout(gateway="paystack", currency="NGN", key="co-ngn")
    shop["paystack"].verified[started["reference"]] = PaymentStatus(
        reference=started["reference"], succeeded=True, status="success", amount=1_500_000, currency="NGN")
    purchase = pay(started)
    refund_id = ask(purchase["purchase_id"], {"credits": credits, "reason": "webhook"}).body["refund_id"]
    workflow.claw_back(refund_id)
    assert workflow.gateway_refund(refund_id)["gateway_status"] == "pending"
    return purchase, refund_id


def refund_webhook(purchase: dict, amount: int, event_id: str, *, failed: bool = False):
    """Paystack's refund webhook as the adapter reads it: the transaction and amount, no refund id of ours."""
    from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, webhook_body
    from tollgate.gateways import Refund

    body = webhook_body(event_id=event_id, kind="refund_failed" if failed else "refund",
                        purchase_id=purchase["purchase_id"], reference=purchase["reference"], currency="NGN",
                        refunds=[Refund(refund_id=f"processor-{event_id}", amount=amount,
                                        status="failed" if failed else "succeeded")])
    reply = invoke("webhooks_paystack.json", caller=None, raw_body=body, headers={SIGNATURE_HEADER: GOOD_SIGNATURE})
    assert reply.status == 200, reply
    return reply.body["outcome"]


def test_an_early_refund_webhook_is_answered_by_the_waiting_step_and_takes_nothing(shop, engine):
    from tollgate.refunds import workflow

    purchase, refund_id = processing_paystack_refund(shop)
    assert refund_webhook(purchase, 600_000, "early") == "own_refund"
    assert engine.answers == []  # nobody waits yet
    workflow.await_confirmation(refund_id, "token-1")
    assert [(kind, token) for kind, token, _ in engine.answers] == [("succeed", "token-1")]
    workflow.mark_refunded(refund_id)
    assert get_refund(refund_id).body["status"] == "succeeded"
    after = get_purchase_view(purchase["purchase_id"])
    assert (after["status"], after["refunded_amount"], after["credits_clawed_back"]) == ("partially_refunded",
                                                                                        600_000, "40")
    assert assert_ledger_invariant(WALLET)["balance"] == 60_000
    # Paystack delivering our refund's webhook again (the same event) changes nothing...
    assert refund_webhook(purchase, 600_000, "early") == "duplicate"
    assert assert_ledger_invariant(WALLET)["balance"] == 60_000
    # ...while another refund of the same amount (made in Paystack's dashboard) is clawed back.
    assert refund_webhook(purchase, 600_000, "dashboard") == "clawed_back"
    assert assert_ledger_invariant(WALLET)["balance"] == 20_000


def test_a_failed_refund_webhook_fails_the_wait_and_compensate_gives_the_credits_back(shop, engine):
    from tollgate.refunds import workflow

    purchase, refund_id = processing_paystack_refund(shop)
    workflow.await_confirmation(refund_id, "token-2")
    assert engine.answers == []
    assert refund_webhook(purchase, 600_000, "failed", failed=True) == "own_refund"
    assert engine.answers == [("fail", "token-2", workflow.REFUND_FAILED)]
    # The state machine's Catch hands Compensate the task's failure.
    workflow.compensate(refund_id, {"Error": workflow.REFUND_FAILED, "Cause": "gateway_failed: declined"})
    failed = get_refund(refund_id).body
    assert (failed["status"], failed["failure_reason"]) == ("failed", "gateway_failed")
    after = get_purchase_view(purchase["purchase_id"])
    assert (after["status"], after["credits_clawed_back"], after["refunded_amount"]) == ("paid", "0", 0)
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000
    given_back = invoke("history_get_history.json", caller=ALICE, query={"type": "refund_reversal"}).body["data"]
    assert [e["amount"] for e in given_back] == ["40"]


def test_a_dashboard_refund_of_another_amount_is_clawed_back_beside_ours(shop, engine):
    purchase, _ = processing_paystack_refund(shop)
    assert refund_webhook(purchase, 300_000, "dashboard") == "clawed_back"  # 20 credits' worth
    after = get_purchase_view(purchase["purchase_id"])
    assert after["credits_clawed_back"] == "60"
    assert assert_ledger_invariant(WALLET)["balance"] == 40_000


def get_purchase_view(purchase_id: str) -> dict:
    from tests.functional.fake_refunds import get_purchase

    return get_purchase(purchase_id)
