"""Developers earn their revenue share from the table's stream, exactly once, and read it back.

Usage is posted through the real deduction handler; the table's stream (moto) is read and
handed to the real earnings_stream handler through its template FilterCriteria, as Lambda
would; earnings are read through the real payouts handler.
"""

from __future__ import annotations

import json

import pytest

from tests.functional.developers import CAROL, DAY_MS, SHARE_MC, deliver, earning_records, spend
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    Caller,
    advance_clock,
    assert_earnings_invariant,
    assert_ledger_invariant,
    earnings_state,
    invoke,
    sample_event,
)
from tollgate import earnings


def my_earnings(caller: Caller = CAROL):
    return invoke("payouts_get_my_earnings.json", caller=caller)


def test_each_usage_entry_earns_its_share_once_however_often_it_is_delivered(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    fund("user:bob", "1000")
    for i in range(5):
        spend(ALICE, "summarize", f"a-{i}")
    spend(BOB, "summarize", "b-0")
    spend(ALICE, "ai-insight", "no-developer")  # no developer: earns nobody anything
    spend(ALICE, "ai-plugin-generate", "kodella", usage={"input_tokens": 100, "output_tokens": 50})

    records = earning_records(aws)
    assert len(records) == 7  # the filter lets through the developers' usage entries only
    for _ in range(3):  # redelivered whole
        assert deliver(records) == {"batchItemFailures": []}
    deliver(records[:3])  # and split, then again
    deliver(records[3:])

    carol = assert_earnings_invariant("dev-carol")
    assert carol == {"earned": 6 * SHARE_MC, "pending": 6 * SHARE_MC, "available": 0, "in_payout": 0, "paid": 0}
    # 100 x 0.1 + 50 x 0.2 = 20 credits, 70% to dev-kodella.
    assert assert_earnings_invariant("dev-kodella")["earned"] == 20_000 * 7000 // 10_000
    assert_ledger_invariant("user:alice")


def test_a_batch_accrues_with_one_balance_write_per_developer(aws, developer_catalog, fund):
    from tollgate.earnings import repository

    fund("user:alice", "1000")
    for i in range(10):
        spend(ALICE, "summarize", f"a-{i}")
    deliver(earning_records(aws))
    logs = repository.logs("dev-carol")
    assert [(log.kind, log.count) for log in logs] == [("accrual", 10)]
    assert earnings_state("dev-carol")["earned"] == 10 * SHARE_MC


def test_the_developer_reads_earnings_by_feature_and_day(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    for i in range(3):
        spend(ALICE, "summarize", f"a-{i}")
    deliver(earning_records(aws))

    reply = my_earnings()
    assert reply.status == 200, reply
    body = reply.body
    share = f"{3 * SHARE_MC / 1000:.3f}".rstrip("0").rstrip(".")
    assert body["developer_id"] == "dev-carol"
    assert (body["earned"], body["pending"], body["available"], body["in_payout"], body["paid"]) == \
        (share, share, "0", "0", "0")
    assert body["by_feature"] == [{"feature": "summarize", "earned": share, "calls": 3}]
    assert len(body["by_day"]) == 30
    assert body["by_day"][-1]["earned"] == share
    assert all(d["earned"] == "0" for d in body["by_day"][:-1])
    assert body["hold_days"] == 7


def test_earnings_become_available_after_the_hold(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    spend(ALICE, "summarize", "a-0")
    deliver(earning_records(aws))
    advance_clock(6 * DAY_MS)
    assert my_earnings().body["available"] == "0"
    advance_clock(2 * DAY_MS)
    body = my_earnings().body
    assert (body["pending"], body["available"]) == ("0", "2.592")
    assert earnings_state("dev-carol")["available"] == 0  # a read never writes

    matured = earnings.mature("dev-carol", hold_days=7)
    assert (matured.pending, matured.available) == (0, SHARE_MC)
    assert_earnings_invariant("dev-carol")
    assert earnings.mature("dev-carol", hold_days=7).seq == matured.seq  # nothing left to move


def test_after_maturing_a_new_day_is_pending_and_a_redelivered_old_one_counts_once(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    spend(ALICE, "summarize", "day-0")
    deliver(earning_records(aws))
    advance_clock(10 * DAY_MS)
    spend(ALICE, "summarize", "day-10")
    earnings.mature("dev-carol", hold_days=7)  # matures through day 3: day 0's earning
    deliver(earning_records(aws))  # day 0's entry again, and day 10's
    state = assert_earnings_invariant("dev-carol")
    assert (state["pending"], state["available"]) == (SHARE_MC, SHARE_MC)


def test_a_late_entry_of_a_matured_day_is_available_at_once(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    spend(ALICE, "summarize", "day-0")
    records = earning_records(aws)
    deliver(records)
    spend(ALICE, "summarize", "day-0-late")
    late = [r for r in earning_records(aws) if r not in records]
    advance_clock(8 * DAY_MS)
    earnings.mature("dev-carol", hold_days=7)
    # The accrual assumes "pending"; the balance refuses it (day 0 has matured) and hands back
    # its matured_through in the cancellation, without a read; the retry makes it available.
    deliver(late)
    state = assert_earnings_invariant("dev-carol")
    assert (state["pending"], state["available"]) == (0, 2 * SHARE_MC)


def test_only_developers_read_their_earnings_and_admins_any(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    spend(ALICE, "summarize", "a-0")
    deliver(earning_records(aws))

    refused = my_earnings(ALICE)
    assert (refused.status, refused.error_code) == (403, "forbidden")
    admin = invoke("payouts_admin_get_earnings.json", caller=ADMIN)
    assert admin.status == 200 and admin.body["earned"] == "2.592", admin
    not_admin = invoke("payouts_admin_get_earnings.json", caller=CAROL)
    assert (not_admin.status, not_admin.error_code) == (403, "forbidden")
    nobody = invoke("payouts_admin_get_earnings.json", caller=ADMIN, path="/v1/admin/developers/nobody/earnings",
                    path_params={"developer_id": "nobody"})
    assert nobody.status == 200 and nobody.body["earned"] == "0" and nobody.body["by_feature"] == []


def test_a_developer_with_no_earnings_sees_zeros(aws):
    body = my_earnings().body
    assert (body["earned"], body["pending"], body["available"]) == ("0", "0", "0")
    assert len(body["by_day"]) == 30


@pytest.mark.parametrize("change", [
    {"earnings_hold_days": -1}, {"earnings_hold_days": 366}, {"earnings_hold_days": "7"},
    {"payout_rates": {"USD": "0"}}, {"payout_rates": {"USD": "-1"}}, {"payout_rates": {"USD": "1.2345"}},
    {"payout_rates": {"USD": 1}}, {"payout_rates": {"EUR": "1"}}, {"payout_minimums": {"USD": 0}},
    {"payout_minimums": {"GBP": 100}}, {"payout_minimums": {"USD": "100"}},
])
def test_payout_settings_refuse_nonsense(aws, change):
    before = invoke("admin_get_settings.json", caller=ADMIN).body
    reply = invoke("admin_put_settings.json", caller=ADMIN, body={**_settings_body(), **change})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert invoke("admin_get_settings.json", caller=ADMIN).body == before


def test_payout_settings_are_kept(aws):
    body = {**_settings_body(), "earnings_hold_days": 0, "payout_rates": {"USD": "0.8", "NGN": "12.5"},
            "payout_minimums": {"USD": 1000, "NGN": 500000}}
    reply = invoke("admin_put_settings.json", caller=ADMIN, body=body)
    assert reply.status == 200, reply
    got = invoke("admin_get_settings.json", caller=ADMIN).body
    assert (got["earnings_hold_days"], got["payout_rates"], got["payout_minimums"]) == \
        (0, {"USD": "0.8", "NGN": "12.5"}, {"USD": 1000, "NGN": 500000})
    assert my_earnings().body["currency_rates"] == {"USD": "0.8", "NGN": "12.5"}


def _settings_body() -> dict:
    return json.loads(sample_event("admin_put_settings.json")["body"])


def post_reversal(usage: dict, credits_mc: int, key: str) -> None:
    """A reversal entry as a usage reversal writes it (the consumer's contract: see
    tollgate.earnings.reversal): credits given back for a usage entry, naming it and its developer."""
    from tollgate import clock
    from tollgate.ledger import posting

    entry = posting.new_entry(wallet_id=usage["wallet_id"], transaction_id=f"tx_rev_{key}", entry_type="reversal",
                              amount=credits_mc, now_ms=clock.now_ms(), request_hash="0" * 64, actor="user:root",
                              reference=usage["transaction_id"], developer_id="dev-carol", feature="summarize")
    posting.credit(entry, credits_mc)


def test_a_reversed_usage_entry_takes_its_earning_back_in_proportion_once(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    usage = spend(ALICE, "summarize", "a-0")
    spend(ALICE, "summarize", "a-1")
    deliver(earning_records(aws))
    post_reversal(usage, 3000, "one")  # 3 of the 7.777 credits given back
    post_reversal(usage, 4777, "two")  # and the rest
    for _ in range(2):  # redelivered whole: each reversal applies once
        assert deliver(earning_records(aws)) == {"batchItemFailures": []}
    state = assert_earnings_invariant("dev-carol")
    assert state["earned"] == SHARE_MC  # the other call's share is all that is left
    from tollgate.earnings import repository

    first = repository.earning("user:alice", usage["transaction_id"])
    assert (first.reversed_mc, first.reversed_cost_mc) == (SHARE_MC, 7777)
    assert assert_ledger_invariant("user:alice")["balance"] == 1000_000 - 7777


def test_a_partial_reversal_after_maturing_comes_out_of_available(aws, developer_catalog, fund):
    fund("user:alice", "1000")
    usage = spend(ALICE, "summarize", "a-0")
    deliver(earning_records(aws))
    advance_clock(8 * DAY_MS)
    earnings.mature("dev-carol", hold_days=7)
    post_reversal(usage, 1000, "late")  # 1 credit of 7.777 given back after the hold
    for _ in range(3):  # redelivered: a partial reversal applies once
        deliver(earning_records(aws))
    state = assert_earnings_invariant("dev-carol")
    taken = SHARE_MC * 1000 // 7777
    assert (state["pending"], state["available"], state["earned"]) == (0, SHARE_MC - taken, SHARE_MC - taken)
