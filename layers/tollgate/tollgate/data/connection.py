"""The one botocore DynamoDB client, shared by every model, and PynamoDB's view of the table.

PynamoDB would give each model class its own connection, botocore session (per thread) and
client: a dozen clients in a cold start. Here every model shares one ``Connection`` whose
client is the process's single low-level botocore client (no boto3: its resource layer and
s3transfer are cold-start cost no function uses). The table name is read from the
environment on every call, so a test may point the models at another table.
"""

from __future__ import annotations

import os
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from pynamodb.connection import Connection, TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.exceptions import PynamoDBException

from tollgate import config
from tollgate.data.exceptions import StoreUnavailable

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    max_pool_connections=50,
    # PynamoDB builds well-formed requests; botocore's re-validation is pure overhead.
    parameter_validation=False,
)

_client: Any = None
_client_env: tuple[str | None, ...] | None = None
_override: Any = None


def client() -> Any:
    """The DynamoDB client: one per endpoint/region the environment names (usually just one)."""
    global _client, _client_env
    if _override is not None:
        return _override
    env = (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"), os.environ.get("AWS_ENDPOINT_URL"),
           os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    if _client is None or env != _client_env:
        _client = botocore.session.get_session().create_client("dynamodb", config=CLIENT_CONFIG)
        _client_env = env
    return _client


def set_client(new_client: Any) -> None:
    """Test hook: use another client (a moto server, DynamoDB Local, a counting wrapper);
    None goes back to the environment's."""
    global _override, _client
    _override = new_client
    _client = None


def table_name() -> str:
    return config.table_name()


class SharedConnection(Connection):
    """PynamoDB's connection over :func:`client`, with the table's schema under any name."""

    def __init__(self, meta_table: MetaTable) -> None:
        super().__init__()
        self._meta_table = meta_table

    @property
    def client(self) -> Any:  # type: ignore[override]
        return client()

    def get_meta_table(self, table_name: str) -> MetaTable:
        return self._meta_table

    def dispatch(self, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        # PynamoDB's own dispatch asks every call for its consumed capacity and sends
        # signals around it; nothing here reads either, and the debit path pays for both.
        try:
            return self._make_api_call(operation_name, operation_kwargs)
        except Exception as exc:
            unavailable = as_unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc


# What DynamoDB answers when it could not take a request now (after botocore's own retries);
# any other error is the request's fault, or a condition, and is raised as it is.
_TRANSIENT_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable",
})  # TransactionConflict and TransactionInProgress are retried by Transaction.commit itself


def as_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """``exc`` as :class:`StoreUnavailable` if it says DynamoDB could not answer now (a throttle,
    a server error, a timeout or a dropped connection), else None. Takes botocore's errors and
    PynamoDB's wrappers of them (their ``cause``)."""
    if isinstance(exc, StoreUnavailable):
        return exc
    cause = getattr(exc, "cause", None) if isinstance(exc, PynamoDBException) else exc
    if isinstance(cause, ClientError):
        code = str(cause.response.get("Error", {}).get("Code", ""))
        return StoreUnavailable(code) if code in _TRANSIENT_CODES else None
    if isinstance(cause, (BotocoreConnectionError, HTTPClientError)):  # timeouts, resets, refused connections
        return StoreUnavailable(type(cause).__name__)
    return None


class SharedTable(TableConnection):
    """The one table every model lives on; its name follows the environment."""

    def __init__(self, meta_table: MetaTable) -> None:  # no super().__init__: it would open a client
        self.connection = SharedConnection(meta_table)

    @property  # type: ignore[override]
    def table_name(self) -> str:
        return config.table_name()

    @table_name.setter
    def table_name(self, value: str) -> None:  # TableConnection.__init__ would set it
        raise AttributeError("the table name comes from the environment")
