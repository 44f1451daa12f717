"""Auto top-up (issue 15): a card saved at Stripe (a fake here; localstripe in the e2e tier), charged
off-session once per crossing below the threshold, never above the monthly limit; a declined card
turns it off and grants nothing. The crossing comes from the real ledger stream handler and the
charge from the real AutoTopUpFunction, fed from its queue (moto's SQS) as Lambda would.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests import streams
from tests.functional.fake_gateway import FakeGateway
from tests.functional.test_analytics import webhook
from tests.functional.test_events import recorded_events
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    SERVICE,
    LambdaContext,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    load_function,
    set_gateway,
)

REGION = "us-east-1"
SETTINGS = {"enabled": True, "threshold": "30", "package_id": "starter", "monthly_limit": "250"}


@pytest.fixture
def stripe(aws, monkeypatch):
    fake = FakeGateway("stripe")
    set_gateway("stripe", fake)
    sqs = boto3.client("sqs", region_name=REGION)
    monkeypatch.setenv("AUTO_TOP_UP_QUEUE_URL", sqs.create_queue(QueueName="top-ups")["QueueUrl"])
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 USD cents
    reply = invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/ten",
                   path_params={"feature_id": "ten"}, body={"name": "ten", "pricing": {"type": "per_call", "credits": "10"}})
    assert reply.status == 200, reply
    yield fake
    set_gateway("stripe", None)


def save_card(fake: FakeGateway, caller=ALICE, payment_method: str = "pm_card_visa") -> dict:
    started = invoke("checkout_post_payment_method.json", caller=caller)
    assert started.status == 201, started
    assert started.body["client_secret"]
    fake.confirm_setup(started.body["setup_intent_id"], payment_method)  # the payer, in Stripe.js
    saved = invoke("checkout_put_payment_method.json", caller=caller,
                   body={"setup_intent_id": started.body["setup_intent_id"]})
    assert saved.status == 200, saved
    return saved.body


def configure(body: dict, caller=ALICE, query=None):
    return invoke("checkout_put_auto_top_up.json", caller=caller, body=body, query=query)


def settings(caller=ALICE) -> dict:
    reply = invoke("checkout_get_auto_top_up.json", caller=caller)
    assert reply.status == 200, reply
    return reply.body


def fund(amount: str, key: str) -> None:
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "test"},
                   headers={"idempotency-key": key}, path=f"/v1/admin/wallets/{ALICE.wallet_id}/adjustments",
                   path_params={"wallet_id": ALICE.wallet_id})
    assert reply.status == 201, reply


def spend(key: str) -> int:
    return invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                  headers={"idempotency-key": key}).status


class TopUps:
    """The ledger stream's crossings and the top-up queue's consumer, as Lambda runs them."""

    def __init__(self) -> None:
        self.stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.batches: list[list[dict]] = []

    def stream_once(self) -> None:
        self.batches.append(self.stream.pending())
        assert streams.deliver("ledger_stream", self.batches[-1]) == {"batchItemFailures": []}

    def run(self) -> list[dict]:
        """Every queued message through AutoTopUpFunction; the messages it consumed."""
        from tollgate_local.queues import lambda_event

        url = self.sqs.get_queue_url(QueueName="top-ups")["QueueUrl"]
        handled = []
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            result = load_function("auto_top_up").lambda_handler(lambda_event(messages, "arn:q"), LambdaContext())
            assert result == {"batchItemFailures": []}, result
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
            handled += [json.loads(m["Body"]) for m in messages]
        return handled


def crossing_with_a_declining_card(fake: FakeGateway) -> TopUps:
    """A card saved that Stripe will decline, auto top-up on at 30, and 40 -> 20 crossing it: the
    stream has queued the top-up (not run yet)."""
    save_card(fake, payment_method="pm_card_chargeDeclined")
    fake.declining.add("pm_card_chargeDeclined")
    fund("40", "f-1")
    assert configure(SETTINGS).status == 200
    top_ups = TopUps()
    assert spend("s-1") == 201 and spend("s-2") == 201  # 40 -> 20
    top_ups.stream_once()
    return top_ups


def pay(fake: FakeGateway, reference_of: str) -> dict:
    """Stripe's payment_intent.succeeded for the off-session charge: the webhook path grants."""
    request, _ = fake.charges[reference_of]
    purchase = invoke("checkout_get_purchase.json", caller=ALICE, path=f"/v1/purchases/{request.purchase_id}",
                      path_params={"purchase_id": request.purchase_id}).body
    reply = webhook("stripe", event_id=f"evt-{request.purchase_id}", kind="payment_succeeded",
                    purchase_id=request.purchase_id, reference=purchase["reference"], amount=request.amount,
                    currency=request.currency)
    assert reply.body["outcome"] == "granted", reply
    return purchase


