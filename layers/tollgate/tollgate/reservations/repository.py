"""Reservation items: one per hold, keyed by its own id so settle/release find it by id.

While a hold is open its item carries ``GSI1PK`` = ``HOLDS#<shard>`` and ``GSI1SK`` =
``<expires_at>#<id>``; closing it removes both, so the sweeper's index holds only open
holds and never one hot partition.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, dynamo, keys
from tollgate.dynamo import Item

TransactItem = dict[str, Any]
# Closed reservations are kept for audit, then removed by DynamoDB TTL.
RETAIN_SECONDS = 90 * 24 * 3600


def put(item: dict[str, Any]) -> TransactItem:
    rid = item["reservation_id"]
    full = {
        **item,
        "entity": "reservation",
        "GSI1PK": keys.hold_shard(rid),
        "GSI1SK": f"{item['expires_at']}#{rid}",
        "ttl_epoch": item["expires_at_ms"] // 1000 + RETAIN_SECONDS,
    }
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": {**keys.reservation(rid), **dynamo.to_item(full)},
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def close(reservation_id: str, status: str, now: str, **fields: Any) -> TransactItem:
    """Move an open reservation to ``status`` and take it out of the open-holds index."""
    sets = ["#st = :status", "closed_at = :now"]
    vals: dict[str, Any] = {"status": status, "now": now, "open": "open"}
    for name, value in fields.items():
        if value is not None:
            sets.append(f"{name} = :{name}")
            vals[name] = value
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": keys.reservation(reservation_id),
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE GSI1PK, GSI1SK",
            "ConditionExpression": "#st = :open",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": dynamo.values(**vals),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def get(reservation_id: str) -> Item | None:
    return dynamo.get(keys.reservation(reservation_id))


def expired_open(shard: str, now_ms: int, start: dict[str, Any] | None) -> tuple[list[Item], dict[str, Any] | None]:
    kwargs: dict[str, Any] = {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :shard AND GSI1SK <= :now",
        "ExpressionAttributeValues": dynamo.values(shard=shard, now=clock.iso(now_ms) + "#~"),
        "Limit": 200,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    return dynamo.query(**kwargs)
