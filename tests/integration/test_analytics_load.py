"""Aggregates under a burst, on the real engine (DynamoDB Local): 1,000 debits at once across 50
wallets and 4 features, the table's stream delivered to the real ledger_stream handler in Lambda's
batches of 100; no aggregate item is hot, the figures are exact, and an analytics call over 90
days makes the same bounded number of requests before and after the traffic.

DynamoDB Local never throttles, so "no throttling" is shown by the write units each aggregate
partition took for the whole burst: under one partition's 1,000 WCU a second even if the burst and
all of its stream processing landed within a single second.
"""

from __future__ import annotations

import uuid
from collections import Counter

from tests import streams
from tests.integration.conftest import Request, make_client
from tests.support import Caller
from tollgate import analytics, data, days, keys

MC = 1000
FEATURES = {"burst-a": "1", "burst-b": "2", "burst-c": "0.5", "burst-d": "3"}
PARTITION_WCU_PER_SECOND = 1_000
BATCH = 100  # the template's BatchSize


def item_kb(raw: dict) -> int:
    """DynamoDB's item size (names + values), in started KB: what a write of it costs per WCU."""
    size = sum(len(name.encode()) + len(str(next(iter(value.values()))).encode()) for name, value in raw.items())
    return -(-size // 1024)


def query_count(calls) -> Counter:
    return Counter(c.operation for c in calls)


def test_a_burst_of_1000_debits_heats_no_aggregate_item_and_counts_exactly(ddb_api, ddb, recorder_factory, capsys):
    api = ddb_api
    for feature_id, credits in FEATURES.items():
        api.put_feature(feature_id, credits)
    run = uuid.uuid4().hex[:8]
    callers = [Caller(f"burst-{run}-{n}") for n in range(50)]
    for caller in callers:
        api.fund(caller.wallet_id, "100")
    arn, before = streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)
    streams.deliver("ledger_stream", streams.selected_by("LedgerStreamFunction", streams.lambda_records(arn, before)))

    recorder = recorder_factory(ddb.client)
    ninety = days.day_range(None, None, default_days=90)
    with recorder.recording() as calls:
        analytics.analytics(ninety, "day")
    quiet = query_count(calls)

    names = list(FEATURES)
    requests = [Request("deduction_post_usage.json", caller, body={"feature": names[(i + n) % len(names)]},
                        headers={"idempotency-key": f"burst-{i}"})
                for i in range(20) for n, caller in enumerate(callers)]
    replies = api.concurrently(requests)
    assert Counter(r.status for r in replies) == {201: 1000}

    arn, records = streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)
    fresh = streams.selected_by("LedgerStreamFunction", streams.lambda_records(arn, records[len(before):]))
    assert len(fresh) == 1000
    with recorder.recording() as calls:
        for start in range(0, len(fresh), BATCH):
            assert streams.deliver("ledger_stream", fresh[start:start + BATCH]) == {"batchItemFailures": []}
    assert all(c.ok for c in calls), [c.error for c in calls if not c.ok]

    # Write units per aggregate partition over the whole burst (a transaction's write costs twice).
    wcu: Counter = Counter()
    writes: Counter = Counter()
    for call in calls:
        for op in call.params.get("TransactItems", []):
            update = op.get("Update")
            if update and update["Key"]["PK"]["S"].startswith("AGG#"):
                key = update["Key"]
                stored = ddb.raw_item(key)
                wcu[key["PK"]["S"]] += 2 * item_kb(stored)
                writes[(key["PK"]["S"], key["SK"]["S"])] += 1
    hottest = max(wcu.values())
    transactions = sum(1 for c in calls if c.operation == "TransactWriteItems")
    with capsys.disabled():
        print(f"\n  1,000 debits (50 wallets, 10 batches): {transactions} stream transactions, "
              f"{sum(writes.values())} aggregate item writes over {len(wcu)} partitions; hottest partition "
              f"{hottest} WCU for the whole burst (limit {PARTITION_WCU_PER_SECOND}/s), hottest item "
              f"{max(writes.values())} writes")
    assert hottest < PARTITION_WCU_PER_SECOND
    assert len(wcu) > 1  # spread over shards
    assert sum(writes.values()) < 1000 / 4  # batched: far fewer aggregate writes than debits

    # Exact: the figures of the burst are what the debits took.
    today = days.day_range(None, None, default_days=1)
    spent = sum(_mc(FEATURES[q.body["feature"]]) for q in requests)
    figures = analytics.analytics(today, "day").totals
    assert figures.debits == 1000
    assert figures.credits_out.usage == spent
    top = {f.feature: (f.spent, f.calls) for f in analytics.top_features(today, 10).data}
    assert top == {name: (250 * _mc(credits), 250) for name, credits in FEATURES.items()}
    assert sum(p.active_wallets for p in analytics.analytics(today, "day").series) == 50

    # The same 90-day analytics call, after the traffic: the same requests (one Query per shard per year).
    with recorder.recording() as calls:
        analytics.analytics(ninety, "day")
    assert query_count(calls) == quiet == {"Query": keys.AGGREGATE_SHARDS * len(ninety.years())}


def _mc(credits: str) -> int:
    whole, _, frac = credits.partition(".")
    return int(whole) * MC + int((frac + "000")[:3])


def test_a_range_across_new_year_reads_two_partitions_per_shard(ddb, recorder_factory):
    recorder = recorder_factory(ddb.client)
    span = days.day_range("2026-10-18", "2027-01-15")
    assert span.days == 90
    with recorder.recording() as calls:
        body = analytics.analytics(span, "month")
    assert query_count(calls) == {"Query": 2 * keys.AGGREGATE_SHARDS}
    assert [p.period for p in body.series] == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert data.table_name() == ddb.table
