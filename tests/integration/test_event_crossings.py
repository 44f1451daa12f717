"""credits.low fires once per crossing, however many debits race across the threshold (issue 15).

100 debits at once from 32 processes on DynamoDB Local cross a wallet's low-balance threshold and
then empty it; its real stream, delivered to functions/ledger_stream in batches (and again, whole),
records exactly one credits.low and one credits.depleted. Every change of available is one
conditional update of the wallet item, so exactly one stream record goes from at-or-above the
threshold to below it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests import streams
from tests.integration.conftest import Request, make_client
from tests.support import ledger_state, load_function
from tollgate import data


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


def test_100_concurrent_debits_crossing_the_threshold_fire_credits_low_once(ddb_api, ddb, caller):
    api, wallet = ddb_api, caller.wallet_id
    api.put_feature("unit-call", "1")
    api.fund(wallet, "100")
    reply = api.call("notifications_put_wallet_alerts.json", caller=caller, body={"low_balance": "50"})
    assert reply.status == 200, reply
    requests = [Request("deduction_post_usage.json", caller, body={"feature": "unit-call"},
                        headers={"idempotency-key": f"c-{i}"}) for i in range(100)]
    assert Counter(r.status for r in api.concurrently(requests)) == {201: 100}
    assert ledger_state(wallet)["available"] == 0

    arn, records = streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)
    shaped = streams.selected_by("LedgerStreamFunction", streams.lambda_records(arn, records))
    for start in range(0, len(shaped), 9):  # in batches, as Lambda may deliver them
        assert streams.deliver("ledger_stream", shaped[start:start + 9]) == {"batchItemFailures": []}
    assert streams.deliver("ledger_stream", shaped) == {"batchItemFailures": []}  # and all again

    assert recorded_events() == {"credits.low": 1, "credits.depleted": 1}
