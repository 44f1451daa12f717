"""Many requests on one wallet at once, through the real deduction handler.

Run against the real engine (DynamoDB Local) and against a moto server that serves one
request at a time (moto itself is not thread-safe; serialising it still exposes any
read-modify-write race in our code, since such a race spans several requests). Each worker
thread plays one Lambda execution environment with its own copy of the function module
(see conftest.py for why the same resolver object cannot serve two threads).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.integration.conftest import Request
from tests.support import assert_ledger_invariant, ledger_state

FEATURE = "unit-call"  # per_call, 1 credit
MC = 1000  # millicredits per credit


def usage(caller, key: str, tag: str = "usage") -> Request:
    return Request("deduction_post_usage.json", caller, body={"feature": FEATURE},
                   headers={"idempotency-key": key}, tag=tag)


def reserve(caller, key: str, credits: str) -> Request:
    return Request("deduction_post_reservation.json", caller,
                   body={"feature": FEATURE, "max_credits": credits, "ttl_seconds": 600},
                   headers={"idempotency-key": key}, tag="reserve")


def settle(caller, reservation_id: str) -> Request:
    path = f"/v1/reservations/{reservation_id}/settle"
    return Request("deduction_settle_reservation.json", caller, body={"quantity": 1}, path=path,
                   path_params={"reservation_id": reservation_id}, tag="settle")


def release(caller, reservation_id: str) -> Request:
    path = f"/v1/reservations/{reservation_id}/release"
    return Request("deduction_release_reservation.json", caller, path=path,
                   path_params={"reservation_id": reservation_id}, tag="release")


def statuses(replies) -> Counter:
    return Counter(r.status for r in replies)


def test_200_concurrent_debits_against_100_credits(api, caller):
    api.put_feature(FEATURE, "1")
    api.fund(caller.wallet_id, "100")

    replies = api.concurrently([usage(caller, f"debit-{i}") for i in range(200)])

    assert statuses(replies) == {201: 100, 402: 100}, [r.body for r in replies if r.status not in (201, 402)]
    refused = [r for r in replies if r.status == 402]
    assert {r.error_code for r in refused} == {"insufficient_credits"}
    ok = [r.body for r in replies if r.status == 201]
    assert len({b["transaction_id"] for b in ok}) == 100
    assert {b["cost"] for b in ok} == {"1"}
    assert all(0 <= Decimal(b["balance"]) < 100 for b in ok)

    state = assert_ledger_invariant(caller.wallet_id)
    assert state["balance"] == 0
    assert state["available"] == 0
    assert sorted(state["entries"]) == [-MC] * 100 + [100 * MC]


def test_reservations_and_debits_race_for_the_same_credits(api, caller):
    api.put_feature(FEATURE, "1")
    api.fund(caller.wallet_id, "100")

    # 50 holds of 2 and 100 debits of 1 (200 credits asked of 100), interleaved.
    requests = []
    for i in range(100):
        requests.append(usage(caller, f"mixed-usage-{i}"))
        if i % 2 == 0:
            requests.append(reserve(caller, f"mixed-hold-{i}", "2"))
    replies = api.concurrently(requests)

    by_tag: dict[str, Counter] = {"usage": Counter(), "reserve": Counter()}
    for request, reply in zip(requests, replies, strict=True):
        by_tag[request.tag][reply.status] += 1
        if reply.status == 402:
            assert reply.error_code == "insufficient_credits"
    assert set(by_tag["usage"]) <= {201, 402}, by_tag
    assert set(by_tag["reserve"]) <= {201, 402}, by_tag
    debited, held = by_tag["usage"][201], by_tag["reserve"][201]
    assert debited + 2 * held <= 100

    state = assert_ledger_invariant(caller.wallet_id)
    assert state["balance"] == (100 - debited) * MC
    assert state["reserved"] == 2 * held * MC
    assert len(state["holds"]) == held
    # Demand exceeded supply, so whatever is left is too little for whatever was refused.
    assert state["available"] in (0, MC)
    if by_tag["usage"][402]:
        assert state["available"] == 0

    # Close every hold at once: settle half (1 credit each), release the rest.
    hold_ids = [r.body["reservation_id"] for q, r in zip(requests, replies, strict=True)
                if q.tag == "reserve" and r.status == 201]
    closing = [settle(caller, rid) if i % 2 == 0 else release(caller, rid) for i, rid in enumerate(hold_ids)]
    closed = api.concurrently(closing) if closing else []
    assert all(r.status == 200 for r in closed), [r.body for r in closed if r.status != 200]
    settled = sum(1 for q in closing if q.tag == "settle")
    assert all(r.body["cost"] == "1" and r.body["released"] == "1" for q, r in zip(closing, closed, strict=True)
               if q.tag == "settle")

    state = assert_ledger_invariant(caller.wallet_id)
    spent = debited + settled
    assert spent <= 100
    assert state["balance"] == (100 - spent) * MC
    assert state["reserved"] == 0
    assert state["holds"] == {}
    assert state["available"] == state["balance"]
    assert -sum(a for a in state["entries"] if a < 0) == spent * MC


def test_the_same_idempotency_key_50_times_at_once_debits_once(api, caller):
    api.put_feature(FEATURE, "1")
    api.fund(caller.wallet_id, "100")

    # Some of these see TransactionConflict and are retried inside the domain: all must agree.
    replies = api.concurrently([usage(caller, "one-and-the-same") for _ in range(50)])

    assert statuses(replies) == {201: 50}, [r.body for r in replies if r.status != 201]
    assert len({r.body["transaction_id"] for r in replies}) == 1
    assert {r.body["cost"] for r in replies} == {"1"}
    assert {r.body["balance"] for r in replies} == {"99"}

    state = assert_ledger_invariant(caller.wallet_id)
    assert state["balance"] == 99 * MC
    assert sorted(state["entries"]) == [-MC, 100 * MC]
    assert ledger_state(caller.wallet_id) == state
