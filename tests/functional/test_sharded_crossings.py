"""A sharded wallet's threshold crossings (issue 16 with issue 15): credits.low, credits.depleted and
auto top-up fire once per crossing of the shards' sum, through the real ledger stream handler fed
with the records the template's filter passes, however often a batch is delivered."""

from __future__ import annotations

import json
from collections import Counter

import boto3

from tests import streams
from tests.functional.test_analytics import webhook
from tests.functional.test_auto_top_up import (
    SETTINGS,
    TopUps,
    configure,
    pay,
    save_card,
    settings,
    stripe,  # noqa: F401 - a fixture
)
from tests.functional.test_events import outbox, recorded_events, set_low_balance, shop, spend  # noqa: F401 - fixtures
from tests.functional.test_sharded_wallets import fund, reshard
from tests.support import ADMIN, ALICE, assert_ledger_invariant, invoke, ledger_state

REGION = "us-east-1"
WALLET = ALICE.wallet_id


class Stream:
    """The ledger stream delivered batch by batch, each batch kept to deliver again."""

    def __init__(self) -> None:
        self.stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
        self.batches: list[list[dict]] = []

    def deliver(self) -> None:
        self.batches.append(self.stream.pending())
        assert streams.deliver("ledger_stream", self.batches[-1]) == {"batchItemFailures": []}

    def again(self) -> None:
        for batch in self.batches:
            assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
        assert streams.deliver("ledger_stream", [r for b in self.batches for r in b]) == {"batchItemFailures": []}


def announced() -> dict[str, list[dict]]:
    bodies: dict[str, list[dict]] = {}
    for event in recorded_events():
        bodies.setdefault(event["event_type"], []).append(json.loads(event["body"]))
    return bodies


def test_low_and_depleted_fire_once_per_crossing_of_the_shards_sum_whatever_the_redelivery(outbox, shop):  # noqa: F811 - the imported fixtures
    stream = Stream()
    fund("100", "f-1")
    set_low_balance("50")
    assert reshard(4).status == 200
    stream.deliver()  # the first sharding: 100, above both
    for n in range(6):  # 100 -> 40 over the shards: the sum crosses 50 once
        spend(f"s-{n}")
    stream.deliver()
    (low,) = announced()["credits.low"]
    assert (low["wallet_id"], low["data"]["available"], low["data"]["threshold"]) == (WALLET, "40", "50"), low
    assert "credits.depleted" not in announced()

    for n in range(6, 10):  # -> 0
        spend(f"s-{n}")
    stream.deliver()
    stream.again()  # every batch again, then all as one: nothing new
    kinds = Counter(e["event_type"] for e in recorded_events())
    assert (kinds["credits.low"], kinds["credits.depleted"]) == (1, 1), kinds

    # Credits take it back above both (re-armed, nothing announced), then debits cross both again.
    grant = invoke("admin_post_grant.json", caller=ADMIN, headers={"idempotency-key": "g-1"},
                   path=f"/v1/admin/wallets/{WALLET}/grants", path_params={"wallet_id": WALLET},
                   body={"amount": "60", "reason": "promo"})
    assert grant.status == 201, grant
    stream.deliver()
    assert Counter(e["event_type"] for e in recorded_events())["credits.low"] == 1
    for n in range(10, 16):
        spend(f"s-{n}")
    stream.deliver()
    stream.again()
    bodies = announced()
    assert len(bodies["credits.low"]) == 2 and len(bodies["credits.depleted"]) == 2, bodies
    assert len({e["id"] for e in bodies["credits.low"] + bodies["credits.depleted"]}) == 4
    state = assert_ledger_invariant(WALLET)
    assert state["balance"] == 0


