"""AllocationStepsFunction: the allocation run's steps, one per invocation (``{"step", ...}``).

Invoked only by ``statemachines/allocation.asl.json``: ``plan`` lists the subscribers' shards,
``allocate_page`` allocates one page of one shard and returns the iteration's state with its
counts added, ``report`` adds up the shards onto the run, ``record_failure`` marks a run that
stopped. Errors reach the state machine by name and message (it retries pages), never as
stack traces.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.tiers import run

logger = Logger()
metrics = Metrics()

_STEPS = {
    "plan": run.plan,
    "allocate_page": run.allocate_page,
    "report": run.report,
    "record_failure": run.record_failure,
}


class UnknownStep(Exception):
    pass


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    step = event.get("step")
    if step not in _STEPS or not isinstance(event.get("run_id"), str):
        raise UnknownStep(f"no step {step!r} (a step needs a run_id)")
    logger.append_keys(run_id=event["run_id"], step=step, shard=event.get("shard"))
    result = _STEPS[step](event)
    if step == "report":
        metrics.add_metric(name="WalletsAllocated", unit=MetricUnit.Count, value=result["allocated"])
        metrics.add_metric(name="WalletAllocationsFailed", unit=MetricUnit.Count, value=result["failed"])
    return result


coldstart.end()
