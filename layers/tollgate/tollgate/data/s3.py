"""The one S3 client of a process (ledger exports, the ledger archive), made on first use.

Path-style addressing follows from botocore's rules for an IP endpoint (moto on 127.0.0.1 locally).
"""

from __future__ import annotations

from typing import Any

from tollgate.data import services
from tollgate.data.services import error_code


def client() -> Any:
    """The S3 client for the endpoint and region the environment names now."""
    return services.client("s3", signature_version="s3v4", read_timeout=60)


__all__ = ["client", "error_code"]