def test_a_crossing_written_but_not_sent_is_sent_when_the_batch_comes_again(outbox, shop, monkeypatch):  # noqa: F811 - the imported fixtures
    """The crossing is recorded, then the bus refuses: the batch fails; delivered again, the check finds
    the crossing not announced and sends it, under the same id."""
    import pytest

    from tests.support import load_function

    stream = Stream()
    fund("100", "f-1")
    set_low_balance("50")
    assert reshard(4).status == 200
    stream.deliver()
    for n in range(6):
        spend(f"s-{n}")
    batch = stream.stream.pending()
    namespace_outbox = load_function("ledger_stream").outbox

    def refused(items):
        raise namespace_outbox.PublishFailed("EventBridge is down")

    monkeypatch.setattr(namespace_outbox, "_to_bus", refused)
    with pytest.raises(namespace_outbox.PublishFailed):
        streams.deliver("ledger_stream", batch)
    assert "credits.low" not in announced()
    monkeypatch.undo()
    monkeypatch.setenv("EVENT_BUS_NAME", "tollgate-events")
    monkeypatch.setenv("WEBHOOK_DELIVERY_QUEUE_URL", outbox["queue"])

    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}  # Lambda's retry
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    (low,) = announced()["credits.low"]
    assert low["data"]["available"] == "40", low


def test_a_sharded_wallet_already_below_when_sharded_announces_nothing_until_it_crosses_again(outbox, shop):  # noqa: F811 - the imported fixtures
    stream = Stream()
    fund("40", "f-1")
    set_low_balance("50")  # below already: the unsharded wallet had no crossing to announce
    stream.deliver()
    assert reshard(4).status == 200
    stream.deliver()
    spend("s-1")  # 30: still below, no new crossing
    stream.deliver()
    assert "credits.low" not in announced()


def test_a_sharded_wallet_crossing_its_auto_top_up_threshold_charges_once(stripe):  # noqa: F811 - the imported fixtures
    save_card(stripe)
    fund("60", "f-1")
    assert configure(SETTINGS).status == 200  # threshold 30
    assert reshard(4).status == 200
    top_ups = TopUps()
    top_ups.stream_once()
    for n in range(4):  # 60 -> 20 over the shards: crosses 30 once
        assert invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                      headers={"idempotency-key": f"s-{n}"}).status == 201
    top_ups.stream_once()
    handled = top_ups.run()
    assert handled == [{"wallet_id": WALLET, "crossing": "sharded-1"}], handled
    assert streams.deliver("ledger_stream", top_ups.batches[-1]) == {"batchItemFailures": []}  # redelivered
    assert top_ups.run() == []
    assert len(stripe.charges) == 1
    ((request, _),) = stripe.charges.values()
    assert (request.amount, request.currency) == (1000, "USD")
    assert ledger_state(WALLET)["balance"] == 20_000


def test_auto_top_up_turned_on_below_the_threshold_of_a_sharded_wallet_charges_once(stripe):  # noqa: F811 - the imported fixtures
    """Turned on below the threshold, it tops up at once; the next debit (still below) is no new crossing."""
    save_card(stripe)
    fund("60", "f-1")
    assert reshard(4).status == 200
    top_ups = TopUps()
    top_ups.stream_once()  # the first sharding: no threshold yet
    for n in range(4):  # 60 -> 20: nothing to cross yet
        assert invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                      headers={"idempotency-key": f"s-{n}"}).status == 201
    top_ups.stream_once()
    assert top_ups.run() == []
    assert configure(SETTINGS).status == 200  # threshold 30, 20 available: the top-up at once
    assert len(top_ups.run()) == 1 and len(stripe.charges) == 1
    assert configure(SETTINGS).status == 200  # saved again, still below: the same crossing
    assert invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                  headers={"idempotency-key": "s-4"}).status == 201  # 10: still below, no new crossing
    top_ups.stream_once()
    top_ups.run()
    assert streams.deliver("ledger_stream", top_ups.batches[-1]) == {"batchItemFailures": []}  # redelivered
    top_ups.run()
    assert len(stripe.charges) == 1, stripe.charges
    assert ledger_state(WALLET)["balance"] == 10_000
    assert_ledger_invariant(WALLET)

    # Back above (its charge paid) and below again: a new crossing, one more charge.
    ((request, _),) = stripe.charges.values()
    pay(stripe, next(iter(stripe.charges)))  # +100: 110
    top_ups.stream_once()
    for n in range(5, 14):  # 110 -> 20: crosses 30 once
        assert invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                      headers={"idempotency-key": f"s-{n}"}).status == 201
    top_ups.stream_once()
    top_ups.run()
    assert len(stripe.charges) == 2, stripe.charges
    assert request.amount == 1000
    assert_ledger_invariant(WALLET)


