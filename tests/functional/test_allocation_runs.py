"""The monthly allocation run's pieces: starting a run (schedule, admin), its steps and its report.

The run as a whole (``statemachines/allocation.asl.json`` executed, its Map over the shards)
is tested in tests/workflow/test_allocation_workflow.py; here each piece is driven through its
handler against moto, with a recording workflow engine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.fake_payouts import RecordingEngine
from tests.support import (
    ADMIN,
    ALICE,
    EVENTS,
    LambdaContext,
    assert_ledger_invariant,
    invoke,
    load_function,
    set_workflow_engine,
)


def _months() -> tuple[str, str, str]:
    from tollgate import clock

    year, month = map(int, clock.period_of(clock.now_ms()).split("-"))
    last = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    following = f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    return last, f"{year}-{month:02d}", following


LAST_MONTH, THIS_MONTH, NEXT_MONTH = _months()


@pytest.fixture
def engine(aws):
    recording = RecordingEngine()
    set_workflow_engine(recording)
    yield recording
    set_workflow_engine(None)


@pytest.fixture
def tiers(aws):
    for tier_id, credits, active in (("growth", "2000", True), ("retired", "50", False), ("free", "0", True)):
        reply = invoke("admin_put_tier.json", caller=ADMIN, body={"name": tier_id, "monthly_credits": credits,
                                                                  "active": active},
                       path=f"/v1/admin/tiers/{tier_id}", path_params={"tier_id": tier_id})
        assert reply.status == 200, reply


def subscribe_quietly(wallet_id: str, tier_id: str) -> None:
    """A subscription as the monthly run finds it, without the assignment's immediate allocation
    (as for a wallet subscribed last month)."""
    from tollgate.tiers import repository

    repository.put_subscription(wallet_id, tier_id, "user:root", "2026-10-01T00:00:00.000Z")


def step(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("allocation_workflow").lambda_handler(event, LambdaContext())


def run_shards(run_id: str, period: str) -> list[dict[str, Any]]:
    """Every shard paged through as the state machine's Map does it: the iteration's state in, out."""
    shards = []
    for shard in step({"step": "plan", "run_id": run_id, "period": period})["shards"]:
        state: dict[str, Any] = {"step": "allocate_page", "run_id": run_id, "period": period, "shard": shard}
        while True:
            state = step(state)
            if state["done"]:
                break
        shards.append(state)
    return shards


def allocations(wallet_id: str) -> list[int]:
    from tollgate import keys
    from tollgate.ledger.models import LedgerEntryItem

    entries = LedgerEntryItem.query(keys.wallet_pk(wallet_id), LedgerEntryItem.sk.startswith(keys.ENTRY_PREFIX),
                                    consistent_read=True)
    return [e.amount for e in entries if e.type == "allocation"]


def assert_grants_match_balances(aws, wallets: list[str]) -> None:
    """Once the ledger stream is delivered: each allocation is one grant, expiring when its month
    ends, and the grants sum to the balance."""
    from tests.streams import LedgerStream
    from tollgate import clock
    from tollgate.grants import repository as grants
    from tollgate.ledger import posting

    assert LedgerStream(aws).drain() == {"batchItemFailures": []}
    for wallet_id in wallets:
        book = grants.get_book(wallet_id)
        assert book is not None and book.total() == posting.read_wallet(wallet_id).balance
        assert [(g.source, g.remaining, g.expires_ms) for g in book.grants.values()] == [
            ("allocation", 2_000_000, clock.period_end_ms(THIS_MONTH))]


def start_run(body: Any = ..., caller=ADMIN):
    return invoke("admin_post_allocation_run.json", caller=caller, body=body)


def get_run(run_id: str, caller=ADMIN):
    return invoke("admin_get_allocation_run.json", caller=caller, path=f"/v1/admin/allocations/runs/{run_id}",
                  path_params={"run_id": run_id})


# -- starting a run -------------------------------------------------------------------------

def test_an_admin_starts_a_run_of_a_month_and_reads_it_back(engine):
    reply = start_run({"period": LAST_MONTH})
    assert reply.status == 202, reply
    run = reply.body
    assert (run["period"], run["source"], run["status"], run["started_by"]) == (LAST_MONTH, "manual", "running",
                                                                               "user:root")
    assert (engine.workflows, engine.started) == (["allocation"], [run["run_id"]])
    assert get_run(run["run_id"]).body == run
    listed = invoke("admin_list_allocation_runs.json", caller=ADMIN, query={"period": LAST_MONTH})
    assert [r["run_id"] for r in listed.body["data"]] == [run["run_id"]]


def test_without_a_period_the_run_is_of_this_month(engine):
    for body in ({}, None, ...):  # an empty object, JSON null (the document allows it), no body
        reply = start_run(body) if body is not ... else invoke("admin_post_allocation_run.json", caller=ADMIN,
                                                               raw_body="")
        assert reply.status == 202, reply
        assert reply.body["period"] == THIS_MONTH


@pytest.mark.parametrize("period", [NEXT_MONTH, "2999-01", "2026-13", "2026-00", "2026-1", "26-11", "2026/11",
                                    "november", "", 202611, "2026-11-01"])
def test_a_period_not_yyyy_mm_or_in_the_future_is_refused_and_nothing_starts(engine, period):
    reply = start_run({"period": period})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert engine.started == []
    listed = invoke("admin_list_allocation_runs.json", caller=ADMIN, query={"period": THIS_MONTH})
    assert listed.body["data"] == []


def test_only_admins_start_or_read_runs(engine):
    assert start_run({"period": THIS_MONTH}, caller=ALICE).status == 403
    assert get_run("alrun_unknown", caller=ALICE).status == 403
    assert get_run("alrun_unknown").status == 404
    assert engine.started == []


def test_a_run_whose_workflow_cannot_start_says_so_and_is_kept(engine):
    engine.fail_start = True
    reply = start_run({"period": THIS_MONTH})
    assert (reply.status, reply.error_code) == (503, "try_again"), reply
    listed = invoke("admin_list_allocation_runs.json", caller=ADMIN, query={"period": THIS_MONTH}).body["data"]
    assert [r["status"] for r in listed] == ["running"]


def test_the_schedule_starts_one_run_per_event_for_the_month_it_fired_in(engine):
    event = json.loads((EVENTS / "allocation_run_schedule.json").read_text())
    event["time"] = "2026-11-01T00:00:00Z"
    run = load_function("allocation_run").lambda_handler(event, LambdaContext())
    again = load_function("allocation_run").lambda_handler(event, LambdaContext())  # delivered twice
    assert run == again and run["period"] == "2026-11"
    assert engine.started == [run["run_id"], run["run_id"]]  # one execution name: Step Functions starts it once
    assert get_run(run["run_id"]).body["source"] == "schedule"


# -- the steps --------------------------------------------------------------------------------

def test_pages_cover_every_subscriber_once_and_the_report_adds_them_up(aws, tiers, monkeypatch):
    from tests.support import patch_layer

    patch_layer(monkeypatch, "tollgate.tiers.run", "PAGE_SIZE", 3)  # several pages per shard
    wallets = [f"user:sub{n:03d}" for n in range(40)]
    for wallet_id in wallets:
        subscribe_quietly(wallet_id, "growth")
    subscribe_quietly("user:retired", "retired")
    subscribe_quietly("user:free", "free")
    subscribe_quietly("user:gone", "no-such-tier")
    shards = run_shards("alrun_pages", THIS_MONTH)
    report = step({"step": "report", "run_id": "alrun_pages", "period": THIS_MONTH, "shards": shards})
    assert (report["status"], report["allocated"], report["skipped"], report["failed"]) == ("completed", 40, 3, 0)
    assert report["credits_mc"] == 40 * 2_000_000
    for wallet_id in wallets:
        assert allocations(wallet_id) == [2_000_000]
        assert_ledger_invariant(wallet_id)
    assert_grants_match_balances(aws, wallets)
    for wallet_id in ("user:retired", "user:free", "user:gone"):
        assert allocations(wallet_id) == []
    run = get_run("alrun_pages").body
    assert (run["status"], run["allocated"], run["skipped"], run["credits_allocated"]) == ("completed", 40, 3,
                                                                                          "80000")


def test_a_second_run_of_the_month_skips_every_wallet(aws, tiers):
    for n in range(5):
        subscribe_quietly(f"user:w{n}", "growth")
    first = run_shards("alrun_one", THIS_MONTH)
    second = run_shards("alrun_two", THIS_MONTH)
    assert sum(s["allocated"] for s in first) == 5
    assert (sum(s["allocated"] for s in second), sum(s["skipped"] for s in second)) == (0, 5)
    for n in range(5):
        assert allocations(f"user:w{n}") == [2_000_000]


def test_a_failed_wallet_is_reported_and_a_re_run_allocates_it_alone(aws, tiers):
    from tollgate import keys
    from tollgate.data import client, table_name

    for n in range(4):
        subscribe_quietly(f"user:ok{n}", "growth")
    subscribe_quietly("user:broken", "growth")
    # A wallet item the allocation cannot update (its balance is not a number).
    pk, sk = keys.wallet("user:broken")
    client().put_item(TableName=table_name(), Item={"PK": {"S": pk}, "SK": {"S": sk}, "balance": {"S": "x"}})
    shards = run_shards("alrun_broken", THIS_MONTH)
    report = step({"step": "report", "run_id": "alrun_broken", "period": THIS_MONTH, "shards": shards})
    assert (report["status"], report["allocated"], report["failed"]) == ("completed_with_failures", 4, 1)
    run = get_run("alrun_broken").body
    assert list(run["failed_wallets"]) == ["user:broken"]
    client().delete_item(TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}})
    rerun = step({"step": "report", "run_id": "alrun_fixed", "period": THIS_MONTH,
                  "shards": run_shards("alrun_fixed", THIS_MONTH)})
    assert (rerun["status"], rerun["allocated"], rerun["skipped"], rerun["failed"]) == ("completed", 1, 4, 0)
    for wallet_id in ["user:broken"] + [f"user:ok{n}" for n in range(4)]:
        assert allocations(wallet_id) == [2_000_000]
        assert_ledger_invariant(wallet_id)


def test_an_unknown_step_fails_without_touching_anything(aws):
    with pytest.raises(Exception, match="no step"):
        step({"step": "drop_table", "run_id": "alrun_x"})


@pytest.mark.parametrize("raw_body", ["[null, null]", "[]", '"2026-11"', "7", "true"])
def test_a_body_that_is_not_an_object_is_refused_even_where_the_body_is_optional(engine, raw_body):
    reply = invoke("admin_post_allocation_run.json", caller=ADMIN, raw_body=raw_body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["message"] == "body must be a JSON object"
    assert engine.started == []


def test_the_failed_wallets_a_shard_carries_are_bounded_but_every_failure_is_counted(aws, tiers, monkeypatch):
    from tests.support import patch_layer
    from tollgate import keys
    from tollgate.data import client, table_name
    from tollgate.tiers import run

    patch_layer(monkeypatch, "tollgate.tiers.run", "FAILED_PER_SHARD", 1)  # the Map's output stays small
    broken = [f"user:broken{n}" for n in range(6)]
    for wallet_id in broken:
        subscribe_quietly(wallet_id, "growth")
        pk, sk = keys.wallet(wallet_id)
        client().put_item(TableName=table_name(), Item={"PK": {"S": pk}, "SK": {"S": sk}, "balance": {"S": "x"}})
    shards = run_shards("alrun_many", THIS_MONTH)
    assert all(len(s["failed_wallets"]) <= 1 for s in shards)
    assert all(len(error) <= run.ERROR_CHARS for s in shards for error in s["failed_wallets"].values())
    report = step({"step": "report", "run_id": "alrun_many", "period": THIS_MONTH, "shards": shards})
    assert (report["status"], report["failed"]) == ("completed_with_failures", 6)
    named = get_run("alrun_many").body["failed_wallets"]
    assert set(named) <= set(broken) and len(named) == len({keys.subscribers_gsi1pk(w) for w in broken})
