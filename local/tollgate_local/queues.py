"""SQS event sources from template.yaml, delivered as Lambda would (the queues live in moto).

Receives up to ``BatchSize`` messages at a time, hands them to the function as an SQS event, and
deletes the ones it did not report in ``batchItemFailures``; those stay in the queue and come back
when their visibility timeout runs out (the function may have changed it, as a backoff), or move
to the dead-letter queue after ``maxReceiveCount`` receives (moto applies the redrive policy).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from typing import Any

from tollgate_local import template
from tollgate_local.background import Background
from tollgate_local.functions import FunctionError, FunctionRegistry
from tollgate_local.intrinsics import ACCOUNT, REGION, queue_url


@dataclass
class QueueSource:
    function: str
    queue_logical: str
    batch_size: int


def queue_sources() -> list[QueueSource]:
    sources = []
    for fname, fn in template.resources("AWS::Serverless::Function").items():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event.get("Type") != "SQS":
                continue
            props = event["Properties"]
            target = props["Queue"]["Fn::GetAtt"]
            logical = target.split(".")[0] if isinstance(target, str) else target[0]
            sources.append(QueueSource(fname, logical, int(props.get("BatchSize", 10))))
    return sources


def lambda_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes") or {}, "messageAttributes": m.get("MessageAttributes") or {},
        "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION,
    } for m in messages]}


class QueuePoller(Background):
    """One thread: long-polls each source's queue (1 s) and invokes its function."""

    name = "queues"

    def __init__(self, registry: FunctionRegistry, sqs_client: Any, queue_names: dict[str, str]) -> None:
        self.registry = registry
        self.sqs = sqs_client
        self.sources = queue_sources()
        self.queue_names = queue_names
        self.delivered = 0
        super().__init__()

    def has_work(self) -> bool:
        return bool(self.sources)

    def _run(self) -> None:
        while not self._stop.is_set():
            got_any = False
            for source in self.sources:
                try:
                    got_any |= self._poll(source)
                except Exception:  # noqa: BLE001 - keep polling; a transient error must not kill dev
                    import traceback

                    traceback.print_exc()
            if not got_any:
                self._idle.set()

    def _poll(self, source: QueueSource) -> bool:
        name = self.queue_names[source.queue_logical]
        url = queue_url(name)
        wait = 0 if len(self.sources) > 1 else 1
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
                                            WaitTimeSeconds=wait, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            if wait == 0:
                self._stop.wait(0.2)
            return False
        try:
            result = self.registry.get(source.function).invoke(
                lambda_event(messages, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")) or {}
        except FunctionError as exc:  # the whole batch comes back after its visibility timeout
            print(f"[queues] {exc}", file=sys.stderr)
            return True
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        self.delivered += len(done)
        return True
