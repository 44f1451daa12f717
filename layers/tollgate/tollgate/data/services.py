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


def error_code(exc: Exception) -> str | None:
    """A botocore ``ClientError``'s code (``"NoSuchKey"``), else None."""
    response = getattr(exc, "response", None)
    return (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None


__all__ = ["client", "error_code"]