def test_a_crossing_charges_the_saved_card_once_and_its_webhook_grants(stripe):
    card = save_card(stripe)
    assert card["card"] == {"brand": "visa", "last4": "4242"} and card["enabled"] is False
    fund("60", "f-1")
    on = configure(SETTINGS)
    assert on.status == 200, on
    assert (on.body["enabled"], on.body["threshold"], on.body["credits"], on.body["monthly_limit"]) == (
        True, "30", "100", "250")
    top_ups = TopUps()
    for n in range(4):  # 50, 40, 30 (not below), 20: crosses 30 once
        assert spend(f"s-{n}") == 201
    top_ups.stream_once()
    handled = top_ups.run()
    assert len(handled) == 1 and handled[0]["wallet_id"] == ALICE.wallet_id
    assert len(stripe.charges) == 1
    ((request, saved),) = stripe.charges.values()
    assert (request.amount, request.currency, saved.payment_method_id, saved.customer_id) == (
        1000, "USD", "pm_card_visa", f"cus_{ALICE.wallet_id}")

    # The same stream batch again (Lambda redelivers) and the message again: no second charge.
    assert streams.deliver("ledger_stream", top_ups.batches[-1]) == {"batchItemFailures": []}
    assert len(top_ups.run()) == 1
    assert len(stripe.charges) == 1

    purchase = pay(stripe, next(iter(stripe.charges)))
    assert purchase["status"] == "pending"  # until the webhook
    state = assert_ledger_invariant(ALICE.wallet_id)
    assert state["balance"] == 120_000  # 20 + 100
    assert settings()["charged_this_month"] == "100"


def test_the_monthly_limit_caps_the_charges(stripe):
    save_card(stripe)
    fund("40", "f-0")
    assert configure(SETTINGS).status == 200  # 100 credits a time, at most 250 a month
    top_ups = TopUps()
    for n in range(3):  # back above the threshold by hand, then below it again: a new crossing each time
        if n:
            fund("20", f"f-{n}")
        assert spend(f"s-{n}-a") == 201 and spend(f"s-{n}-b") == 201
        top_ups.stream_once()
        assert len(top_ups.run()) == 1
    assert len(stripe.charges) == 2  # 100 + 100; a third would make 300 > 250
    assert settings()["charged_this_month"] == "200"
    purchases = invoke("checkout_list_purchases.json", caller=ALICE).body["data"]
    assert [p["status"] for p in purchases] == ["pending", "pending"]  # charged; their webhooks not in yet
    assert_ledger_invariant(ALICE.wallet_id)


def test_a_declined_card_turns_it_off_grants_nothing_and_fails_the_purchase(stripe):
    top_ups = crossing_with_a_declining_card(stripe)
    top_ups.run()
    assert stripe.charges == {}
    now = settings()
    assert now["enabled"] is False and "declined" in now["disabled_reason"]
    assert now["charged_this_month"] == "0"
    purchases = invoke("checkout_list_purchases.json", caller=ALICE).body["data"]
    assert [(p["status"], p["failure_reason"].startswith("auto top-up")) for p in purchases] == [("failed", True)]
    assert assert_ledger_invariant(ALICE.wallet_id)["balance"] == 20_000
    # Off: the next crossing queues nothing (the threshold left the wallet with it).
    fund("30", "f-2")
    assert spend("s-3") == 201 and spend("s-4") == 201
    top_ups.stream_once()
    assert top_ups.run() == []
    failed = [json.loads(e["body"]) for e in recorded_events() if e["event_type"] == "purchase.failed"]
    assert [(e["wallet_id"], e["data"]["purchase_id"]) for e in failed] == [(ALICE.wallet_id, purchases[0]["purchase_id"])]


def test_turned_on_below_the_threshold_it_tops_up_at_once(stripe):
    save_card(stripe)
    fund("10", "f-1")
    assert configure(SETTINGS).status == 200  # 10 available, threshold 30: no crossing will come
    top_ups = TopUps()
    assert len(top_ups.run()) == 1
    assert len(stripe.charges) == 1
    assert configure(SETTINGS).status == 200  # saved again, still below: the same change, the same charge
    assert len(top_ups.run()) == 1
    assert len(stripe.charges) == 1
    assert settings()["charged_this_month"] == "100"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({**SETTINGS, "threshold": "-1"}, 422, "validation_error"),
    ({**SETTINGS, "threshold": "1000000001"}, 422, "validation_error"),
    ({**SETTINGS, "threshold": "0"}, 422, "validation_error"),
    ({**SETTINGS, "credits": "50"}, 422, "validation_error"),  # package_id and credits
    ({k: v for k, v in SETTINGS.items() if k != "package_id"}, 422, "validation_error"),
    ({**SETTINGS, "enabled": "yes"}, 422, "validation_error"),
    ({**SETTINGS, "package_id": "nope"}, 404, "not_found"),
    ({**SETTINGS, "monthly_limit": "50"}, 422, "validation_error"),  # below one top-up: never charges
    ({**SETTINGS, "currency": "EUR"}, 422, "validation_error"),  # not priced in EUR
    (SETTINGS, 409, "no_saved_card"),
])
def test_bad_settings_or_no_saved_card_are_refused_and_change_nothing(stripe, body, status, code):
    before = ledger_state(ALICE.wallet_id)
    reply = configure(body)
    assert (reply.status, reply.error_code) == (status, code), reply
    assert settings()["enabled"] is False and settings()["threshold"] is None
    assert ledger_state(ALICE.wallet_id) == before


