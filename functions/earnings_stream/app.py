"""EarningsStreamFunction: developers' revenue share, accrued from the table's stream.

Receives inserted usage entries that name a developer (the event source's filter), and
accrues each one's earning exactly once: one transaction per developer per batch (see
``tollgate.earnings.accrual``). A developer whose earnings cannot be written is reported
as a batch item failure from their first record, so Lambda redelivers from there; the
earnings already written are skipped on redelivery.
"""

from __future__ import annotations

from collections import defaultdict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import earnings

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    by_developer: dict[str, list[earnings.Accrual]] = defaultdict(list)
    first_record: dict[str, str] = {}
    for record in event.get("Records") or []:
        accrual = earnings.from_record(record)
        if accrual is None:
            continue
        by_developer[accrual.developer_id].append(accrual)
        first_record.setdefault(accrual.developer_id, record["dynamodb"]["SequenceNumber"])
    failed: list[str] = []
    for developer_id, accruals in by_developer.items():
        try:
            written = earnings.accrue(accruals).get(developer_id, 0)
        except Exception:  # reported to Lambda, which redelivers from the developer's first record
            logger.exception("earnings not accrued", extra={"developer_id": developer_id})
            failed.append(first_record[developer_id])
            continue
        metrics.add_metric(name="EarningsAccrued", unit=MetricUnit.Count, value=written)
    # Lambda resumes a stream batch from the lowest failed sequence number.
    return {"batchItemFailures": [{"itemIdentifier": min(failed, key=int)}] if failed else []}
