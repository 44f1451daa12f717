"""GrantExpiryFunction: scheduled (hourly); removes what is left of every expired grant, exactly once, and
announces grants expiring within 7 days (``credits.expiring``), once each.

Each due grant leaves its wallet as an ``expiry`` ledger entry, never below zero, only once the
wallet's grant book has caught up with its balance (``tollgate.grants.expiry``); an allocation
whose tier carries over keeps up to its cap for one more period.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.grants import expiry

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    report = expiry.run()
    counts = report.counts()
    metrics.add_metric(name="GrantCreditsExpired", unit=MetricUnit.Count, value=counts["expired_mc"])
    metrics.add_metric(name="GrantExpiryWalletsSkipped", unit=MetricUnit.Count, value=counts["skipped"])
    logger.info("grant expiry run", extra={"report": counts, "failed": report.failed})
    announced = expiry.announce_expiring()
    metrics.add_metric(name="GrantsExpiringAnnounced", unit=MetricUnit.Count, value=announced)
    return {**counts, "announced": announced}


coldstart.end()