def test_a_card_setup_must_be_this_wallets_and_confirmed(stripe):
    started = invoke("checkout_post_payment_method.json", caller=ALICE).body
    unconfirmed = invoke("checkout_put_payment_method.json", caller=ALICE,
                         body={"setup_intent_id": started["setup_intent_id"]})
    assert (unconfirmed.status, unconfirmed.error_code) == (409, "card_not_saved"), unconfirmed
    stripe.confirm_setup(started["setup_intent_id"])
    foreign = invoke("checkout_put_payment_method.json", caller=BOB, body={"setup_intent_id": started["setup_intent_id"]})
    assert (foreign.status, foreign.error_code) == (409, "card_not_saved"), foreign
    bad = invoke("checkout_put_payment_method.json", caller=ALICE, body={"setup_intent_id": "pi_123"})
    assert (bad.status, bad.error_code) == (422, "validation_error")
    assert settings()["card"] is None and settings(BOB)["card"] is None
    assert invoke("checkout_put_payment_method.json", caller=ALICE,
                  body={"setup_intent_id": started["setup_intent_id"]}).status == 200
    assert settings()["card"] == {"brand": "visa", "last4": "4242"}


def test_a_server_key_cannot_set_up_cards_or_auto_top_up(stripe):
    assert invoke("checkout_post_payment_method.json", caller=SERVICE,
                  query={"wallet_id": ALICE.wallet_id}).status == 403
    refused = configure(SETTINGS, caller=SERVICE, query={"wallet_id": ALICE.wallet_id})
    assert (refused.status, refused.error_code) == (403, "forbidden")


def purchases_of(caller=ALICE) -> list[dict]:
    return invoke("checkout_list_purchases.json", caller=caller).body["data"]


def failed_events(purchase_id: str) -> list[dict]:
    return [json.loads(e["body"]) for e in recorded_events()
            if e["event_type"] == "purchase.failed" and json.loads(e["body"])["data"]["purchase_id"] == purchase_id]


def test_a_charge_that_fails_later_through_the_webhook_turns_it_off_and_gives_the_month_back(stripe):
    save_card(stripe)
    fund("40", "f-1")
    assert configure(SETTINGS).status == 200
    top_ups = TopUps()
    assert spend("s-1") == 201 and spend("s-2") == 201  # 40 -> 20: crosses 30
    top_ups.stream_once()
    assert len(top_ups.run()) == 1
    ((request, _),) = stripe.charges.values()  # processing: Stripe tells how it ends by webhook
    assert settings()["charged_this_month"] == "100"
    before = ledger_state(ALICE.wallet_id)

    failed = webhook("stripe", event_id="evt-failed-1", kind="payment_failed", purchase_id=request.purchase_id,
                     reference=f"pi_fake_{request.purchase_id}", raw_type="payment_intent.payment_failed")
    assert failed.body["outcome"] == "marked_failed", failed
    now = settings()
    assert (now["enabled"], now["threshold"], now["charged_this_month"]) == (False, "30", "0"), now
    assert "payment_intent.payment_failed" in now["disabled_reason"]
    (purchase,) = purchases_of()
    assert (purchase["status"], purchase["failure_reason"]) == ("failed", "auto top-up: payment_intent.payment_failed")
    assert ledger_state(ALICE.wallet_id) == before  # nothing granted
    assert assert_ledger_invariant(ALICE.wallet_id)["balance"] == 20_000

    # The failure told again (another event of the same payment): nothing changes the second time.
    again = webhook("stripe", event_id="evt-failed-2", kind="payment_failed", purchase_id=request.purchase_id,
                    reference=f"pi_fake_{request.purchase_id}", raw_type="charge.failed")
    assert again.body["outcome"] == "ignored_not_pending", again
    assert settings() == now and purchases_of() == [purchase]
    top_ups.stream_once()
    assert len(failed_events(request.purchase_id)) == 1
    # Off: the threshold left the wallet, so the next crossing queues nothing.
    fund("30", "f-2")
    assert spend("s-3") == 201 and spend("s-4") == 201
    top_ups.stream_once()
    assert top_ups.run() == [] and len(stripe.charges) == 1
    assert ledger_state(ALICE.wallet_id)["balance"] == 30_000


