from __future__ import annotations

from typing import Any

from tollgate import dynamo, keys
from tollgate.dynamo import Item


def put_new(item: dict[str, Any]) -> None:
    dynamo.put(
        Item={**keys.api_key(item["key_id"]), **dynamo.to_item(item)},
        ConditionExpression="attribute_not_exists(PK)",
    )


def get(key_id: str) -> Item | None:
    return dynamo.get(keys.api_key(key_id))


def revoke(key_id: str, now: str) -> None:
    """Mark revoked (first revocation time wins); raises ConditionFailed if no such key."""
    dynamo.update(
        Key=keys.api_key(key_id),
        UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues=dynamo.values(now=now),
    )


def list_all() -> list[Item]:
    return list(dynamo.query_all(
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues=dynamo.values(pk=keys.APIKEYS_GSI1PK),
        ScanIndexForward=False,
    ))
