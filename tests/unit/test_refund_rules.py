"""Refund eligibility (seed 003's rules) and how Compensate reads the error it is handed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate import clock
from tollgate.purchases.models import PurchaseItem
from tollgate.refunds.eligibility import DAY_MS, assess, money_for, unrefunded_mc
from tollgate.refunds.webhooks import external_minor
from tollgate.refunds.workflow import failure_of

PAID_AT = "2026-11-01T00:00:00.000Z"
PAID_MS = clock.parse_rfc3339(PAID_AT)


def purchase(**fields) -> PurchaseItem:
    values = {"purchase_id": "pur_x", "wallet_id": "user:a", "status": "paid", "amount": 1000, "currency": "USD",
              "credits_mc": 100_000, "paid_at": PAID_AT, **fields}
    return PurchaseItem("PURCHASE#pur_x", "PURCHASE", **values)


def test_a_fresh_paid_purchase_is_refundable_in_full():
    got = assess(purchase(), 100_000, 14, PAID_MS + DAY_MS)
    assert (got.eligible, got.reasons, got.refundable_mc, got.refundable_amount) == (True, (), 100_000, 1000)


def test_only_unused_credits_are_refundable_and_money_is_proportional_rounded_down():
    got = assess(purchase(clawed_back_mc=10_000), 33_333, 14, PAID_MS)
    assert (got.eligible, got.refundable_mc, got.refundable_amount) == (True, 33_333, 333)  # 333.33
    spent = assess(purchase(), 0, 14, PAID_MS)
    assert (spent.eligible, spent.reasons, spent.view().model_dump(mode="json")["refundable_credits"]) == \
        (False, ("credits_used",), "0")


@pytest.mark.parametrize(("fields", "now_ms", "reasons"), [
    ({"status": "pending", "paid_at": None}, PAID_MS, ("not_paid",)),
    ({"status": "failed", "paid_at": None}, PAID_MS, ("not_paid",)),
    ({"status": "disputed"}, PAID_MS, ("not_paid",)),
    ({"status": "refunded", "clawed_back_mc": 100_000}, PAID_MS, ("already_refunded",)),
    ({"status": "partially_refunded", "clawed_back_mc": 60_000, "unrecovered_mc": 40_000}, PAID_MS,
     ("already_refunded",)),
    ({}, PAID_MS + 14 * DAY_MS + 1, ("window_expired",)),
    ({"status": "refunded", "clawed_back_mc": 100_000}, PAID_MS + 15 * DAY_MS, ("already_refunded", "window_expired")),
])
def test_each_failing_rule_is_a_reason(fields, now_ms, reasons):
    got = assess(purchase(**fields), 100_000, 14, now_ms)
    assert (got.eligible, got.reasons) == (False, reasons)


def test_the_window_includes_its_last_millisecond():
    assert assess(purchase(), 100_000, 14, PAID_MS + 14 * DAY_MS).eligible


@given(amount=st.integers(1, 10**9), credits=st.integers(1, 10**9), data=st.data())
def test_money_for_credits_is_exact_and_never_more_than_paid(amount, credits, data):
    part = data.draw(st.integers(0, credits))
    item = purchase(amount=amount, credits_mc=credits)
    assert money_for(item, part) == amount * part // credits <= amount
    assert money_for(item, credits) == amount


def test_unrefunded_never_goes_negative():
    assert unrefunded_mc(purchase(clawed_back_mc=90_000, unrecovered_mc=20_000)) == 0


@pytest.mark.parametrize(("error", "expected"), [
    ({"Error": "PermanentRefundError", "Cause": json.dumps({"errorMessage": "credits_used: spent",
                                                            "errorType": "PermanentRefundError"})},
     ("credits_used", True)),
    ({"Error": "RefundFailed", "Cause": "gateway_failed: declined by the bank"}, ("gateway_failed", True)),
    ({"Error": "PermanentRefundError", "Cause": json.dumps({"errorMessage": "gateway_refused: 400"})},
     ("gateway_refused", True)),
    ({"Error": "TransientRefundError", "Cause": json.dumps({"errorMessage": "timeout"})}, ("gateway_failed", False)),
    ({"Error": "States.Timeout", "Cause": ""}, ("gateway_failed", False)),
    (None, ("gateway_failed", False)),
])
def test_compensate_reads_the_reason_and_whether_the_failure_is_definitive(error, expected):
    code, message, definitive = failure_of(error)
    assert (code, definitive) == expected
    assert len(message) <= 500


def test_a_cumulative_refunded_total_counts_only_what_is_not_ours_or_already_applied():
    ours = purchase(own_refunds={"rf_a": 400}, refunded_amount=400, own_refunded_amount=400)
    assert external_minor(ours, 400) == 0  # Stripe's charge.refunded for our own refund
    assert external_minor(ours, 700) == 300  # and a dashboard refund of 300 on top
    both = purchase(own_refunds={"rf_a": 400}, refunded_amount=700, own_refunded_amount=400)
    assert external_minor(both, 700) == 0  # that one already applied
    in_flight = purchase(own_refunds={"rf_a": 400, "rf_b": 100}, refunded_amount=400, own_refunded_amount=400)
    assert external_minor(in_flight, 500) == 0
