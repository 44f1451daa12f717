"""``balance_after`` is stamped from the wallet item's stream, exact and in commit order.

DynamoDB Local implements Streams: the records of a real table are read with the
``dynamodbstreams`` API (TRIM_HORIZON, in sequence order) and handed to the real
functions/ledger_stream handler as the DynamoDB Streams event Lambda would deliver.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import streams
from tests.integration.conftest import Request, make_client
from tests.support import ledger_state, load_function
from tollgate import data, keys
from tollgate.amounts import format_credits
from tollgate.ledger import posting

MC = 1000


# --------------------------------------------------------------------------------------
# Reading the table's stream and delivering it like Lambda does
# --------------------------------------------------------------------------------------


def stream_records(ddb) -> tuple[str, list[dict[str, Any]]]:
    """Every record of the table's stream so far, shard by shard, in sequence order."""
    return streams.stream_records(ddb.client, make_client(ddb.endpoint, "dynamodbstreams"), ddb.table)


def deliver(arn: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return streams.deliver("ledger_stream", streams.lambda_records(arn, records))


def is_wallet_record(record: dict[str, Any], wallet_id: str) -> bool:
    return _from_item(record["dynamodb"]["Keys"]) == {"PK": keys.wallet_pk(wallet_id), "SK": keys.WALLET_SK}


def images(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    change = record["dynamodb"]
    old, new = (streams.fix_empty_maps(change.get(name) or {}) for name in ("OldImage", "NewImage"))
    return _from_item(old) or {}, _from_item(new) or {}


def changes_balance(record: dict[str, Any]) -> bool:
    old, new = images(record)
    return new.get("last_tx") is not None and new.get("last_tx") != old.get("last_tx")


def _from_item(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    return {name: data.from_attr(value) for name, value in raw.items()} if raw else None


def entries(wallet_id: str) -> dict[str, dict[str, Any]]:
    """Every ledger entry of the wallet, by transaction id, straight from the table."""
    found: dict[str, dict[str, Any]] = {}
    pages = data.client().get_paginator("query").paginate(
        TableName=data.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :tx)",
        ExpressionAttributeValues={":pk": {"S": keys.wallet_pk(wallet_id)}, ":tx": {"S": keys.ENTRY_PREFIX}},
        ConsistentRead=True)
    for page in pages:
        found.update({i["transaction_id"]: i for i in (_from_item(raw) or {} for raw in page["Items"])})
    return found


def running_balances(records: list[dict[str, Any]], wallet_id: str) -> dict[str, int]:
    """tx -> the balance right after it, summing the entries' own amounts in stream (commit) order."""
    ledger = entries(wallet_id)
    running, after = 0, {}
    for record in records:
        if is_wallet_record(record, wallet_id) and changes_balance(record):
            tx = images(record)[1]["last_tx"]
            running += int(ledger[tx]["amount"])
            assert int(images(record)[1]["balance"]) == running, "the stream and the ledger disagree"
            after[tx] = running
    return after


def history_balances(api, caller) -> dict[str, str | None]:
    reply = api.call("history_get_history.json", caller=caller, query={"limit": "100"})
    assert reply.status == 200, reply
    return {e["transaction_id"]: e["balance_after"] for e in reply.body["data"]}


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def usage(api, caller, feature: str, key: str):
    reply = api.call("deduction_post_usage.json", caller=caller, body={"feature": feature},
                     headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply


def reserve(api, caller, credits: str, key: str) -> str:
    reply = api.call("deduction_post_reservation.json", caller=caller,
                     body={"feature": "unit-call", "max_credits": credits, "ttl_seconds": 600},
                     headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply.body["reservation_id"]


def test_balance_after_is_stamped_exactly_in_commit_order(ddb_api, ddb, caller, recorder_factory):
    api, wallet = ddb_api, caller.wallet_id
    api.put_feature("unit-call", "1")
    api.put_feature("half-call", "2.5")
    api.fund(wallet, "100")                                   # 100
    usage(api, caller, "unit-call", "k1")                     # 99
    usage(api, caller, "half-call", "k2")                     # 96.5
    first_hold = reserve(api, caller, "10", "hold-1")         # held 10: balance unchanged
    usage(api, caller, "unit-call", "k3")                     # 95.5
    settled = api.call("deduction_settle_reservation.json", caller=caller, body={"quantity": 1},
                       path=f"/v1/reservations/{first_hold}/settle", path_params={"reservation_id": first_hold})
    assert settled.status == 200, settled                     # 94.5, 9 freed
    second_hold = reserve(api, caller, "5", "hold-2")         # held 5
    released = api.call("deduction_release_reservation.json", caller=caller,
                        path=f"/v1/reservations/{second_hold}/release",
                        path_params={"reservation_id": second_hold})
    assert released.status == 200, released                  # freed 5
    assert api.adjust(wallet, "-3").status == 201             # 91.5
    usage(api, caller, "unit-call", "k1")                     # a replay: writes nothing
    refused = api.call("deduction_post_usage.json", caller=caller, body={"feature": "unit-call", "quantity": 500},
                       headers={"idempotency-key": "too-much"})
    assert refused.status == 402                              # refused: writes nothing

    ledger = entries(wallet)
    assert len(ledger) == 6
    assert posting.read_wallet(wallet).balance == 91_500
    # Before the stream consumer runs, history shows balance_after as null.
    assert set(history_balances(api, caller).values()) == {None}

    arn, records = stream_records(ddb)
    mine = [r for r in records if is_wallet_record(r, wallet)]
    holds_only = [r for r in mine if not changes_balance(r)]
    assert len(mine) == 9  # 6 balance changes, 2 holds, 1 release
    assert len(holds_only) == 3

    recorder = recorder_factory(ddb.client)
    # Holds and releases change reserved/available, never the balance: they stamp nothing. The one
    # write is the wallet's mark for the reconciliation job (its holds against what it reserved).
    with recorder.recording() as calls:
        assert deliver(arn, holds_only) == {"batchItemFailures": []}
    (mark,) = calls
    assert (mark.operation, mark.params["Key"]["PK"]["S"][:6]) == ("UpdateItem", "RECON#"), mark
    assert mark.params["ExpressionAttributeValues"][":s"] == {"SS": [wallet]}

    # The whole stream as Lambda delivers it (entries and reservations too): per entry, one read of
    # it (its type decides which grants it draws on) and one write stamping balance_after, its
    # grants and its day-index keys; per wallet in the batch, one read of its grant book, and one
    # transaction writing the book with what the batch adds to the aggregates.
    with recorder.recording() as calls:
        assert deliver(arn, records) == {"batchItemFailures": []}
    assert [c.operation for c in calls] == ["GetItem"] + ["GetItem", "UpdateItem"] * 6 + ["TransactWriteItems"]
    assert all(c.ok for c in calls)
    stamps = [c for c in calls if c.operation == "UpdateItem"]
    assert {_from_item(c.params["Key"])["SK"] for c in stamps} == {keys.entry_sk(tx) for tx in ledger}
    written = [next(iter(op.values())) for op in calls[-1].params["TransactItems"]]
    sort_keys = [_from_item(op.get("Item") or op["Key"])["SK"] for op in written]
    today = entries(wallet)[next(iter(ledger))]["created_at"][:10]
    # The book, the day's platform figures (one shard), the two features' day, the wallet's usage day
    # and the reconciliation job's mark of the wallet (its minute's set, tollgate.reconciliation.changed).
    marks = [sk for sk in sort_keys if sk.startswith(keys.RECON_WALLETS)]
    assert len(marks) == 1 and len(marks[0]) == len(keys.RECON_WALLETS) + 4, sort_keys
    mark = next(op for op in written if _from_item(op.get("Item") or op["Key"])["SK"] == marks[0])
    assert mark["ExpressionAttributeValues"][":s"] == {"SS": [wallet]}
    assert sorted(sk for sk in sort_keys if sk not in marks) == sorted(
        [keys.GRANTS_SK, f"T#{today}", f"F#{today}#half-call", f"F#{today}#unit-call", f"DAY#{today}"])

    expected = running_balances(records, wallet)
    assert set(expected) == set(ledger)
    stamped = entries(wallet)
    assert {tx: e["balance_after"] for tx, e in stamped.items()} == expected
    assert sorted(expected.values()) == [91_500, 94_500, 95_500, 96_500, 99_000, 100_000]
    # The lowest stamped balance is where the wallet ended: the last commit in stream order.
    assert ledger_state(wallet)["balance"] == 91_500

    # History shows it, through the history handler.
    assert history_balances(api, caller) == {tx: format_credits(b) for tx, b in expected.items()}

    # Delivered again (Lambda retries batches): the same values, no failures, and no write but the
    # wallet's reconciliation mark (its holds' records write no book, so they mark it themselves:
    # adding it to the minute's set again is adding it once): the grant book (read once) already
    # holds every change (so the aggregates count none again). The one credit's entry is read again
    # to tell whether it is an event to publish (credits.granted: an adjustment is not), since the
    # outbox must not miss one a failed attempt left unsent.
    with recorder.recording() as calls:
        assert deliver(arn, records) == {"batchItemFailures": []}
    assert [c.operation for c in calls] == ["GetItem", "GetItem", "UpdateItem"]
    assert _from_item(calls[1].params["Key"])["SK"].startswith(keys.ENTRY_PREFIX)
    assert _from_item(calls[2].params["Key"])["PK"].startswith("RECON#")
    assert entries(wallet) == stamped

    # The stamps (and the grant book, and the aggregates) reach the stream too, and stamp nothing in turn.
    _, after_stamping = stream_records(ddb)
    new = after_stamping[len(records):]
    assert new and all(_from_item(r["dynamodb"]["Keys"])["SK"].startswith(("TX#", "T#", "F#", "D#", "DAY#", keys.RECON_WALLETS))
                       or _from_item(r["dynamodb"]["Keys"])["SK"] == keys.GRANTS_SK for r in new)
    with recorder.recording() as calls:
        assert deliver(arn, new) == {"batchItemFailures": []}
    assert calls == []
    assert entries(wallet) == stamped


def test_concurrent_debits_are_stamped_in_commit_order(ddb_api, ddb, caller):
    """40 debits and 10 holds at once: each entry's balance_after is exact, whatever created_at says."""
    api, wallet = ddb_api, caller.wallet_id
    api.put_feature("unit-call", "1")
    api.fund(wallet, "100")
    requests = [Request("deduction_post_usage.json", caller, body={"feature": "unit-call"},
                        headers={"idempotency-key": f"c-{i}"}) for i in range(40)]
    requests += [Request("deduction_post_reservation.json", caller,
                         body={"feature": "unit-call", "max_credits": "1", "ttl_seconds": 600},
                         headers={"idempotency-key": f"h-{i}"}) for i in range(10)]
    assert {r.status for r in api.concurrently(requests)} == {201}

    arn, records = stream_records(ddb)
    # Several batches, as Lambda may deliver them.
    for start in range(0, len(records), 7):
        assert deliver(arn, records[start:start + 7]) == {"batchItemFailures": []}

    expected = running_balances(records, wallet)
    stamped = {tx: e["balance_after"] for tx, e in entries(wallet).items()}
    assert stamped == expected
    # One-credit debits from 100: every balance from 99 down to 60 appears exactly once.
    assert sorted(v for v in stamped.values() if v != 100 * MC) == [b * MC for b in range(60, 100)]
    assert history_balances(api, caller) == {tx: format_credits(b) for tx, b in expected.items()}


@pytest.fixture(autouse=True)
def _stream_consumer_fresh_state():
    # The stream function's BatchProcessor is module state; start each test from a clean one.
    load_function("ledger_stream")
    yield