def test_a_low_balance_set_while_a_sharded_wallet_is_below_it_fires_nothing_until_it_crosses(outbox, shop):  # noqa: F811 - the imported fixtures
    stream = Stream()
    fund("100", "f-1")
    assert reshard(4).status == 200
    stream.deliver()
    for n in range(6):  # 100 -> 40, no threshold yet
        spend(f"s-{n}")
    stream.deliver()
    set_low_balance("50")  # below already: as on an unsharded wallet, no crossing
    stream.deliver()
    spend("s-6")  # 30
    stream.deliver()
    stream.again()
    assert "credits.low" not in announced()

    # Lowered to 20 while at 30 (above it now), then crossed: announced once.
    set_low_balance("20")
    stream.deliver()
    spend("s-7")  # 20: not below
    spend("s-8")  # 10: below
    stream.deliver()
    stream.again()
    (low,) = announced()["credits.low"]
    assert (low["data"]["available"], low["data"]["threshold"]) == ("10", "20"), low
    assert_ledger_invariant(WALLET)


def test_a_check_that_read_the_threshold_before_it_changed_writes_nothing(outbox, shop):  # noqa: F811 - the imported fixtures
    """A check reads (threshold 50, 60 available: back above, to re-arm), then the threshold becomes 70
    (60 is below it: set there, no crossing); the check's write must not re-arm on what it read, or
    the next check would take 60 < 70 for a new crossing."""
    from tollgate.shards import crossings

    stream = Stream()
    fund("100", "f-1")
    set_low_balance("50")
    assert reshard(4).status == 200
    stream.deliver()
    for n in range(6):  # 100 -> 40: crossing 1
        spend(f"s-{n}")
    stream.deliver()
    fund("20", "f-2")  # 60: back above 50
    stale = crossings._read(WALLET)
    assert stale is not None and stale.available == 60_000
    set_low_balance("70")
    assert crossings._write(WALLET, stale, {"low": False}) is False  # raced: it reads again
    stream.deliver()
    spend("s-6")  # 50: still below 70
    stream.deliver()
    stream.again()
    assert len(announced()["credits.low"]) == 1
    assert_ledger_invariant(WALLET)


def test_the_low_balance_reply_of_a_sharded_wallet_shows_the_shards_sum(outbox, shop):  # noqa: F811 - the imported fixtures
    fund("100", "f-1")
    assert reshard(4).status == 200
    for n in range(6):
        spend(f"s-{n}")
    reply = invoke("notifications_put_wallet_alerts.json", caller=ALICE, body={"low_balance": "50"})
    assert reply.status == 200, reply
    assert (reply.body["available"], reply.body["below_low_balance"]) == ("40", True), reply.body
    bad = invoke("notifications_put_wallet_alerts.json", caller=ALICE, body={"low_balance": "-1"})
    assert bad.status == 422, bad
    assert invoke("notifications_get_wallet_alerts.json", caller=ALICE).body["low_balance"] == "50"


def test_a_declined_card_on_a_sharded_wallet_fails_once_and_grants_nothing(stripe):  # noqa: F811 - the imported fixtures
    save_card(stripe, payment_method="pm_card_chargeDeclined")
    stripe.declining.add("pm_card_chargeDeclined")
    fund("60", "f-1")
    assert configure(SETTINGS).status == 200
    assert reshard(4).status == 200
    top_ups = TopUps()
    top_ups.stream_once()
    for n in range(4):  # 60 -> 20: crossing 1, declined
        assert invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"},
                      headers={"idempotency-key": f"s-{n}"}).status == 201
    top_ups.stream_once()
    assert top_ups.run() == [{"wallet_id": WALLET, "crossing": "sharded-1"}]
    now = settings()
    assert (now["enabled"], now["charged_this_month"]) == (False, "0") and "declined" in now["disabled_reason"]
    (purchase,) = invoke("checkout_list_purchases.json", caller=ALICE).body["data"]
    assert purchase["status"] == "failed"
    before = ledger_state(WALLET)
    failed = webhook("stripe", event_id="evt-declined", kind="payment_failed", purchase_id=purchase["purchase_id"],
                     raw_type="payment_intent.payment_failed")
    assert failed.body["outcome"] == "ignored_not_pending", failed
    assert settings() == now and ledger_state(WALLET) == before
    top_ups.stream_once()
    assert top_ups.run() == [] and stripe.charges == {}
    assert assert_ledger_invariant(WALLET)["balance"] == 20_000
