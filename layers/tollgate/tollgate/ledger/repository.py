"""Wallet and ledger storage: the transaction items every money path is built from.

A wallet item keeps ``balance``, ``reserved`` and ``available`` (= balance - reserved)
as separate attributes because DynamoDB conditions have no arithmetic: a debit is
conditioned on ``available >= :amount``. Open holds live in the wallet's ``holds`` map
(``{reservation_id: {"a": amount, "e": expires_ms}}``) so one read shows what is held
and what has expired. Every balance change also sets ``last_tx``, which the stream
consumer uses to stamp that entry's ``balance_after`` in commit order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tollgate import dynamo, keys
from tollgate.dynamo import Item

TransactItem = dict[str, Any]

_WALLET_NAMES = {"#bal": "balance", "#av": "available", "#res": "reserved"}


def entry_put(entry: dict[str, Any]) -> TransactItem:
    """Put a ledger entry once: the key derives from the idempotency key, so a replay fails."""
    wallet_id, tx = entry["wallet_id"], entry["transaction_id"]
    item = {
        **keys.entry(wallet_id, tx),
        **dynamo.to_item(
            {
                **entry,
                "entity": "ledger_entry",
                "LSI1SK": keys.entry_lsi1sk(entry["created_at"], tx),
            }
        ),
    }
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def wallet_debit(wallet_id: str, amount: int, tx: str, now: str) -> TransactItem:
    """Take ``amount`` from balance and available, only if that much is available."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": keys.wallet(wallet_id),
            "UpdateExpression": "SET #bal = #bal - :amt, #av = #av - :amt, last_tx = :tx, updated_at = :now ADD seq :one",
            "ConditionExpression": "#av >= :amt",
            "ExpressionAttributeNames": {"#bal": "balance", "#av": "available"},
            "ExpressionAttributeValues": dynamo.values(amt=amount, tx=tx, now=now, one=1),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def wallet_credit(wallet_id: str, amount: int, tx: str, now: str) -> TransactItem:
    """Add ``amount``; the first credit creates the wallet."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": keys.wallet(wallet_id),
            "UpdateExpression": (
                "SET #bal = if_not_exists(#bal, :zero) + :amt, #av = if_not_exists(#av, :zero) + :amt, "
                "#res = if_not_exists(#res, :zero), holds = if_not_exists(holds, :empty), "
                "wallet_id = :wid, entity = :entity, created_at = if_not_exists(created_at, :now), "
                "last_tx = :tx, updated_at = :now ADD seq :one"
            ),
            "ExpressionAttributeNames": _WALLET_NAMES,
            "ExpressionAttributeValues": dynamo.values(
                amt=amount, zero=0, empty={}, wid=wallet_id, entity="wallet", tx=tx, now=now, one=1
            ),
        }
    }


def wallet_hold(wallet_id: str, reservation_id: str, amount: int, expires_ms: int, now: str,
                max_holds: int) -> TransactItem:
    """Move ``amount`` from available to reserved under a new hold."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": keys.wallet(wallet_id),
            "UpdateExpression": "SET #res = #res + :amt, #av = #av - :amt, holds.#rid = :hold, updated_at = :now ADD seq :one",
            "ConditionExpression": "#av >= :amt AND attribute_not_exists(holds.#rid) AND size(holds) < :max",
            "ExpressionAttributeNames": {"#res": "reserved", "#av": "available", "#rid": reservation_id},
            "ExpressionAttributeValues": dynamo.values(
                amt=amount, hold={"a": amount, "e": expires_ms}, now=now, one=1, max=max_holds
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def wallet_settle(wallet_id: str, reservation_id: str, held: int, cost: int, tx: str, now: str,
                  now_ms: int) -> TransactItem:
    """Close an unexpired hold: charge ``cost`` (<= held) and free the rest."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": keys.wallet(wallet_id),
            "UpdateExpression": (
                "SET #bal = #bal - :cost, #res = #res - :held, #av = #av + :freed, last_tx = :tx, "
                "updated_at = :now REMOVE holds.#rid ADD seq :one"
            ),
            "ConditionExpression": "attribute_exists(holds.#rid) AND holds.#rid.e > :now_ms",
            "ExpressionAttributeNames": {**_WALLET_NAMES, "#rid": reservation_id},
            "ExpressionAttributeValues": dynamo.values(
                cost=cost, held=held, freed=held - cost, tx=tx, now=now, now_ms=now_ms, one=1
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def release_holds_update(wallet_id: str, holds: dict[str, int], now: str, now_ms: int, *,
                         expired: bool) -> dict[str, Any]:
    """Free the named holds, each still in the wallet and (un)expired as ``expired`` says."""
    names = {"#res": "reserved", "#av": "available"}
    conditions = []
    removes = []
    for i, rid in enumerate(holds):
        names[f"#h{i}"] = rid
        removes.append(f"holds.#h{i}")
        conditions.append(f"attribute_exists(holds.#h{i})")
        conditions.append(f"holds.#h{i}.e <= :now_ms" if expired else f"holds.#h{i}.e > :now_ms")
    return {
        "TableName": dynamo.table_name(),
        "Key": keys.wallet(wallet_id),
        "UpdateExpression": (
            f"SET #res = #res - :amt, #av = #av + :amt, updated_at = :now REMOVE {', '.join(removes)} ADD seq :one"
        ),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": dynamo.values(amt=sum(holds.values()), now=now, now_ms=now_ms, one=1),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def release_expired_holds(wallet_id: str, holds: dict[str, int], now: str, now_ms: int) -> bool:
    """Free expired holds in one conditional update; False if another writer got there first."""
    try:
        dynamo.update(**release_holds_update(wallet_id, holds, now, now_ms, expired=True))
    except dynamo.ConditionFailed:
        return False
    return True


def get_wallet(wallet_id: str) -> Item | None:
    return dynamo.get(keys.wallet(wallet_id))


def get_entry(wallet_id: str, transaction_id: str) -> Item | None:
    return dynamo.get(keys.entry(wallet_id, transaction_id))


def query_entries(wallet_id: str, *, low: str, high: str, limit: int, start_key: dict[str, Any] | None,
                  entry_type: str | None = None) -> tuple[list[Item], dict[str, Any] | None]:
    """One strongly consistent query of a wallet's history index, newest first."""
    kwargs: dict[str, Any] = {
        "IndexName": "LSI1",
        "KeyConditionExpression": "PK = :pk AND LSI1SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": dynamo.values(pk=keys.wallet_pk(wallet_id), low=low, high=high),
        "ScanIndexForward": False,
        "Limit": limit,
        "ConsistentRead": True,
    }
    if entry_type:
        kwargs["FilterExpression"] = "#type = :type"
        kwargs["ExpressionAttributeNames"] = {"#type": "type"}
        kwargs["ExpressionAttributeValues"].update(dynamo.values(type=entry_type))
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    return dynamo.query(**kwargs)


def iter_entry_amounts(wallet_id: str) -> Iterator[int]:
    for item in dynamo.query_all(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :tx)",
        ExpressionAttributeValues=dynamo.values(pk=keys.wallet_pk(wallet_id), tx="TX#"),
        ProjectionExpression="amount",
        ConsistentRead=True,
    ):
        yield int(item["amount"])


def stamp_balance_after(wallet_id: str, transaction_id: str, balance_after: int) -> bool:
    """Record an entry's balance_after (from the wallet's stream); False if no such entry."""
    try:
        dynamo.update(
            Key=keys.entry(wallet_id, transaction_id),
            UpdateExpression="SET balance_after = :b",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=dynamo.values(b=balance_after),
        )
    except dynamo.ConditionFailed:
        return False
    return True
