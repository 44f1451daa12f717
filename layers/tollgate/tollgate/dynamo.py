"""The DynamoDB client, attribute (de)serialisation and transaction retries.

Only the low-level client is used: it imports and runs faster than the resource layer,
and the transaction error surface (``CancellationReasons`` with the old item) is what the
domain needs to turn a failed condition into a named error without an extra read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from tollgate.config import settings

Item = dict[str, Any]
T = TypeVar("T")

_client: Any = None
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Concurrent transactions on one item may be cancelled with TransactionConflict; those
# are retried with full-jitter backoff. A failed condition is never retried.
_CONFLICT_ATTEMPTS = 12
_CONFLICT_BASE_S = 0.005
_CONFLICT_CAP_S = 0.2


def client() -> Any:
    global _client
    if _client is None:
        _client = boto3.client(
            "dynamodb",
            config=Config(
                retries={"mode": "standard", "max_attempts": 4},
                connect_timeout=2,
                read_timeout=5,
                tcp_keepalive=True,
                max_pool_connections=50,
            ),
        )
    return _client


def set_client(new_client: Any) -> None:
    """Test hook: use another client (a moto server, DynamoDB Local, a counting wrapper)."""
    global _client
    _client = new_client


def table_name() -> str:
    return settings().table_name


def to_attr(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any] | None) -> Item | None:
    if not item:
        return None
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    # DynamoDB numbers come back as Decimal; amounts are integers, keep them exact ints.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(cost=5) -> {":cost": {"N": "5"}}."""
    return {f":{k}": _serializer.serialize(v) for k, v in named.items()}


class TransactionCancelled(Exception):
    """A transaction failed one or more conditions. ``reasons[i]`` matches item ``i``."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("transaction cancelled")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        return self.code(index) == "ConditionalCheckFailed"

    def code(self, index: int) -> str:
        if index >= len(self.reasons):
            return "None"
        return self.reasons[index].get("Code") or "None"

    def old_item(self, index: int) -> Item | None:
        if index >= len(self.reasons):
            return None
        return from_item(self.reasons[index].get("Item"))


class ConditionFailed(Exception):
    """A single-item write failed its condition; ``old_item`` is the item as it was."""

    def __init__(self, old_item: Item | None) -> None:
        super().__init__("conditional check failed")
        self.old_item = old_item


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(_CONFLICT_CAP_S, _CONFLICT_BASE_S * 2**attempt)))  # noqa: S311 - jitter, not crypto


def transact_write(items: list[dict[str, Any]], **kwargs: Any) -> None:
    """One ``TransactWriteItems``; conflicts are retried, failed conditions raised."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            client().transact_write_items(TransactItems=items, **kwargs)
            return
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "TransactionCanceledException":
                if error.get("Code") in ("TransactionConflictException", "TransactionInProgressException"):
                    _backoff(attempt)
                    continue
                raise
            reasons = exc.response.get("CancellationReasons") or _reasons_from_message(
                error.get("Message", ""), len(items)
            )
            codes = [r.get("Code") for r in reasons]
            if "ConditionalCheckFailed" in codes:
                raise TransactionCancelled(reasons) from None
            if any(c in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded") for c in codes):
                _backoff(attempt)
                continue
            raise
    raise TransactionCancelled([{"Code": "TransactionConflict"}] * len(items))


def _reasons_from_message(message: str, count: int) -> list[dict[str, Any]]:
    # Some emulators put the reasons only in the message: "... [ConditionalCheckFailed, None]".
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end < start:
        return [{"Code": "None"}] * count
    codes = [c.strip() for c in message[start + 1 : end].split(",")]
    return [{"Code": c} for c in codes]


def update(**kwargs: Any) -> Item | None:
    """A single ``UpdateItem`` whose failed condition becomes :class:`ConditionFailed`."""
    try:
        result = client().update_item(**{"ReturnValuesOnConditionCheckFailure": "ALL_OLD", **kwargs,
                                          "TableName": table_name()})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed(from_item(exc.response.get("Item"))) from None
        raise
    return from_item(result.get("Attributes"))


def put(**kwargs: Any) -> None:
    try:
        client().put_item(**{"ReturnValuesOnConditionCheckFailure": "ALL_OLD", **kwargs, "TableName": table_name()})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed(from_item(exc.response.get("Item"))) from None
        raise


def get(key: dict[str, Any], *, consistent: bool = True, projection: str | None = None,
        names: dict[str, str] | None = None) -> Item | None:
    kwargs: dict[str, Any] = {"TableName": table_name(), "Key": key, "ConsistentRead": consistent}
    if projection:
        kwargs["ProjectionExpression"] = projection
    if names:
        kwargs["ExpressionAttributeNames"] = names
    return from_item(client().get_item(**kwargs).get("Item"))


def query(**kwargs: Any) -> tuple[list[Item], dict[str, Any] | None]:
    result = client().query(TableName=table_name(), **kwargs)
    items = [from_item(i) or {} for i in result.get("Items", [])]
    return items, result.get("LastEvaluatedKey")
