"""scripts/capacity.py: the per-partition capacity model, on hand-made request-log records.

No DynamoDB: records are built here (as scripts/load.py writes them) and the expected figures
are worked out from DynamoDB's limits (1,000 WCU/s and 3,000 RCU/s per partition key).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_capacity() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tollgate_scripts_capacity", ROOT / "scripts" / "capacity.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


capacity = _load_capacity()
Request = capacity.Request
WALLET = "WALLET#user:alice"
TABLE = "tollgate"


def debits(n: int, *, per_second: float, pk: Callable[[int], str] = lambda _: WALLET, wcu: float = 6.0,
           rcu: float = 1.0, status: int = 201, first: int = 0, start: float = 0.0) -> list:
    """``n`` debits ``first``.. arriving at ``per_second``: each a write of ``wcu`` and, if it
    succeeded, a read of ``rcu`` on the partition ``pk(i)`` (a refusal writes nothing, as a
    cancelled transaction reports no capacity)."""
    out = []
    for i in range(first, first + n):
        t = start + (i - first) / per_second
        ok = status == 201
        out.append(Request(t=t, op="TransactWriteItems", writes={pk(i): wcu if ok else 0.0}, reads={}, ok=ok,
                           debit=i, status=status))
        if ok:
            out.append(Request(t=t + 0.0001, op="GetItem", writes={}, reads={pk(i): rcu}, debit=i, status=status))
    return out


# ---------------------------------------------------------------------------------------
# Units per debit and the sustainable rate
# ---------------------------------------------------------------------------------------


def test_six_wcu_per_debit_on_one_partition_sustain_1000_over_6():
    log = debits(300, per_second=100)
    rate, hottest = capacity.sustainable_rate(log)
    assert rate == pytest.approx(1000 / 6)  # 166.7
    assert hottest.pk == WALLET
    assert hottest.wcu_per_debit == pytest.approx(6.0)
    assert hottest.rcu_per_debit == pytest.approx(1.0)
    assert hottest.limited_by == "writes"


def test_units_are_divided_by_successful_debits_only():
    # 300 successes and 100 refusals: the refusals' requests add no units, and they are not debits.
    log = debits(300, per_second=100) + debits(100, per_second=100, status=402, first=300, start=3.0)
    assert capacity.successful_debits(log) == 300
    assert capacity.sustainable_rate(log)[0] == pytest.approx(1000 / 6)
    # Divided by twice as many debits, every debit costs half: twice the rate.
    assert capacity.sustainable_rate(log, debits=600)[0] == pytest.approx(2000 / 6)


def test_writes_spread_over_16_partitions_sustain_16_times_as_many_debits():
    one = capacity.sustainable_rate(debits(1600, per_second=100))[0]
    log = debits(1600, per_second=100, pk=lambda i: f"P#{i % 16}")
    rate, hottest = capacity.sustainable_rate(log)
    assert rate == pytest.approx(16 * one)
    assert len(capacity.partition_loads(log)) == 16
    assert hottest.wcu_per_debit == pytest.approx(6 / 16)


def test_uneven_spread_is_limited_by_the_hottest_partition():
    # Half of the debits on one key, the other half over three: the first takes 3 WCU a debit.
    log = debits(600, per_second=100, pk=lambda i: "HOT" if i % 2 == 0 else f"COOL#{i % 3}")
    rate, hottest = capacity.sustainable_rate(log)
    assert hottest.pk == "HOT"
    assert rate == pytest.approx(1000 / 3)


def test_reads_are_limited_at_3000_rcu_a_second():
    log = debits(100, per_second=100, wcu=1.0, rcu=40.0)
    rate, hottest = capacity.sustainable_rate(log)
    assert rate == pytest.approx(3000 / 40)  # 75, well under the 1000 the writes would allow
    assert hottest.limited_by == "reads"
    # The same reads with the writes as the binding limit.
    assert capacity.sustainable_rate(debits(100, per_second=100, wcu=20.0, rcu=40.0))[0] == pytest.approx(50)


def test_successful_debits_without_debit_fields_counts_successful_writes():
    log = [Request(t=i, op="TransactWriteItems", writes={WALLET: 6.0}, reads={}, ok=i % 4 != 0) for i in range(8)]
    log.append(Request(t=9, op="GetItem", writes={}, reads={WALLET: 1.0}))
    assert capacity.successful_debits(log) == 6


def test_a_log_without_successes_has_no_rate():
    with pytest.raises(ValueError, match="no successful debit"):
        capacity.partition_loads(debits(10, per_second=10, status=402))


# ---------------------------------------------------------------------------------------
# Replay through token buckets
# ---------------------------------------------------------------------------------------


def test_replay_does_not_throttle_below_the_limit():
    log = debits(2000, per_second=1000)
    result = capacity.replay(log, 150)  # 900 WCU/s on the wallet's key
    assert result.requests == 4000
    assert result.throttled == 0
    assert result.delay_p99_ms == 0


def test_replay_throttles_above_the_limit_and_reports_the_wait():
    log = debits(2000, per_second=1000)
    result = capacity.replay(log, 300)  # 1,800 WCU/s against 1,000
    assert result.scale == pytest.approx(1000 / 300, rel=1e-3)
    # Write i arrives at i/300 s and finds 1000 + 1000 i/300 - 6 i WCU: the first 373 find 6; the reads
    # (1 RCU each against 3,000 RCU/s) never wait.
    assert result.throttled == 2000 - 373
    assert result.throttled_fraction == pytest.approx(1627 / 4000)
    assert 299 <= result.peak_debits_per_second <= 301
    assert result.delay_p99_ms > 1000
    # The bucket starts with one second (1,000 WCU) and refills at 1,000 WCU/s, so the 12,000 WCU of the
    # 2,000 writes are all served 11 s after the start; the last arrives at 1999/300 s.
    assert result.delay_max_ms == pytest.approx((11 - 1999 / 300) * 1000, rel=0.01)


def test_replay_skips_requests_that_consumed_nothing():
    log = debits(100, per_second=100) + debits(50, per_second=100, status=402, first=100, start=1.0)
    assert capacity.replay(log, 100).requests == 200  # the 100 writes and 100 reads; no refusal


def test_burst_capacity_lets_a_short_spike_through():
    # One second at 500 debits/s: 3,000 WCU on one key, three times the limit.
    spike = debits(500, per_second=500)
    sustained = capacity.replay(spike, 500)
    # Write i arrives at i/500 s and finds 1000 + 2 i - 6 i WCU: the first 249 are served at once.
    assert sustained.throttled == 500 - 249
    bursting = capacity.replay(spike, 500, burst_seconds=300)
    assert bursting.throttled == 0
    assert bursting.delay_max_ms == 0
    # 2 s of burst (2,000 WCU more than the one second) cover it as well; 1 s does not.
    assert capacity.replay(spike, 500, burst_seconds=2).throttled == 0
    assert capacity.replay(spike, 500, burst_seconds=1).throttled > 0


def test_burst_is_at_most_300_seconds():
    with pytest.raises(ValueError, match="burst_seconds"):
        capacity.replay(debits(10, per_second=10), 10, burst_seconds=301)


def test_a_small_request_waits_behind_a_larger_one_already_waiting():
    # 800 WCU at 0 s leaves 200; 900 WCU at 0.01 s waits until 0.7 s; 1 WCU at 0.02 s is served after it.
    log = [Request(t=t, op="PutItem", writes={"A": u}, reads={}, debit=i, status=201)
           for i, (t, u) in enumerate([(0.0, 800.0), (0.01, 900.0), (0.02, 1.0)])]
    result = capacity.replay(log, capacity.observed_rate(log))
    assert result.scale == pytest.approx(1.0)
    assert result.throttled == 2
    assert result.delay_max_ms == pytest.approx(690)  # the 900 WCU write: 0.7 s - 0.01 s
    # The waits are 0, 690 and 681 ms (the 1 WCU write: served at 0.701 s, arrived at 0.02 s): the median is 681.
    assert result.delay_p50_ms == pytest.approx(681)


def test_a_transaction_waits_for_every_key_it_writes():
    # Each request writes 600 WCU to A and 600 to B: B alone would never be short, but the pair
    # is served only when both have the units.
    log = [Request(t=i * 0.1, op="TransactWriteItems", writes={"A": 600.0, "B": 600.0}, reads={}, debit=i,
                   status=201) for i in range(3)]
    log.append(Request(t=0.05, op="PutItem", writes={"A": 600.0}, reads={}, debit=99, status=201))
    result = capacity.replay(log, capacity.observed_rate(log))
    assert result.throttled == 3  # A runs dry after 1,000 WCU; B is held back with it
    per_key = capacity.partition_loads(log)
    assert {p.pk for p in per_key} == {"A", "B"}


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert capacity.percentile(values, 50) == 50
    assert capacity.percentile(values, 99) == 99
    assert capacity.percentile([], 99) == 0.0


# ---------------------------------------------------------------------------------------
# Rate per shard count
# ---------------------------------------------------------------------------------------


def test_wallet_partition_keys_split_into_shards():
    assert capacity.split_wallet_pk("WALLET#user:alice") == ("user:alice", 0)
    assert capacity.split_wallet_pk("WALLET#org:acme#S3") == ("org:acme", 3)
    assert capacity.split_wallet_pk("WALLET#org:acme#E17") == ("org:acme", None)
    assert capacity.split_wallet_pk("CATALOG") is None
    assert capacity.split_wallet_pk("MEMBERSPEND#acme#bob") is None


def test_todays_layout_is_one_shard_of_166_debits_a_second():
    (wallet,) = capacity.rate_per_shard(debits(300, per_second=100))
    assert wallet.wallet_id == "user:alice"
    assert wallet.shard_count == 1
    assert wallet.rate == pytest.approx(1000 / 6)
    assert wallet.rate_with(30) == pytest.approx(30 * 1000 / 6)
    assert wallet.shards_for(5000) == 30  # 5,000 x 6 WCU / 1,000 WCU per shard
    assert wallet.shards_for(100) == 1


def test_shards_are_grouped_by_their_suffix():
    def pk(i: int) -> str:
        return WALLET if i % 4 == 0 else f"{WALLET}#S{i % 4}"

    catalog = [Request(t=i, op="Query", writes={}, reads={"CATALOG": 1.0}) for i in range(4)]  # no debit's
    log = debits(400, per_second=100, pk=pk) + catalog
    wallets = capacity.rate_per_shard(log)
    assert [w.wallet_id for w in wallets] == ["user:alice"]
    (wallet,) = wallets
    assert sorted(wallet.shards) == [0, 1, 2, 3]
    assert wallet.shard_count == 4
    assert wallet.rate == pytest.approx(4 * 1000 / 6)
    assert wallet.one_shard_rate == pytest.approx(1000 / 6)


def test_other_wallet_keys_cap_what_more_shards_can_give():
    # Each debit: 2 WCU on its shard (the shard item), 4 on one of two entry partitions (entry and LSI row).
    log = []
    for i in range(400):
        shard = WALLET if i % 4 == 0 else f"{WALLET}#S{i % 4}"
        log.append(Request(t=i / 100, op="TransactWriteItems", writes={shard: 2.0, f"{WALLET}#E{i % 2}": 4.0},
                           reads={}, debit=i, status=201))
    (wallet,) = capacity.rate_per_shard(log)
    assert wallet.shard_count == 4
    assert [p.pk for p in wallet.others] == [f"{WALLET}#E0", f"{WALLET}#E1"]
    assert wallet.others_rate == pytest.approx(1000 / 2)  # each entry partition takes 2 WCU a debit
    assert wallet.rate == pytest.approx(500)
    assert wallet.rate_with(100) == pytest.approx(500)  # shards alone cannot pass the entry partitions
    assert wallet.shards_for(400) == 1  # one shard taking all 2 WCU sustains 500
    assert wallet.shards_for(600) is None


# ---------------------------------------------------------------------------------------
# The log's records: keys from the parameters, units from ConsumedCapacity
# ---------------------------------------------------------------------------------------

SCHEMA = capacity.Schema(hash_key="PK", lsi_sort_keys={"LSI1": "LSI1SK"},
                         gsi_hash_keys={"GSI1": "GSI1PK", "GSI2": "GSI2PK"})


def debit_transaction(entry_pk: str, wallet_pk: str) -> dict:
    """A debit's TransactWriteItems parameters as PynamoDB sends them (entry put, wallet update)."""
    return {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": {"PK": {"S": entry_pk}, "SK": {"S": "TX#tx_1"},
                                              "LSI1SK": {"S": "2026-01-01T00:00:00Z#tx_1"}, "amount": {"N": "-1000"}},
                 "ConditionExpression": "attribute_not_exists (#0)", "ExpressionAttributeNames": {"#0": "PK"}}},
        {"Update": {"TableName": TABLE, "Key": {"PK": {"S": wallet_pk}, "SK": {"S": "WALLET"}},
                    "UpdateExpression": "SET #0 = #0 - :0, #1 = :1", "ExpressionAttributeNames": {"#0": "balance",
                                                                                                   "#1": "last_tx"},
                    "ExpressionAttributeValues": {":0": {"N": "1000"}, ":1": {"S": "tx_1"}}}},
    ]}


