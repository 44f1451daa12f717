"""Grant book storage: one item per wallet beside the wallet, and the index of books due to expire."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition

from tollgate import clock, keys
from tollgate.data import (
    ConditionFailed,
    Transaction,
    TransactionCancelled,
    client,
    conditional,
    get_or_none,
    table_name,
)
from tollgate.grants.attribution import Book, Grant
from tollgate.grants.exceptions import BookChanged
from tollgate.grants.models import GrantBookItem
from tollgate.ledger.models import WalletItem
from tollgate.tiers.models import SubscriptionItem

B = GrantBookItem


def to_book(item: GrantBookItem) -> Book:
    return Book(wallet_id=item.wallet_id,
                grants={gid: Grant.from_map(gid, raw) for gid, raw in (item.grants or {}).items()},
                last_tx=item.last_tx, seq=item.seq, balance=item.balance or 0, next_order=item.next_order or 0,
                expired_mc=item.expired_mc or 0, shortfall_mc=item.shortfall_mc or 0,
                created_at=item.created_at, usage_day=item.usage_day)


def get_book(wallet_id: str) -> Book | None:
    item = get_or_none(GrantBookItem, *keys.grant_book(wallet_id))
    return to_book(item) if item is not None else None


def book_write(book: Book, *, expected_last_tx: str | None, exists: bool) -> tuple[GrantBookItem, Condition]:
    """The whole book as an item, and the condition to write it on: only over the version it was computed
    from (``expected_last_tx``, or none at all when new). The stream consumer is its only writer, so the
    condition fails only on a redelivery race."""
    now = clock.iso(clock.now_ms())
    next_expiry = book.next_expiry()
    item = GrantBookItem(
        *keys.grant_book(book.wallet_id), wallet_id=book.wallet_id,
        grants={gid: g.to_map() for gid, g in book.grants.items()}, last_tx=book.last_tx, seq=book.seq,
        balance=book.balance, next_order=book.next_order, expired_mc=book.expired_mc,
        shortfall_mc=book.shortfall_mc, usage_day=book.usage_day, created_at=book.created_at or now, updated_at=now,
        gsi2pk=keys.grant_expiry_gsi2pk(book.wallet_id) if next_expiry is not None else None,
        gsi2sk=keys.grant_expiry_gsi2sk(clock.iso(next_expiry), book.wallet_id) if next_expiry is not None else None,
    )
    if not exists:
        condition = B.pk.does_not_exist()
    elif expected_last_tx is None:
        condition = B.pk.exists() & B.last_tx.does_not_exist()
    else:
        condition = B.last_tx == expected_last_tx
    return item, condition


def save_books(writes: list[tuple[Book, str | None, bool]], also: Transaction) -> None:
    """Write books (each with its expected ``last_tx`` and whether it exists) and ``also`` in one
    transaction; :class:`BookChanged` if a book moved meanwhile (nothing is written then)."""
    if len(writes) == 1 and not also.labels():  # one item: a conditional put, at half a transaction's cost
        book, expected_last_tx, exists = writes[0]
        item, condition = book_write(book, expected_last_tx=expected_last_tx, exists=exists)
        try:
            conditional(lambda: item.save(condition=condition))
        except ConditionFailed:
            raise BookChanged(f"the grant book of {book.wallet_id} changed meanwhile") from None
        return
    tx = Transaction()
    for book, expected_last_tx, exists in writes:
        item, condition = book_write(book, expected_last_tx=expected_last_tx, exists=exists)
        tx.put(f"book:{book.wallet_id}", item, condition)
    tx.extend(also)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        changed = sorted(label[5:] for label, code in cancelled.codes.items()
                         if label.startswith("book:") and code == "ConditionalCheckFailed")
        raise BookChanged(f"the grant book of {', '.join(changed) or 'a wallet'} changed meanwhile") from None


def due_wallets(shard: str, now_ms: int) -> Iterator[str]:
    """The wallets in one index shard whose book has a grant expiring at or before ``now_ms``."""
    for item in GrantBookItem.expiring.query(shard, GrantBookItem.gsi2sk < clock.iso(now_ms + 1),
                                             attributes_to_get=["wallet_id"]):
        yield item.wallet_id


def read_wallet_view(wallet_id: str) -> tuple[WalletItem | None, GrantBookItem | None, SubscriptionItem | None]:
    """The wallet, its grant book and its subscription: one strongly consistent Query of the items
    whose sort key begins ``WALLET`` (``WALLET``, ``WALLET#GRANTS``, ``WALLET#SUBSCRIPTION``), which
    sort apart from the wallet's entries (``TX#``) and earnings (``EARN#``)."""
    wanted: dict[str, type[Any]] = {keys.WALLET_SK: WalletItem, keys.GRANTS_SK: GrantBookItem,
                                     keys.SUBSCRIPTION_SK: SubscriptionItem}
    found: dict[str, Any] = {}
    request: dict[str, Any] = {
        "TableName": table_name(), "ConsistentRead": True,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": {"S": keys.wallet_pk(wallet_id)}, ":sk": {"S": keys.WALLET_SK}},
    }
    while True:
        reply = client().query(**request)
        for raw in reply.get("Items", []):
            model = wanted.get(raw["SK"]["S"])
            if model is not None:
                found[raw["SK"]["S"]] = model.from_raw_data(raw)
        if "LastEvaluatedKey" not in reply:
            break
        request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
    return found.get(keys.WALLET_SK), found.get(keys.GRANTS_SK), found.get(keys.SUBSCRIPTION_SK)


__all__ = ["book_write", "due_wallets", "get_book", "read_wallet_view", "save_books", "to_book"]
