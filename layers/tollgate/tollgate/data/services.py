"""The process's clients of AWS services other than DynamoDB (S3, SQS, EventBridge), made on first use.

Low-level botocore clients, as the data layer has one DynamoDB client: no boto3 resource layer.
Locally, ``AWS_ENDPOINT_URL`` points them at moto on 127.0.0.1. A function that never calls a
service never builds its client; a changed environment (a test's endpoint) gets a new one.
"""

from __future__ import annotations

import os
from typing import Any

_clients: dict[str, tuple[tuple[str | None, ...], Any]] = {}


def client(service: str, **config: Any) -> Any:
    """The ``service`` client for the endpoint and region the environment names now; ``config``
    (botocore ``Config`` options) applies when it is made."""
    env = (os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}"), os.environ.get("AWS_ENDPOINT_URL"),
           os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    made = _clients.get(service)
    if made is None or made[0] != env:
        import botocore.session
        from botocore.config import Config

        options = {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 5, "read_timeout": 20,
                   "tcp_keepalive": True, **config}
        made = _clients[service] = (env, botocore.session.get_session().create_client(service, config=Config(**options)))
    return made[1]


class QueueRefused(Exception):
    """SQS refused some messages of a batch (the caller's work is retried whole)."""


def send_messages(queue_url: str, bodies: list[dict[str, Any]]) -> None:
    """Send each body (as compact JSON) to the queue, ten to a request; QueueRefused if any is refused."""
    import json

    for start in range(0, len(bodies), 10):  # SendMessageBatch takes at most 10
        chunk = bodies[start:start + 10]
        answer = client("sqs").send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "MessageBody": json.dumps(b, separators=(",", ":"))} for n, b in enumerate(chunk)])
        if answer.get("Failed"):
            raise QueueRefused(f"{queue_url.rsplit('/', 1)[-1]} refused {len(answer['Failed'])} of {len(chunk)} messages")


def error_code(exc: Exception) -> str | None:
    """A botocore ``ClientError``'s code (``"NoSuchKey"``), else None."""
    response = getattr(exc, "response", None)
    return (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None


__all__ = ["QueueRefused", "client", "error_code", "send_messages"]
