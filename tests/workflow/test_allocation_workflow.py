"""The monthly allocation run end to end: ``statemachines/allocation.asl.json`` executed by moto
(its Map over the subscribers' shards, the page loop, the report) with the real step handlers
against DynamoDB Local, started by the schedule's function or by an admin over HTTP.

Each test subscribes its own wallets (without the assignment's immediate allocation, as for
wallets subscribed in an earlier month) and removes them afterwards, so a run's counts are
exactly its own. Every wallet ends with one allocation for the period and a ledger that
reconciles.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.support import assert_ledger_invariant
from tests.workflow.conftest import wait_for

TIER = "wf-monthly"
MONTHLY_MC = 10_000


def _period(months_back: int) -> str:
    from tollgate import clock

    year, month = map(int, clock.period_of(clock.now_ms()).split("-"))
    index = year * 12 + (month - 1) - months_back
    return f"{index // 12}-{index % 12 + 1:02d}"


@pytest.fixture(scope="module")
def admin(stack) -> str:
    return stack.signer.token("admin", ["admin", "user"])


@pytest.fixture(scope="module")
def tier(api: Client, admin: str) -> str:
    reply = api.put(f"/v1/admin/tiers/{TIER}", token=admin, body={"name": "Workflow", "monthly_credits": "10"})
    assert reply.status == 200, reply
    return TIER


@pytest.fixture
def subscribers(tier):
    """subscribers(n) -> n wallet ids subscribed to the tier (removed after the test)."""
    from tollgate.tiers.models import SubscriptionItem

    made: list[str] = []

    def make(n: int) -> list[str]:
        tag = uuid.uuid4().hex[:6]
        wallets = [f"user:alloc-{tag}-{i:04d}" for i in range(n)]
        with SubscriptionItem.batch_write() as batch:
            for wallet_id in wallets:
                from tollgate import keys

                batch.save(SubscriptionItem(*keys.subscription(wallet_id), gsi1pk=keys.subscribers_gsi1pk(wallet_id),
                                            gsi1sk=wallet_id, wallet_id=wallet_id, tier_id=tier,
                                            assigned_by="user:root", created_at="2026-01-01T00:00:00.000Z",
                                            updated_at="2026-01-01T00:00:00.000Z"))
        made.extend(wallets)
        return wallets

    yield make
    with SubscriptionItem.batch_write() as batch:  # 25 a request: 2,000 one by one took half a minute
        for wallet_id in made:
            from tollgate import keys

            batch.delete(SubscriptionItem(*keys.subscription(wallet_id)))


def allocations(wallet_id: str) -> list[tuple[str, int]]:
    from tollgate import keys
    from tollgate.ledger.models import LedgerEntryItem

    entries = LedgerEntryItem.query(keys.wallet_pk(wallet_id), LedgerEntryItem.sk.startswith(keys.ENTRY_PREFIX),
                                    consistent_read=True)
    return [((e.metadata or {}).get("period"), e.amount) for e in entries if e.type == "allocation"]


def finished(api: Client, admin: str, run_id: str, timeout_s: float = 240.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        reply = api.get(f"/v1/admin/allocations/runs/{run_id}", token=admin)
        assert reply.status == 200, reply
        return reply.body if reply.body["status"] != "running" else None

    return wait_for(f"allocation run {run_id}", probe, timeout_s)


def start(api: Client, admin: str, period: str) -> str:
    reply = api.post("/v1/admin/allocations/run", token=admin, body={"period": period})
    assert reply.status == 202, reply
    return reply.body["run_id"]


def scheduled(stack, fired_at: str) -> dict[str, Any]:
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
             "time": fired_at, "region": "us-east-1", "resources": [], "detail": {}}
    return stack.registry.get("AllocationRunFunction").invoke(event)


def assert_allocated_once(wallets: list[str], period: str) -> None:
    """One allocation each; the ledger reconciles; and once the stream consumer has attributed it,
    the wallet's grants (one allocation grant) sum to its balance."""
    from tollgate.grants import repository as grants
    from tollgate.ledger import posting

    for wallet_id in wallets:
        assert allocations(wallet_id) == [(period, MONTHLY_MC)], wallet_id
        assert_ledger_invariant(wallet_id)
    for wallet_id in wallets:
        book = wait_for(f"{wallet_id}'s grants", lambda w=wallet_id: grants.get_book(w))
        assert book.total() == posting.read_wallet(wallet_id).balance == MONTHLY_MC, book
        assert [g.source for g in book.grants.values()] == ["allocation"]


