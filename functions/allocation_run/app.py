"""AllocationRunFunction: scheduled (00:00 UTC on the 1st); starts the month's allocation run.

The run itself is ``statemachines/allocation.asl.json`` (``tollgate.tiers.run``): this function
records it and starts its execution, named by the schedule's event, so a redelivered event
starts one run. Every wallet is allocated once a month whatever the runs.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.tiers import run

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    started = run.start_scheduled(event)
    metrics.add_metric(name="AllocationRunsStarted", unit=MetricUnit.Count, value=1)
    logger.info("monthly allocation run started", extra={"run_id": started.run_id, "period": started.period})
    return {"run_id": started.run_id, "period": started.period, "status": started.status}


coldstart.end()
