"""Which stream record is which event (tollgate.events.derive), record by record: the rules the
functional tier's workload does not reach (payouts, refunds) and the edges of the crossings."""

from __future__ import annotations

from typing import Any

import pytest

from tollgate.events.derive import derive
from tollgate.events.types import EventType

AT = "2026-12-02T10:00:00.000Z"


def image(**values: Any) -> dict[str, Any]:
    return {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}


def record(sk: str, new: dict[str, Any], old: dict[str, Any] | None = None, name: str = "MODIFY") -> dict[str, Any]:
    change: dict[str, Any] = {"Keys": image(PK="X#1", SK=sk), "NewImage": new}
    if old is not None:
        change["OldImage"] = old
    return {"eventName": name, "dynamodb": change}


def wallet(available: int, *, balance: int | None = None, seq: int = 1, tx: str = "tx_1", low: int | None = None):
    values = {"wallet_id": "user:alice", "balance": available if balance is None else balance, "available": available,
              "seq": seq, "last_tx": tx, "updated_at": AT}
    if low is not None:
        values["low_balance_mc"] = low
    return image(**values)


def events(rec: dict[str, Any], entry_type: str | None = "usage") -> list:
    return derive(rec, lambda wallet_id, tx: entry_type, received_at=AT)


def kinds(rec: dict[str, Any], entry_type: str | None = "usage") -> list[str]:
    return [e.type.value for e in events(rec, entry_type)]


def test_a_crossing_below_the_threshold_is_one_credits_low_and_staying_below_is_none():
    assert kinds(record("WALLET", wallet(49_000, seq=6, tx="tx_6", low=50_000),
                        wallet(50_000, seq=5, tx="tx_5", low=50_000))) == ["credits.low"]
    assert kinds(record("WALLET", wallet(40_000, seq=7, tx="tx_7", low=50_000),
                        wallet(49_000, seq=6, tx="tx_6", low=50_000))) == []
    # Rising above and falling again is a new crossing, with a new id.
    first = events(record("WALLET", wallet(49_000, seq=6, low=50_000), wallet(50_000, seq=5, low=50_000)))
    again = events(record("WALLET", wallet(10_000, seq=9, low=50_000), wallet(60_000, seq=8, low=50_000)))
    assert first[0].id != again[0].id
    # A hold lowers available without moving the balance: still a crossing.
    assert kinds(record("WALLET", wallet(45_000, balance=60_000, seq=3, tx="tx_1", low=50_000),
                        wallet(60_000, seq=2, tx="tx_1", low=50_000))) == ["credits.low"]
    # Setting a threshold above what is available is not a crossing; nor is a wallet's first write.
    assert kinds(record("WALLET", wallet(10_000, low=50_000), wallet(10_000))) == []
    assert kinds(record("WALLET", wallet(10_000, low=50_000), name="INSERT")) == []


def test_reaching_zero_is_credits_depleted_once():
    assert kinds(record("WALLET", wallet(0, seq=4, tx="tx_4"), wallet(5_000, seq=3, tx="tx_3"))) == [
        "credits.depleted"]
    assert kinds(record("WALLET", wallet(0, seq=5, tx="tx_5"), wallet(0, seq=4, tx="tx_4"))) == []


def test_credits_granted_only_for_purchases_allocations_and_grants():
    rise = record("WALLET", wallet(30_000, seq=2, tx="tx_2"), wallet(10_000, seq=1, tx="tx_1"))
    for source in ("purchase", "allocation", "grant"):
        (event,) = events(rise, source)
        assert (event.type, event.data["source"], event.data["amount"]) == (EventType.CREDITS_GRANTED, source, "20")
    for other in ("adjustment", "refund", "usage", None):
        assert kinds(rise, other) == []