def test_a_run_over_2000_subscribers_allocates_each_once_and_reports_2000(api, admin, subscribers):
    period = _period(0)
    wallets = subscribers(2000)
    run = finished(api, admin, start(api, admin, period), timeout_s=600)
    assert (run["status"], run["allocated"], run["skipped"], run["failed"]) == ("completed", 2000, 0, 0), run
    assert run["credits_allocated"] == str(2000 * 10)
    assert_allocated_once(wallets[::40], period)  # a sample: reading 2,000 ledgers adds nothing
    assert sum(len(allocations(w)) for w in wallets) == 2000


def test_the_schedule_fired_twice_and_a_manual_run_racing_it_allocate_each_wallet_once(stack, api, admin,
                                                                                      subscribers):
    period = _period(1)
    wallets = subscribers(120)
    fired_at = f"{period}-01T00:00:00Z"
    with ThreadPoolExecutor(max_workers=3) as pool:
        started = [pool.submit(scheduled, stack, fired_at), pool.submit(scheduled, stack, fired_at),
                   pool.submit(start, api, admin, period)]
        run_ids = [f.result()["run_id"] if isinstance(f.result(), dict) else f.result() for f in started]
    assert len(set(run_ids)) == 3
    runs = [finished(api, admin, run_id) for run_id in run_ids]
    assert all(r["status"] == "completed" and r["period"] == period for r in runs), runs
    assert sum(r["allocated"] for r in runs) == 120  # between them, each wallet once
    assert all(r["allocated"] + r["skipped"] == 120 for r in runs), runs
    assert_allocated_once(wallets, period)


def test_a_run_crashed_half_way_then_run_again_allocates_the_rest_once(stack, api, admin, subscribers):
    period = _period(2)
    wallets = subscribers(150)
    # The first run got through half the shards and died: its steps, as its Map ran them.
    steps = stack.registry.get("AllocationStepsFunction")
    first_half = 0
    for shard in range(8):
        state: dict[str, Any] = {"step": "allocate_page", "run_id": "alrun_crashed", "period": period, "shard": shard}
        while not state.get("done"):
            state = steps.invoke(state)
        first_half += state["allocated"]
    assert 0 < first_half < 150
    run = finished(api, admin, start(api, admin, period))
    assert (run["status"], run["allocated"], run["skipped"]) == ("completed", 150 - first_half, first_half), run
    assert_allocated_once(wallets, period)


def test_a_failed_wallet_is_reported_and_the_next_run_allocates_it_alone(api, admin, subscribers):
    from tollgate import keys
    from tollgate.data import client, table_name

    period = _period(3)
    wallets = subscribers(30)
    broken = wallets[7]
    pk, sk = keys.wallet(broken)  # a wallet item no allocation can update (its balance is not a number)
    client().put_item(TableName=table_name(), Item={"PK": {"S": pk}, "SK": {"S": sk}, "balance": {"S": "x"}})
    run = finished(api, admin, start(api, admin, period))
    assert (run["status"], run["allocated"], run["failed"]) == ("completed_with_failures", 29, 1), run
    assert list(run["failed_wallets"]) == [broken]
    client().delete_item(TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}})
    again = finished(api, admin, start(api, admin, period))
    assert (again["status"], again["allocated"], again["skipped"], again["failed"]) == ("completed", 1, 29, 0), again
    assert_allocated_once(wallets, period)
