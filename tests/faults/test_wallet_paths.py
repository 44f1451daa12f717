"""More wallet paths under each DynamoDB fault (issue 14, part 3): a hold's release and the sweeper
that frees expired holds, a debit of a sharded wallet (its write, the read of every shard after it,
and, when its own shard is short, the read of every shard and the rebalance before it), and the
grant from a Paystack payment webhook (confirmed with Paystack's verify call first). What each
case asserts and the report are ``tests/faults/matrix.py``'s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.matrix import (
    WALLET,
    Attempt,
    Path,
    dynamo_cases,
    feature,
    fund,
    http,
    paystack_checkout,
    paystack_paid,
    run_dynamo_case,
    step,
)
from tests.support import ADMIN, advance_clock, assert_ledger_invariant, invoke, sample_event


def _reservation(reservation_id: str) -> Any:
    from tollgate.reservations import repository

    return repository.get(reservation_id)


def _hold(ttl_seconds: int | None = None) -> str:
    feature("ai-report", "40")
    fund(WALLET, "100")
    body = {"feature": "ai-report", **({"ttl_seconds": ttl_seconds} if ttl_seconds else {})}
    reply = invoke("deduction_post_reservation.json", body=body, headers={"idempotency-key": "fault-hold"})
    assert reply.status == 201, reply
    return reply.body["reservation_id"]


def _release_setup(aws: Any) -> str:
    return _hold()


def _release(reservation_id: str) -> Attempt:
    return http(invoke("deduction_release_reservation.json", path=f"/v1/reservations/{reservation_id}/release",
                       path_params={"reservation_id": reservation_id}))


def _found_released(again: Attempt) -> bool:
    """A release has no key: the same request again finds the hold released, as the SDK counts it (README)."""
    reply = again.reply
    return reply is not None and (reply.status, reply.error_code) == (409, "reservation_closed") \
        and reply.body["error"]["status"] == "released"


def _released_once(reservation_id: str) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["reserved"], state["holds"], state["entries"]) == (100_000, 0, {}, [100_000]), state
    assert _reservation(reservation_id).status == "released"


def _expired_setup(aws: Any) -> str:
    reservation_id = _hold(ttl_seconds=60)
    advance_clock(61_000)
    return reservation_id


def _sweep(_: str) -> Attempt:
    return step("holds", sample_event("holds_schedule.json"))


def _expired_once(reservation_id: str) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["reserved"], state["holds"], state["entries"]) == (100_000, 0, {}, [100_000]), state
    assert _reservation(reservation_id).status == "expired"


def _sharded_setup(aws: Any) -> str:
    """A wallet of 100 credits resharded to 4 (all of them on shard 0) and one debit made (its home
    shard, 1, got a fair share by a rebalance); the key of the debit to make, whose home shard (0)
    can pay it."""
    feature("ai-insight", "9")
    fund(WALLET, "100")
    reply = invoke("admin_put_wallet_shards.json", caller=ADMIN, body={"count": 4},
                   path=f"/v1/admin/wallets/{WALLET}/shards", path_params={"wallet_id": WALLET})
    assert (reply.status, reply.body["count"]) == (200, 4), reply
    # The layout is known to the function now, so a planned BatchGetItem fault hits the read after.
    assert invoke("deduction_post_usage.json", headers={"idempotency-key": "warm"}).status == 201
    return "fault-debit"


def _short_shard_setup(aws: Any) -> str:
    """As :func:`_sharded_setup`; the debit's home shard (2) is empty: it reads every shard, then
    rebalances (a path whose fault is never reached fails the case, so this stays true)."""
    _sharded_setup(aws)
    return "fault-debit-2"


def _sharded_debit(key: str) -> Attempt:
    return http(invoke("deduction_post_usage.json", headers={"idempotency-key": key}))


def _sharded_debited_once(_: Any) -> None:
    from tollgate.shards import repository

    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], sorted(state["entries"])) == (100_000 - 2 * 9_000, [-9_000, -9_000, 100_000]), state
    shards = repository.snapshot(WALLET, 4)
    assert all(s.available >= 0 and s.shards == 4 for s in shards), shards
    assert sum(s.balance for s in shards) == state["balance"], shards


def _paystack_purchase(aws: Any) -> dict[str, Any]:
    return paystack_checkout(aws)[0]


def _granted_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["entries"]) == (100_000, [100_000]), state


PATHS = [
    Path("reservation release", ("TransactWriteItems",), _release_setup, _release, _released_once,
         also_done=_found_released),
    # A scheduled run that fails is retried by Lambda (EventInvokeConfig), then by the next run.
    Path("expired holds sweeper (scheduled)", ("TransactWriteItems",), _expired_setup, _sweep, _expired_once,
         retried={"StoreUnavailable"}),
    Path("sharded-wallet debit", ("TransactWriteItems",), _sharded_setup, _sharded_debit, _sharded_debited_once,
         ok=201),
    Path("sharded-wallet debit: the read of every shard after it", ("BatchGetItem",), _sharded_setup,
         _sharded_debit, _sharded_debited_once, ok=201),
    Path("sharded-wallet debit, its shard short: the read of every shard", ("TransactGetItems",),
         _short_shard_setup, _sharded_debit, _sharded_debited_once, ok=201),
    # The fault lands after the debit's first try (refused: its shard is short), on the rebalance.
    Path("sharded-wallet debit, its shard short: the rebalance", ("TransactWriteItems",), _short_shard_setup,
         _sharded_debit, _sharded_debited_once, ok=201, after=1),
    Path("grant from a Paystack payment webhook", ("TransactWriteItems",), _paystack_purchase, paystack_paid,
         _granted_once),
]


@pytest.mark.parametrize(("path", "fault_name", "fault", "times"), dynamo_cases(PATHS))
def test_a_dynamodb_fault_loses_nothing_and_a_retry_completes(aws, faults, path, fault_name, fault, times):
    run_dynamo_case(aws, faults, path, fault_name, fault, times)