@pytest.mark.parametrize(("status", "expected"), [
    ("paid", "payout.paid"), ("failed", "payout.failed"), ("reversed", "payout.reversed"),
    ("reserved", None), ("awaiting_confirmation", None),
])
def test_payout_statuses(status, expected):
    new = image(payout_id="po_1", developer_id="dev-carol", status=status, amount=1500, currency="USD",
                credits_mc=15_000, updated_at=AT)
    got = events(record("PAYOUT", new, image(payout_id="po_1", status="requested")))
    assert [e.type.value for e in got] == ([expected] if expected else [])
    if got:
        assert (got[0].wallet_id, got[0].data["developer_id"], got[0].data["credits"]) == (None, "dev-carol", "15")
        # The same status again (a redelivered or unrelated change) is the same event: the same id.
        same = events(record("PAYOUT", new, image(payout_id="po_1", status="requested")))
        assert same[0].id == got[0].id


@pytest.mark.parametrize(("status", "expected"), [("succeeded", "refund.succeeded"), ("failed", "refund.failed"),
                                                  ("processing", None), ("approved", None)])
def test_refund_statuses(status, expected):
    new = image(refund_id="rf_1", purchase_id="pu_1", wallet_id="user:alice", status=status, amount=250,
                currency="USD", credits_mc=25_000, updated_at=AT)
    assert kinds(record("REFUND", new, image(refund_id="rf_1", status="approved"))) == ([expected] if expected else [])
    assert kinds(record("REFUND", new, new)) == []  # no status change, no event


def test_purchase_paid_after_failing_and_partial_refunds_each_count():
    base = {"purchase_id": "pu_1", "wallet_id": "user:alice", "amount": 1000, "currency": "USD", "gateway": "stripe",
            "credits_mc": 100_000}
    assert kinds(record("PURCHASE", image(**base, status="paid", paid_at=AT), image(**base, status="failed"))) == [
        "purchase.paid"]
    first = events(record("PURCHASE", image(**base, status="partially_refunded", refunded_amount=250),
                          image(**base, status="paid", refunded_amount=0)))
    second = events(record("PURCHASE", image(**base, status="refunded", refunded_amount=1000),
                           image(**base, status="partially_refunded", refunded_amount=250)))
    assert [e.type.value for e in first + second] == ["purchase.refunded", "purchase.refunded"]
    assert first[0].id != second[0].id
    assert kinds(record("PURCHASE", image(**base, status="paid", flagged="x"), image(**base, status="paid"))) == []


def test_removals_and_other_items_are_no_events():
    assert kinds(record("WALLET", {}, wallet(10_000), name="REMOVE")) == []
    assert kinds(record("TX#tx_1", image(status="whatever"), image(status="other"))) == []
    assert kinds(record("RES", image(reservation_id="res_1", status="settled"), image(status="open"))) == []
    assert kinds(record("RES", image(reservation_id="res_1", wallet_id="user:alice", status="expired", held=5_000),
                        image(status="open"))) == ["reservation.expired"]


def test_a_top_up_crossing_names_the_wallet_and_the_change_once():
    from tollgate.events.derive import top_up_crossings

    def wallet_at(available: int, seq: int, threshold: int | None = 30_000):
        values = {"wallet_id": "user:alice", "available": available, "seq": seq}
        if threshold is not None:
            values["topup_threshold_mc"] = threshold
        return image(**values)

    assert top_up_crossings(record("WALLET", wallet_at(20_000, 8), wallet_at(30_000, 7))) == [("user:alice", 8)]
    assert top_up_crossings(record("WALLET", wallet_at(10_000, 9), wallet_at(20_000, 8))) == []  # below already
    assert top_up_crossings(record("WALLET", wallet_at(20_000, 8, None), wallet_at(30_000, 7, None))) == []  # off
    assert top_up_crossings(record("WALLET", wallet_at(20_000, 1), name="INSERT")) == []
    assert top_up_crossings(record("PURCHASE", wallet_at(20_000, 8), wallet_at(30_000, 7))) == []
