"""LedgerArchiveFunction: scheduled (daily); moves ledger entries older than LEDGER_ARCHIVE_DAYS to S3.

Each wallet the stream marked changed on a day now past the window has its old entries written
to the archive bucket, a page at a time, then deleted with their total added to the wallet's
archive totals in the same transaction (``tollgate.ledger.archiver``): the ledger reconciles at
every instant, and history pages on into the archive.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import clock
from tollgate.ledger import archiver

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    report = archiver.run(clock.now_ms(), time_left_ms=context.get_remaining_time_in_millis)
    counts = report.counts()
    metrics.add_metric(name="LedgerEntriesArchived", unit=MetricUnit.Count, value=report.entries)
    logger.info("ledger archive run", extra={"report": counts})
    return counts


coldstart.end()
