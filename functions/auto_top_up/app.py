"""AutoTopUpFunction: the auto top-up queue's consumer; charges a wallet's saved card once per crossing.

Each message names a wallet and the change that took its available below its auto top-up
threshold (``tollgate.autotopup``). A gateway failure that may pass raises: the message comes back
after the queue's visibility timeout and is charged under the same idempotency key.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import autotopup, lazy

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    # A crossing is the seq of the wallet change that crossed, or a sharded wallet's ("sharded-<n>").
    crossing = str(message["crossing"]) if "crossing" in message else int(message["seq"])
    outcome = autotopup.top_up(str(message["wallet_id"]), crossing)
    logger.info("auto top-up", extra={"wallet_id": message["wallet_id"], "crossing": crossing, "outcome": outcome})
    metrics.add_metric(name=f"AutoTopUp_{outcome}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


lazy.load(autotopup)  # the init phase imports what the handler calls (tollgate/lazy.py)
coldstart.end()
