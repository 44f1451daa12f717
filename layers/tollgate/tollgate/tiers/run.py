"""The monthly allocation run: every wallet on an active tier receives the period's credits, once.

A run is started by the schedule (``AllocationRunFunction``, 00:00 UTC on the 1st) or by an
admin (``POST /v1/admin/allocations/run``) and carried out by ``statemachines/allocation.asl.json``:
a Map over the subscribers' index shards (``keys.SUBSCRIBER_SHARDS``), each iteration paging
through its shard, ``PAGE_SIZE`` wallets per Lambda invocation, so a run's size is bounded by
neither one invocation's time nor one payload. Each page's counts travel in the iteration's
state; the last step adds them up into the run's report.

Exactly once per (wallet, period) whatever the runs: the ledger entry's id derives from both
(``tiers.allocation``). Two runs of one period (the schedule delivered twice, a manual run
racing it, a run re-run after a crash) therefore allocate each wallet once, and a wallet found
already allocated is counted as ``skipped``. A wallet whose allocation fails is tried again
once within its page and then counted as ``failed`` (named on the report, up to
``FAILED_WALLETS_KEPT``); running the period again allocates it and skips every other.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger

from tollgate import clock, ids, keys, workflows
from tollgate.errors import ValidationFailed
from tollgate.principal import Principal
from tollgate.tiers import allocation, repository
from tollgate.tiers.exceptions import AllocationRunNotFound
from tollgate.tiers.models import AllocationRunItem, TierItem
from tollgate.tiers.schemas import AllocationRunIn, AllocationRunList, AllocationRunOut

PAGE_SIZE = 100
FAILED_WALLETS_KEPT = 50
# Each shard's state travels through the Map's output (256 KB for all of them at most): a few
# failed wallets a shard, each error short, is enough to name FAILED_WALLETS_KEPT on the report.
FAILED_PER_SHARD = -(-FAILED_WALLETS_KEPT // keys.SUBSCRIBER_SHARDS) + 1
ERROR_CHARS = 160
WALLET_ATTEMPTS = 2
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
EARLIEST_PERIOD = "1970-01"  # the clock's epoch: an allocation's grant expires at its period's end
_PERIOD_RE = re.compile(PERIOD_PATTERN)

logger = Logger(child=True)


# -- starting a run -------------------------------------------------------------------------

def check_period(period: str, now_ms: int) -> str:
    """A ``YYYY-MM`` period that has begun (this month or an earlier one); anything else is a 422."""
    if not isinstance(period, str) or not _PERIOD_RE.fullmatch(period):
        raise ValidationFailed("period must be a month, YYYY-MM", field="period")
    if period > clock.period_of(now_ms):
        raise ValidationFailed("period has not begun yet: it can be allocated from its first day", field="period")
    if period < EARLIEST_PERIOD:
        raise ValidationFailed(f"period must be {EARLIEST_PERIOD} or later", field="period")
    return period


def start_manual(principal: Principal, body: AllocationRunIn) -> AllocationRunOut:
    principal.require_admin()
    now_ms = clock.now_ms()
    period = check_period(body.period, now_ms) if body.period is not None else clock.period_of(now_ms)
    return _start(period, "manual", principal.actor, ids.random_id("alrun"), now_ms)


def start_scheduled(event: dict[str, Any]) -> AllocationRunOut:
    """The schedule's run: the period is the month the event fired in; one run per event (a
    redelivered event starts its run once: the run and its execution are named by the event)."""
    now_ms = clock.now_ms()
    try:
        fired_ms = clock.parse_rfc3339(str(event["time"]))
    except (KeyError, ValueError):
        fired_ms = now_ms  # invoked by hand, without an EventBridge event: this month
    period = clock.period_of(min(fired_ms, now_ms))
    event_id = str(event.get("id") or "")
    run_id = ids.derived_id("alrun", "schedule", period, event_id) if event_id else ids.random_id("alrun")
    return _start(period, "schedule", "system:schedule", run_id, now_ms)


def _start(period: str, source: str, actor: str, run_id: str, now_ms: int) -> AllocationRunOut:
    item = repository.start_run(AllocationRunItem(run_id=run_id, period=period, source=source, started_by=actor,
                                                  status="running", started_at=clock.iso(now_ms)))
    workflows.start("allocation", run_id, {"run_id": run_id, "period": period},
                    resume="start a run of the same period again")
    return view(item)


# -- the workflow's steps -------------------------------------------------------------------

def plan(event: dict[str, Any]) -> dict[str, Any]:
    """First step: the shards to page through (a run started outside Tollgate is recorded here)."""
    run_id, period = str(event["run_id"]), str(event["period"])
    check_period(period, clock.now_ms())
    repository.start_run(AllocationRunItem(run_id=run_id, period=period, source="workflow", started_by="system:workflow",
                                           status="running", started_at=clock.iso(clock.now_ms())))
    return {"shards": list(range(keys.SUBSCRIBER_SHARDS))}


def allocate_page(state: dict[str, Any]) -> dict[str, Any]:
    """One page of one shard: allocate each wallet, add the counts to the iteration's state."""
    period, shard = str(state["period"]), int(state["shard"])
    page = repository.subscribers_page(shard, state.get("after"), PAGE_SIZE)
    tiers = {t.tier_id: t for t in repository.list_tiers()} if page else {}
    counts = {name: int(state.get(name) or 0) for name in ("allocated", "skipped", "failed", "credits_mc")}
    failed_wallets: dict[str, str] = dict(state.get("failed_wallets") or {})
    for subscription in page:
        outcome, credited, error = _allocate_one(subscription.wallet_id, tiers.get(subscription.tier_id), period)
        counts[outcome] += 1
        counts["credits_mc"] += credited
        if error is not None and len(failed_wallets) < FAILED_PER_SHARD:
            failed_wallets[subscription.wallet_id] = error
    return {**state, **counts, "failed_wallets": failed_wallets,
            "after": page[-1].wallet_id if page else state.get("after"), "done": len(page) < PAGE_SIZE}


