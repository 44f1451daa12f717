"""Reading earnings off stream records, and fitting a developer's batch into transactions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import EVENTS
from tollgate.earnings.accrual import Accrual, _chunks, from_record

SAMPLE = json.loads((EVENTS / "earnings_stream_usage_insert.json").read_text())["Records"][0]


def record(**image: dict) -> dict:
    changed = json.loads(json.dumps(SAMPLE))
    changed["dynamodb"]["NewImage"].update(image)
    return changed


def test_a_usage_entry_with_a_developer_earns_the_floor_of_its_share():
    accrual = from_record(SAMPLE)
    assert accrual is not None
    # 25 credits at 30%: 7.5 credits.
    assert (accrual.developer_id, accrual.cost_mc, accrual.amount_mc, accrual.day) == \
        ("dev-carol", 25_000, 7_500, "2026-11-21")
    odd = from_record(record(amount={"N": "-7777"}, revenue_share_bps={"N": "3333"}))
    assert odd is not None and odd.amount_mc == 2592  # 2592.0741 rounded down


@pytest.mark.parametrize("change", [
    {"type": {"S": "adjustment"}}, {"entity": {"S": "wallet"}}, {"revenue_share_bps": {"N": "0"}},
    {"amount": {"N": "0"}}, {"amount": {"N": "5"}}, {"amount": {"N": "-1"}},  # 1 mc at 30%: floor 0
])
def test_records_that_earn_nothing_are_skipped(change):
    assert from_record(record(**change)) is None


def test_only_inserts_earn():
    modified = json.loads(json.dumps(SAMPLE))
    modified["eventName"] = "MODIFY"  # balance_after being stamped
    assert from_record(modified) is None


def _accrual(i: int, feature: str | None = "f", day: str = "2026-11-21") -> Accrual:
    return Accrual(wallet_id="user:a", transaction_id=f"tx_{i}", developer_id="dev", feature=feature,
                   created_at=f"{day}T00:00:00.000Z", cost_mc=1000, revenue_share_bps=5000)


def test_a_full_batch_of_one_feature_is_one_transaction():
    assert [len(c) for c in _chunks([_accrual(i) for i in range(90)])] == [90]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["2026-11-20", "2026-11-21"])),
                min_size=1, max_size=250))
def test_chunks_keep_every_transaction_within_100_operations(shape):
    items = [_accrual(i, feature, day) for i, (feature, day) in enumerate(shape)]
    chunks = _chunks(items)
    assert [a for c in chunks for a in c] == items
    for chunk in chunks:
        operations = len(chunk) + 2 + len({a.day for a in chunk}) + len({a.feature for a in chunk if a.feature})
        assert operations <= 100
