"""PayoutRunFunction: scheduled (Mondays 06:00 UTC); pays every developer with automatic payouts on.

Each developer at most once per ISO week, whatever the retries (see ``tollgate.payouts.run``).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.payouts import run

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    report = run.run(event.get("time") if isinstance(event.get("time"), str) else None)
    metrics.add_metric(name="ScheduledPayoutsStarted", unit=MetricUnit.Count, value=len(report.started))
    logger.info("weekly payout run", extra={"report": report.counts(), "failed": report.failed})
    return report.counts()


coldstart.end()