DEBIT_CONSUMED = [{"TableName": TABLE, "CapacityUnits": 6.0, "Table": {"CapacityUnits": 4.0},
                   "LocalSecondaryIndexes": {"LSI1": {"CapacityUnits": 2.0}}}]


def test_a_debit_puts_six_wcu_on_the_wallets_key():
    params = debit_transaction(WALLET, WALLET)
    found = capacity.targets("TransactWriteItems", params, SCHEMA)
    assert [t.pk for t in found] == [WALLET, WALLET]
    assert capacity.attribute("TransactWriteItems", found, DEBIT_CONSUMED, SCHEMA) == {WALLET: 6.0}


def test_an_lsi_row_is_charged_to_the_partition_of_the_item_that_writes_it():
    found = capacity.targets("TransactWriteItems", debit_transaction(f"{WALLET}#E3", f"{WALLET}#S1"), SCHEMA)
    units = capacity.attribute("TransactWriteItems", found, DEBIT_CONSUMED, SCHEMA)
    # The table's 4 split between the two items, the LSI's 2 to the entry (it has LSI1SK).
    assert units == {f"{WALLET}#E3": 4.0, f"{WALLET}#S1": 2.0}


def test_a_cancelled_transaction_lists_its_keys_with_no_units():
    found = capacity.targets("TransactWriteItems", debit_transaction(f"{WALLET}#E3", WALLET), SCHEMA)
    assert capacity.attribute("TransactWriteItems", found, None, SCHEMA) == {f"{WALLET}#E3": 0.0, WALLET: 0.0}


