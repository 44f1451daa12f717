"""WebhookDeliveryFunction: the delivery queue's consumer; POSTs each event to each subscribed endpoint.

A message whose attempt failed goes back to the queue for later: its visibility timeout is set to
the backoff (``tollgate.webhook_endpoints.deliveries``) and it is reported as a batch item failure,
so Lambda leaves it in the queue and it comes back then. Every other message is done with.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import json
import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import lazy, webhook_endpoints
from tollgate.data.services import client

logger = Logger()
metrics = Metrics()
# A batch whose every message waits for a retry is not an error (no Errors alarm): report them all.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class TryLater(Exception):
    """This message comes back after its visibility timeout (set to the backoff)."""


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    result = webhook_endpoints.deliver(str(message["event_id"]), str(message["endpoint_id"]),
                                       resend=bool(message.get("resend")), event_type=message.get("event_type"),
                                       body=message.get("body"))
    logger.info("webhook delivery", extra={"event_id": message["event_id"], "endpoint_id": message["endpoint_id"],
                                           "outcome": result.outcome, "reason": result.reason,
                                           "retry_in": result.retry_in})
    metrics.add_metric(name=f"WebhookDelivery_{result.outcome}", unit=MetricUnit.Count, value=1)
    if result.outcome is webhook_endpoints.Outcome.FAILED:
        metrics.add_metric(name="WebhookEndpointDisabled", unit=MetricUnit.Count, value=1)
    if result.retry_in is not None:
        client("sqs").change_message_visibility(QueueUrl=os.environ["WEBHOOK_DELIVERY_QUEUE_URL"],
                                                ReceiptHandle=record.receipt_handle, VisibilityTimeout=result.retry_in)
        raise TryLater(f"retry in {result.retry_in} s")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


lazy.load(webhook_endpoints)  # the init phase imports what the handler calls (tollgate/lazy.py)
coldstart.end()