def test_a_declined_charge_then_its_failed_webhook_changes_nothing_the_second_time(stripe):
    top_ups = crossing_with_a_declining_card(stripe)
    top_ups.run()
    now, (purchase,), before = settings(), purchases_of(), ledger_state(ALICE.wallet_id)
    assert (now["enabled"], now["charged_this_month"], purchase["status"]) == (False, "0", "failed")
    # Stripe also reports the declined off-session payment by webhook: handled a second time.
    failed = webhook("stripe", event_id="evt-declined", kind="payment_failed", purchase_id=purchase["purchase_id"],
                     raw_type="payment_intent.payment_failed")
    assert failed.body["outcome"] == "ignored_not_pending", failed
    assert (settings(), purchases_of(), ledger_state(ALICE.wallet_id)) == (now, [purchase], before)
    top_ups.stream_once()
    assert len(failed_events(purchase["purchase_id"])) == 1
    assert assert_ledger_invariant(ALICE.wallet_id)["balance"] == 20_000


def test_a_crash_while_failing_a_declined_top_up_leaves_nothing_half_done(stripe, monkeypatch):
    """The process dies right after the first write that handles the decline; the message comes again."""
    from tests.support import function_namespace
    from tollgate_local.queues import lambda_event

    top_ups = crossing_with_a_declining_card(stripe)
    url = top_ups.sqs.get_queue_url(QueueName="top-ups")["QueueUrl"]
    messages = top_ups.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1

    armed = []
    connection = function_namespace("auto_top_up").module("tollgate.data.connection").SharedConnection
    charge, dispatch = stripe.charge_saved_card, connection.dispatch

    def declining(*args, **kwargs):
        try:
            return charge(*args, **kwargs)
        except Exception:
            armed.append(True)
            raise

    def dying(self, operation, kwargs):
        result = dispatch(self, operation, kwargs)
        if armed and operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            armed.clear()
            raise RuntimeError("the process died")
        return result

    monkeypatch.setattr(stripe, "charge_saved_card", declining)
    monkeypatch.setattr(connection, "dispatch", dying)
    handler = load_function("auto_top_up").lambda_handler
    with pytest.raises(Exception, match="All records failed"):
        handler(lambda_event(messages, "arn:q"), LambdaContext())
    assert not armed  # it died where meant to
    assert handler(lambda_event(messages, "arn:q"), LambdaContext()) == {"batchItemFailures": []}  # Lambda's retry
    now = settings()
    assert (now["enabled"], now["charged_this_month"]) == (False, "0"), now
    assert "declined" in now["disabled_reason"]
    assert [p["status"] for p in purchases_of()] == ["failed"]
    assert stripe.charges == {}
    assert assert_ledger_invariant(ALICE.wallet_id)["balance"] == 20_000


@pytest.mark.parametrize("when", ["after the save", "between the read and the save"])
def test_debits_racing_the_settings_cross_the_threshold_once_and_charge_once(stripe, monkeypatch, when):
    """Turned on while two debits take the wallet below its threshold: one charge, whichever side of
    the save they land. After it, the first crosses (the stream's top-up); between the wallet's read
    and the save, the save is refused and made again on a fresh read (below, so it tops up at once)."""
    from tests.support import layer_modules

    save_card(stripe)
    fund("35", "f-1")
    spent = []

    def debits() -> None:
        if not spent:
            spent.extend(spend(f"race-{n}") for n in range(2))  # 35 -> 25 (crosses 30) -> 15: two changes below

    with monkeypatch.context() as patched:  # undone after the save (the fixture's own patches stay)
        for module in layer_modules("tollgate.autotopup.service"):
            if when == "after the save":
                real_configure = module.repository.configure

                def configured(*args, real=real_configure, **kwargs):
                    saved = real(*args, **kwargs)
                    debits()
                    return saved
                patched.setattr(module.repository, "configure", configured)
            else:
                real_read = module.posting.read_wallet_item_state

                def read(wallet_id, real=real_read):
                    state = real(wallet_id)
                    debits()
                    return state
                patched.setattr(module.posting, "read_wallet_item_state", read)
        assert configure(SETTINGS).status == 200
    assert spent == [201, 201]
    top_ups = TopUps()
    top_ups.stream_once()
    assert len(top_ups.run()) == 1
    assert len(stripe.charges) == 1
    assert settings()["charged_this_month"] == "100"
    assert assert_ledger_invariant(ALICE.wallet_id)["balance"] == 15_000