def test_a_gsi_write_is_charged_to_the_gsi_key():
    params = {"TableName": TABLE, "Key": {"PK": {"S": "RES#r1"}, "SK": {"S": "RES"}},
              "UpdateExpression": "SET #0 = :0, #1 = :1",
              "ExpressionAttributeNames": {"#0": "GSI1PK", "#1": "GSI1SK"},
              "ExpressionAttributeValues": {":0": {"S": "HOLDS#7"}, ":1": {"S": "2026"}}}
    found = capacity.targets("UpdateItem", params, SCHEMA)
    consumed = {"TableName": TABLE, "CapacityUnits": 2.0, "Table": {"CapacityUnits": 1.0},
                "GlobalSecondaryIndexes": {"GSI1": {"CapacityUnits": 1.0}}}
    assert capacity.attribute("UpdateItem", found, consumed, SCHEMA) == {"RES#r1": 1.0, "GSI:GSI1:HOLDS#7": 1.0}
    # A put carries the value in its item; without the value in the request, the index alone is named.
    put = capacity.targets("PutItem", {"Item": {"PK": {"S": "PURCHASE#p"}, "GSI2PK": {"S": "PURCHASES"}}}, SCHEMA)
    gsi2 = {"CapacityUnits": 2.0, "Table": {"CapacityUnits": 1.0}, "GlobalSecondaryIndexes": {"GSI2": {"CapacityUnits": 1.0}}}
    assert capacity.attribute("PutItem", put, gsi2, SCHEMA) == {"PURCHASE#p": 1.0, "GSI:GSI2:PURCHASES": 1.0}
    delete = capacity.targets("DeleteItem", {"Key": {"PK": {"S": "PURCHASE#p"}, "SK": {"S": "PURCHASE"}}}, SCHEMA)
    assert capacity.attribute("DeleteItem", delete, gsi2, SCHEMA) == {"PURCHASE#p": 1.0, "GSI:GSI2": 1.0}


