"""credits.low fires once per crossing, however many debits race across the threshold (issue 15).

100 debits at once from 32 processes on DynamoDB Local cross a wallet's low-balance threshold and
then empty it; its real stream, delivered to functions/ledger_stream in batches (and again, whole),
records exactly one credits.low and one credits.depleted. Every change of available is one
conditional update of the wallet item, so exactly one stream record goes from at-or-above the
threshold to below it. The same holds on a sharded wallet, where the consumer checks the shards' sum.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests import streams
from tests.integration.conftest import Request, make_client
from tests.support import ledger_state, load_function
from tollgate import data
from tollgate.grants import repository as grants


def recorded_events() -> Counter:
    found: Counter = Counter()
    pages = data.client().get_paginator("scan").paginate(
        TableName=data.table_name(), FilterExpression="entity = :e", ExpressionAttributeValues={":e": {"S": "event"}})
    for page in pages:
        found.update(item["event_type"]["S"] for item in page["Items"])
    return found


@pytest.fixture(autouse=True)
def _stream_consumer_fresh_state():
    load_function("ledger_stream")
    yield


@pytest.mark.parametrize("shards", [None, 4])
def test_100_concurrent_debits_crossing_the_threshold_fire_credits_low_once(ddb_api, ddb, caller, shards):
    """Unsharded, one record crosses; on a wallet of 4 shards none does, and the consumer checks the
    shards' sum (tollgate.shards.crossings) on DynamoDB Local's TransactGetItems and conditional writes."""
    from tests.support import ADMIN

    api, wallet = ddb_api, caller.wallet_id
    api.put_feature("unit-call", "1")
    api.fund(wallet, "100")
    reply = api.call("notifications_put_wallet_alerts.json", caller=caller, body={"low_balance": "50"})
    assert reply.status == 200, reply
    if shards is not None:
        resharded = api.call("admin_put_wallet_shards.json", caller=ADMIN, body={"count": shards},
                             path=f"/v1/admin/wallets/{wallet}/shards", path_params={"wallet_id": wallet})
        assert resharded.status == 200, resharded
    requests = [Request("deduction_post_usage.json", caller, body={"feature": "unit-call"},
                        headers={"idempotency-key": f"c-{i}"}) for i in range(100)]
    assert Counter(r.status for r in api.concurrently(requests)) == {201: 100}
    assert ledger_state(wallet)["available"] == 0

    arn, records = streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)
    shaped = streams.selected_by("LedgerStreamFunction", streams.lambda_records(arn, records))
    if shards is not None:  # the filter passes the other shards' changes
        assert any(r["dynamodb"]["Keys"]["SK"]["S"] == "SHARD" for r in shaped)
    for start in range(0, len(shaped), 9):  # in batches, as Lambda may deliver them
        assert streams.deliver("ledger_stream", shaped[start:start + 9]) == {"batchItemFailures": []}
    assert streams.deliver("ledger_stream", shaped) == {"batchItemFailures": []}  # and all again

    assert recorded_events() == {"credits.low": 1, "credits.depleted": 1}
    # Every debit attributed once, whichever shard paid it: the book is empty, as the wallet is
    # (a sharded wallet's book follows every shard's chain: tollgate.grants.sharded).
    book = grants.get_book(wallet)
    assert (book.total(), book.deficit_mc, book.balance) == (0, 0, 0)
    assert (book.chains is not None) == (shards is not None)


def test_100_concurrent_debits_crossing_the_auto_top_up_threshold_charge_the_card_once(ddb_api, ddb, caller,
                                                                                      monkeypatch):
    from tests.functional.fake_gateway import FakeGateway
    from tests.support import ADMIN, set_gateway
    from tollgate import autotopup

    api, wallet = ddb_api, caller.wallet_id
    api.put_feature("unit-call", "1")
    assert api.call("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits
    api.fund(wallet, "150")
    fake = FakeGateway("stripe")
    set_gateway("stripe", fake)
    try:
        started = api.call("checkout_post_payment_method.json", caller=caller)
        fake.confirm_setup(started.body["setup_intent_id"])
        assert api.call("checkout_put_payment_method.json", caller=caller,
                        body={"setup_intent_id": started.body["setup_intent_id"]}).status == 200
        assert api.call("checkout_put_auto_top_up.json", caller=caller, body={
            "enabled": True, "threshold": "100", "package_id": "starter", "monthly_limit": "1000"}).status == 200
        requests = [Request("deduction_post_usage.json", caller, body={"feature": "unit-call"},
                            headers={"idempotency-key": f"t-{i}"}) for i in range(100)]
        assert Counter(r.status for r in api.concurrently(requests)) == {201: 100}

        # What the stream consumer queues (its sender, the boundary to SQS, recorded here).
        queued: list[tuple[str, int]] = []
        stream_app = load_function("ledger_stream")
        monkeypatch.setattr(stream_app.top_ups, "request", lambda crossings: queued.extend(crossings) or 0)
        arn, records = streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)
        shaped = streams.selected_by("LedgerStreamFunction", streams.lambda_records(arn, records))
        for start in range(0, len(shaped), 9):
            assert streams.deliver("ledger_stream", shaped[start:start + 9]) == {"batchItemFailures": []}
        assert streams.deliver("ledger_stream", shaped) == {"batchItemFailures": []}  # redelivered whole
        assert len(queued) == 2 and len(set(queued)) == 1  # one crossing, queued once per delivery
        outcomes = [autotopup.top_up(w, seq) for w, seq in queued]
        assert [str(o) for o in outcomes] == ["charged", "already_charged"]
        assert len(fake.charges) == 1
    finally:
        set_gateway("stripe", None)
