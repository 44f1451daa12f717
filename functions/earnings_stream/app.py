"""EarningsStreamFunction: developers' revenue share, accrued from the table's stream.

Receives inserted usage entries that name a developer (the event source's filter), and
accrues each one's earning exactly once: one transaction per developer per batch (see
``tollgate.earnings.accrual``); a reversal of a usage entry takes its earning back in
proportion, once (``tollgate.earnings.reversal``). A developer whose earnings cannot be written is reported
as a batch item failure from their first record, so Lambda redelivers from there; the
earnings already written are skipped on redelivery.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from collections import defaultdict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import earnings, lazy

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    by_developer: dict[str, list[earnings.Accrual]] = defaultdict(list)
    reversals: dict[str, list[earnings.Reversal]] = defaultdict(list)
    first_record: dict[str, str] = {}
    for record in event.get("Records") or []:
        change = earnings.from_record(record)
        if change is None:
            continue
        (reversals if isinstance(change, earnings.Reversal) else by_developer)[change.developer_id].append(change)
        first_record.setdefault(change.developer_id, record["dynamodb"]["SequenceNumber"])
    failed: list[str] = []
    for developer_id, accruals in by_developer.items():
        try:
            written = earnings.accrue(accruals).get(developer_id, 0)
        except Exception:  # reported to Lambda, which redelivers from the developer's first record
            logger.exception("earnings not accrued", extra={"developer_id": developer_id})
            failed.append(first_record[developer_id])
            continue
        metrics.add_metric(name="EarningsAccrued", unit=MetricUnit.Count, value=written)
    # After the batch's accruals: a reversal in the same batch names a usage entry before it.
    for developer_id, items in reversals.items():
        if first_record[developer_id] in failed:
            continue  # redelivered with the accruals it may need
        try:
            for item in items:
                earnings.reverse(item)
        except Exception:  # reported to Lambda, which redelivers from the developer's first record
            logger.exception("earnings not reversed", extra={"developer_id": developer_id})
            failed.append(first_record[developer_id])
    # Lambda resumes a stream batch from the lowest failed sequence number.
    return {"batchItemFailures": [{"itemIdentifier": min(failed, key=int)}] if failed else []}


lazy.load(earnings)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