def test_reads_are_charged_to_the_key_they_read():
    get = capacity.targets("GetItem", {"Key": {"PK": {"S": WALLET}, "SK": {"S": "WALLET"}}}, SCHEMA)
    assert capacity.attribute("GetItem", get, {"CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}, SCHEMA) == {
        WALLET: 1.0}
    history = {"KeyConditionExpression": "#0 = :0", "IndexName": "LSI1", "ExpressionAttributeNames": {"#0": "PK"},
               "ExpressionAttributeValues": {":0": {"S": WALLET}}}
    assert [t.pk for t in capacity.targets("Query", history, SCHEMA)] == [WALLET]
    holds = {"KeyConditionExpression": "#0 = :0 AND #1 < :1", "IndexName": "GSI1",
             "ExpressionAttributeNames": {"#0": "GSI1PK", "#1": "GSI1SK"},
             "ExpressionAttributeValues": {":0": {"S": "HOLDS#3"}, ":1": {"S": "2026"}}}
    found = capacity.targets("Query", holds, SCHEMA)
    consumed = {"CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0},
                "GlobalSecondaryIndexes": {"GSI1": {"CapacityUnits": 0.5}}}
    assert capacity.attribute("Query", found, consumed, SCHEMA) == {"GSI:GSI1:HOLDS#3": 0.5}


def test_schema_from_the_template_definition():
    definition = {"KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                  "LocalSecondaryIndexes": [{"IndexName": "LSI1", "KeySchema": [
                      {"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "LSI1SK", "KeyType": "RANGE"}]}],
                  "GlobalSecondaryIndexes": [{"IndexName": "GSI1", "KeySchema": [
                      {"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]}]}
    schema = capacity.Schema.from_definition(definition)
    assert schema.hash_key == "PK"
    assert dict(schema.lsi_sort_keys) == {"LSI1": "LSI1SK"}
    assert dict(schema.gsi_hash_keys) == {"GSI1": "GSI1PK"}


def test_records_round_trip_through_the_log_format():
    write = capacity.make_record(1.5, "TransactWriteItems", {WALLET: 6.0}, True, 12.34567, error=None, debit=3,
                                 status=201)
    assert write["writes"] == [{"pk": WALLET, "wcu": 6.0}]
    assert write["reads"] == []
    read = capacity.make_record(1.6, "GetItem", {WALLET: 1.0}, True, 2.0)
    assert read["reads"] == [{"pk": WALLET, "rcu": 1.0}]
    parsed = capacity.parse_record({**write, "writes": [{"pk": WALLET, "wcu": 4.0}, {"pk": WALLET, "wcu": 2.0}]})
    assert parsed.writes == {WALLET: 6.0}  # a key listed twice has its units summed
    assert (parsed.debit, parsed.status, parsed.ok, parsed.ms, parsed.retries) == (3, 201, True, 12.346, 0)
    assert capacity.parse_record({**read, "retries": 2}).retries == 2


def test_report_puts_it_together():
    log = debits(300, per_second=100)
    log[0] = Request(**{**log[0].__dict__, "retries": 1})
    data = capacity.report(log, [150, 5000])
    assert data["successful_debits"] == 300
    assert data["retried_requests"] == 1
    assert data["sustainable_debits_per_second"] == pytest.approx(166.667)
    assert data["hottest_partition"] == WALLET
    assert data["wallets"][0]["shards_needed"] == {"150": 1, "5000": 30}
    low, high = data["replays"]
    assert low["throttled"] == 0
    assert high["throttled_fraction"] > 0
    assert math.isclose(data["observed_debits_per_second"], 300 / (299 / 100 + 0.0001), rel_tol=1e-3)
