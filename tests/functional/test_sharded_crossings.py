"""A sharded wallet's threshold crossings (issue 16 with issue 15): credits.low, credits.depleted and
auto top-up fire once per crossing of the shards' sum, through the real ledger stream handler fed
with the records the template's filter passes, however often a batch is delivered."""

from __future__ import annotations

import json
from collections import Counter

import boto3

from tests import streams
from tests.functional.test_auto_top_up import (
    SETTINGS,
    TopUps,
    configure,
    save_card,
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
