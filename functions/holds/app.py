"""HoldsSweeperFunction: scheduled; marks expired reservations and frees their wallet side.

Expired holds are already spendable before this runs (reads net them out and debits
release them); the sweeper keeps the records and the wallet's ``reserved`` tidy.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import reservations

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    counts = reservations.sweep_expired()
    metrics.add_metric(name="HoldsExpired", unit=MetricUnit.Count, value=counts["expired"])
    logger.info("swept expired holds", extra=counts)
    return counts


coldstart.end()
