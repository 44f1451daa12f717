"""Packages, checkout settings, purchases, gateway-reference pointers, webhook dedupe records."""

from __future__ import annotations

import re
from typing import Any

from tollgate import dynamo, keys
from tollgate.dynamo import Item

TransactItem = dict[str, Any]
WEBHOOK_RETENTION_S = 30 * 24 * 3600  # gateways retry for days; keep well past 7


def put_package(item: dict[str, Any]) -> None:
    dynamo.put(Item={**keys.package(item["package_id"]), **dynamo.to_item(item)})


def get_package(package_id: str) -> Item | None:
    return dynamo.get(keys.package(package_id))


def list_packages() -> list[Item]:
    return list(dynamo.query_all(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues=dynamo.values(pk=keys.CATALOG_PK, prefix=keys.PACKAGE_PREFIX),
        ConsistentRead=True,
    ))


def get_settings() -> Item | None:
    return dynamo.get(keys.settings())


def put_settings(item: dict[str, Any]) -> None:
    dynamo.put(Item={**keys.settings(), **dynamo.to_item(item)})


def put_purchase(item: dict[str, Any]) -> None:
    """Create a purchase once (its id derives from the Idempotency-Key); ConditionFailed if it exists."""
    full = {
        **item,
        "entity": "purchase",
        "GSI1PK": keys.wallet_purchases_gsi1pk(item["wallet_id"]),
        "GSI1SK": f"{item['created_at']}#{item['purchase_id']}",
        "GSI2PK": keys.ALL_PURCHASES_GSI2PK,
        "GSI2SK": f"{item['created_at']}#{item['purchase_id']}",
    }
    dynamo.put(Item={**keys.purchase(item["purchase_id"]), **dynamo.to_item(full)},
               ConditionExpression="attribute_not_exists(PK)")


def get_purchase(purchase_id: str) -> Item | None:
    return dynamo.get(keys.purchase(purchase_id))


def set_session(purchase_id: str, fields: dict[str, Any]) -> None:
    names = {f"#{k}": k for k in fields}
    dynamo.update(
        Key=keys.purchase(purchase_id),
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=dynamo.values(**fields),
    )


def put_reference(gateway: str, reference: str, purchase_id: str) -> None:
    dynamo.put(Item={**keys.gateway_reference(gateway, reference),
                     **dynamo.to_item({"purchase_id": purchase_id, "entity": "gateway_reference"})})


def purchase_for_reference(gateway: str, reference: str) -> str | None:
    item = dynamo.get(keys.gateway_reference(gateway, reference))
    return item["purchase_id"] if item else None


def update_purchase(purchase_id: str, *, sets: dict[str, Any], condition: str,
                    condition_values: dict[str, Any] | None = None, adds: dict[str, Any] | None = None,
                    removes: tuple[str, ...] = ()) -> TransactItem:
    """A conditional purchase update, as a transaction item."""
    # Every #name the condition uses maps to the attribute of that name ("#st" is status).
    names: dict[str, str] = {f"#{n}": n for n in re.findall(r"#([a-z_]+)", condition) if n != "st"}
    names["#st"] = "status"
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(f"#{k} = :{k}" for k in sets))
        names.update({f"#{k}": k for k in sets})
    if adds:
        clauses.append("ADD " + ", ".join(f"#{k} :{k}" for k in adds))
        names.update({f"#{k}": k for k in adds})
    if removes:
        clauses.append("REMOVE " + ", ".join(f"#{k}" for k in removes))
        names.update({f"#{k}": k for k in removes})
    values = {**sets, **(adds or {}), **(condition_values or {})}
    update: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "Key": keys.purchase(purchase_id),
        "UpdateExpression": " ".join(clauses),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if values:
        update["ExpressionAttributeValues"] = _values_with_sets(values)
    return {"Update": update}


def _values_with_sets(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in values.items():
        out[f":{k}"] = {"SS": sorted(v)} if isinstance(v, (set, frozenset)) else dynamo.to_attr(v)
    return out


def list_purchases(*, wallet_id: str | None, limit: int, start: dict[str, Any] | None
                   ) -> tuple[list[Item], dict[str, Any] | None]:
    if wallet_id is not None:
        index, pk_name, pk = "GSI1", "GSI1PK", keys.wallet_purchases_gsi1pk(wallet_id)
    else:
        index, pk_name, pk = "GSI2", "GSI2PK", keys.ALL_PURCHASES_GSI2PK
    kwargs: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{pk_name} = :pk",
        "ExpressionAttributeValues": dynamo.values(pk=pk),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    return dynamo.query(**kwargs)


def seen_webhook(gateway: str, event_id: str) -> bool:
    return dynamo.get(keys.webhook_event(gateway, event_id), consistent=True) is not None


def record_webhook(gateway: str, event_id: str, fields: dict[str, Any], now_s: int) -> None:
    try:
        dynamo.put(Item={**keys.webhook_event(gateway, event_id),
                         **dynamo.to_item({**fields, "entity": "webhook_event",
                                           "ttl_epoch": now_s + WEBHOOK_RETENTION_S})},
                   ConditionExpression="attribute_not_exists(PK)")
    except dynamo.ConditionFailed:
        pass  # a concurrent delivery recorded it first: same event, same outcome


def count_checkout(wallet_id: str, window: str, limit: int, expires_s: int) -> bool:
    """Count one checkout in this window; False once the window's limit is reached."""
    try:
        dynamo.update(
            Key=keys.rate_counter("checkout", wallet_id, window),
            UpdateExpression="ADD n :one SET ttl_epoch = :exp",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeValues=dynamo.values(one=1, exp=expires_s, limit=limit),
        )
    except dynamo.ConditionFailed:
        return False
    return True