def _allocate_one(wallet_id: str, tier: TierItem | None, period: str) -> tuple[str, int, str | None]:
    """``("allocated" | "skipped" | "failed", millicredits credited, the error if failed)``."""
    if tier is None or not tier.active or tier.monthly_credits_mc <= 0:
        return "skipped", 0, None
    error = ""
    for attempt in range(1, WALLET_ATTEMPTS + 1):
        try:
            credited = allocation.allocate(wallet_id, tier, period)
        except Exception as exc:  # noqa: BLE001 - one wallet's failure must not stop the others
            error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            logger.warning("allocation failed", extra={"wallet_id": wallet_id, "period": period,
                                                       "attempt": attempt, "error": error})
            continue
        return ("allocated", credited, None) if credited else ("skipped", 0, None)
    return "failed", 0, error


def report(event: dict[str, Any]) -> dict[str, Any]:
    """Last step: add up the shards' counts onto the run."""
    shards: list[dict[str, Any]] = list(event.get("shards") or [])
    totals = {name: sum(int(s.get(name) or 0) for s in shards) for name in ("allocated", "skipped", "failed")}
    credits_mc = sum(int(s.get("credits_mc") or 0) for s in shards)
    failed_wallets: dict[str, str] = {}
    for shard in shards:
        for wallet_id, error in (shard.get("failed_wallets") or {}).items():
            if len(failed_wallets) < FAILED_WALLETS_KEPT:
                failed_wallets[wallet_id] = error
    status = "completed_with_failures" if totals["failed"] else "completed"
    repository.finish_run(str(event["run_id"]), status=status, finished_at=clock.iso(clock.now_ms()),
                          credits_allocated_mc=credits_mc, failed_wallets=failed_wallets, **totals)
    logger.info("allocation run finished", extra={"run_id": event["run_id"], "period": event.get("period"),
                                                  "status": status, **totals})
    return {"run_id": event["run_id"], "status": status, **totals, "credits_mc": credits_mc}


def record_failure(event: dict[str, Any]) -> dict[str, Any]:
    """The run stopped (a shard could not be read even after retries): say so on the run."""
    error = event.get("error") or {}
    message = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:500]}"
    repository.finish_run(str(event["run_id"]), status="failed", finished_at=clock.iso(clock.now_ms()),
                          error=message)
    return {"run_id": event["run_id"], "status": "failed"}


# -- reading runs ---------------------------------------------------------------------------

def view(item: AllocationRunItem) -> AllocationRunOut:
    return AllocationRunOut(
        run_id=item.run_id, period=item.period, source=item.source, status=item.status, started_by=item.started_by,
        allocated=item.allocated, skipped=item.skipped, failed=item.failed,
        credits_allocated=item.credits_allocated_mc, failed_wallets=dict(item.failed_wallets or {}),
        error=item.error, started_at=item.started_at, finished_at=item.finished_at)


def get_run(principal: Principal, run_id: str) -> AllocationRunOut:
    principal.require_admin()
    item = repository.get_run(run_id)
    if item is None:
        raise AllocationRunNotFound(f"allocation run '{run_id}' not found")
    return view(item)


def list_runs(principal: Principal, period: str, limit: int) -> AllocationRunList:
    principal.require_admin()
    return AllocationRunList(data=[view(i) for i in repository.runs_of(period, limit)])


__all__ = ["PAGE_SIZE", "allocate_page", "check_period", "get_run", "list_runs", "plan", "record_failure", "report",
           "start_manual", "start_scheduled", "view"]
