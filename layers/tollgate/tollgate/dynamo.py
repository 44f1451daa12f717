"""The DynamoDB client, attribute (de)serialisation and transaction retries.

Only botocore's low-level client is used, created from a botocore session: importing
boto3 would also import s3transfer and the resource layer (tens of milliseconds of cold
start that no function here uses). Attribute values are (de)serialised by the few lines
below, which also keep numbers exact (``int`` or ``Decimal``, never ``float``). The
transaction error surface (``CancellationReasons`` with the old item) is what the domain
needs to turn a failed condition into a named error without an extra read.
"""

from __future__ import annotations

import decimal
import os
import random
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from tollgate.config import settings

Item = dict[str, Any]
T = TypeVar("T")

_client: Any = None
_client_env: tuple[str | None, ...] | None = None
_override: Any = None
# DynamoDB keeps 38 significant digits; anything that would round is refused, not stored wrong.
_NUMBER_CONTEXT = decimal.Context(prec=38, Emin=-128, Emax=126, traps=[decimal.Inexact, decimal.Rounded,
                                                                     decimal.Overflow, decimal.Underflow])

# Concurrent transactions on one item may be cancelled with TransactionConflict; those
# are retried with full-jitter backoff. A failed condition is never retried.
_CONFLICT_ATTEMPTS = 12
_CONFLICT_BASE_S = 0.005
_CONFLICT_CAP_S = 0.2


def client() -> Any:
    """The DynamoDB client: one per endpoint/region the environment names (usually just one)."""
    global _client, _client_env
    if _override is not None:
        return _override
    env = (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"), os.environ.get("AWS_ENDPOINT_URL"),
           os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    if _client is None or env != _client_env:
        _client = botocore.session.get_session().create_client(
            "dynamodb",
            config=Config(
                retries={"mode": "standard", "max_attempts": 4},
                connect_timeout=2,
                read_timeout=5,
                tcp_keepalive=True,
                max_pool_connections=50,
            ),
        )
        _client_env = env
    return _client


def set_client(new_client: Any) -> None:
    """Test hook: use another client (a moto server, DynamoDB Local, a counting wrapper);
    None goes back to the environment's."""
    global _override, _client
    _override = new_client
    _client = None


def table_name() -> str:
    return settings().table_name


def to_attr(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (floats refused: they are not exact)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("DynamoDB numbers must be finite")
        return {"N": str(_NUMBER_CONTEXT.create_decimal(value))}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_attr(attr: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as Python: numbers as int when integral, else Decimal."""
    if not attr:
        return {}  # DynamoDB Local renders an empty map in stream images as {}
    ((kind, raw),) = attr.items()
    if kind == "S":
        return raw
    if kind == "N":
        return _number(raw)
    if kind == "M":
        return {k: from_attr(v) for k, v in raw.items()}
    if kind == "L":
        return [from_attr(v) for v in raw]
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {_number(v) for v in raw}
    if kind == "B":
        return raw
    if kind == "BS":
        return set(raw)
    raise TypeError(f"unknown DynamoDB type {kind}")


def _number(raw: str) -> int | Decimal:
    # Amounts are integers: keep them exact ints; anything else stays an exact Decimal.
    if raw.lstrip("-").isdigit():
        return int(raw)
    number = Decimal(raw)
    return int(number) if number == number.to_integral_value() else number


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any] | None) -> Item | None:
    if not item:
        return None
    return {k: from_attr(v) for k, v in item.items()}


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(cost=5) -> {":cost": {"N": "5"}}."""
    return {f":{k}": to_attr(v) for k, v in named.items()}


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


def query_all(**kwargs: Any) -> Iterator[Item]:
    """Every item a query matches, page after page (for small partitions and admin lists)."""
    start: dict[str, Any] | None = None
    while True:
        page, start = query(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        yield from page
        if not start:
            return
