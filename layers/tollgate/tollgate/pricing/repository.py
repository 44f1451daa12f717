"""Feature catalog storage: one small partition (``CATALOG``), read whole."""

from __future__ import annotations

from typing import Any

from tollgate import dynamo, keys
from tollgate.dynamo import Item


def put_feature(item: dict[str, Any]) -> None:
    dynamo.put(Item={**keys.feature(item["feature_id"]), **dynamo.to_item(item)})


def get_feature(feature_id: str) -> Item | None:
    return dynamo.get(keys.feature(feature_id))


def list_features() -> list[Item]:
    return list(dynamo.query_all(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues=dynamo.values(pk=keys.CATALOG_PK, prefix="FEATURE#"),
        ConsistentRead=True,
    ))
