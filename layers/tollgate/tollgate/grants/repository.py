"""Grant book storage: one item per wallet beside the wallet, and the index of books due to expire."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

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
from tollgate.reconciliation import changed
from tollgate.tiers.models import SubscriptionItem

if TYPE_CHECKING:  # importing the analytics package would load its service: books are written without it
    from tollgate.analytics.repository import Delta

B = GrantBookItem


def to_book(item: GrantBookItem) -> Book:
    return Book(wallet_id=item.wallet_id,
                grants={gid: Grant.from_map(gid, raw) for gid, raw in (item.grants or {}).items()},
                last_tx=item.last_tx, seq=item.seq, balance=item.balance or 0, next_order=item.next_order or 0,
                expired_mc=item.expired_mc or 0, shortfall_mc=item.shortfall_mc or 0,
                created_at=item.created_at, usage_day=item.usage_day, chains=_chains(item.chains),
                deficit_mc=item.deficit_mc or 0, version=item.version, drifted=bool(item.drifted))


def _chains(raw: dict[str, Any] | None) -> dict[int, tuple[str | None, int | None]] | None:
    if raw is None:
        return None
    return {int(k): (v.get("tx"), None if v.get("seq") is None else int(v["seq"])) for k, v in raw.items()}


def get_book(wallet_id: str) -> Book | None:
    item = get_or_none(GrantBookItem, *keys.grant_book(wallet_id))
    return to_book(item) if item is not None else None


def book_write(book: Book, *, expected_last_tx: str | None, exists: bool) -> tuple[GrantBookItem, Condition]:
    """The whole book as an item, and the condition to write it on: only over the version it was computed
    from (its ``version``; a book written before versions were kept, ``expected_last_tx``; or none at all
    when new). The stream consumer is its only writer, so the condition fails only on a redelivery race
    or, on a sharded wallet, when two shards' chains are applied at once (``tollgate.grants.sharded``)."""
    now = clock.iso(clock.now_ms())
    next_expiry = book.next_expiry()
    item = GrantBookItem(
        *keys.grant_book(book.wallet_id), wallet_id=book.wallet_id,
        grants={gid: g.to_map() for gid, g in book.grants.items()}, last_tx=book.last_tx, seq=book.seq,
        balance=book.balance, next_order=book.next_order, expired_mc=book.expired_mc,
        shortfall_mc=book.shortfall_mc, usage_day=book.usage_day, created_at=book.created_at or now, updated_at=now,
        chains=None if book.chains is None else {str(k): {"tx": tx, "seq": seq} for k, (tx, seq) in book.chains.items()},
        deficit_mc=book.deficit_mc or None, drifted=book.drifted or None, version=(book.version or 0) + 1,
        gsi2pk=keys.grant_expiry_gsi2pk(book.wallet_id) if next_expiry is not None else None,
        gsi2sk=keys.grant_expiry_gsi2sk(clock.iso(next_expiry), book.wallet_id) if next_expiry is not None else None,
    )
    if not exists:
        condition = B.pk.does_not_exist()
    elif book.version is not None:
        condition = B.version == book.version
    elif expected_last_tx is None:
        condition = B.pk.exists() & B.last_tx.does_not_exist()
    else:
        condition = B.last_tx == expected_last_tx
    return item, condition


def companions(delta: Delta, wallet_ids: list[str]) -> Transaction:
    """What a write of these wallets' books carries in its transaction: ``delta``, what their entries
    add to the aggregates, and the wallets' mark for the reconciliation job (with the books, so exactly
    when they are: adding to a set twice is adding once)."""
    also = Transaction()
    # Any shard will do (readers add them up): a random one spreads concurrent batches apart.
    shard = random.randrange(keys.AGGREGATE_SHARDS)  # noqa: S311 - spread, not crypto
    for label, request in delta.updates(shard):
        also.update_raw(label, request)
    also.update_raw(changed.LABEL, changed.mark_request(keys.RECON_WALLETS, wallet_ids, clock.now_ms(),
                                                        shard % keys.RECON_SHARDS))
    return also


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


__all__ = ["book_write", "companions", "due_wallets", "get_book", "read_wallet_view", "save_books", "to_book"]
