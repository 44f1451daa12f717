"""The one S3 client of a process (ledger exports, the ledger archive), made on first use.

A low-level botocore client, as the data layer has one DynamoDB client: no boto3 resource layer
and no s3transfer. Locally, ``AWS_ENDPOINT_URL`` points it at moto on 127.0.0.1 (path-style, as
botocore addresses an IP endpoint). A function that never touches S3 never builds it.
"""

from __future__ import annotations

import os
from typing import Any

_client: Any = None
_client_env: tuple[str | None, ...] | None = None


def client() -> Any:
    """The S3 client for the endpoint and region the environment names now."""
    global _client, _client_env
    env = (os.environ.get("AWS_ENDPOINT_URL_S3"), os.environ.get("AWS_ENDPOINT_URL"),
           os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    if _client is None or env != _client_env:
        import botocore.session
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=60,
                        signature_version="s3v4", tcp_keepalive=True)
        _client = botocore.session.get_session().create_client("s3", config=config)
        _client_env = env
    return _client


def error_code(exc: Exception) -> str | None:
    """A botocore ``ClientError``'s code (``"NoSuchKey"``), else None."""
    response = getattr(exc, "response", None)
    return (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None


__all__ = ["client", "error_code"]
