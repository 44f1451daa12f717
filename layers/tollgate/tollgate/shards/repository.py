"""Reads and writes of a sharded wallet's items (``tollgate.shards.models``, shard 0 the wallet item)."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate import keys
from tollgate.data import Transaction, client, get_or_none, table_name
from tollgate.ledger.models import LedgerEntryItem, WalletItem
from tollgate.shards.models import ShardedMarkerItem, WalletShardItem

W = WalletItem
S = WalletShardItem


@dataclass(frozen=True)
class Shard:
    """One shard as read: shard 0 is the wallet item (its holds stay there)."""

    shard: int
    shards: int | None  # the layout the item carries (None: the wallet was never sharded)
    balance: int
    available: int
    exists: bool = True
    last_tx: str | None = None  # its last balance change (a debit's, or on shard 0 any entry's)


def root_item(wallet_id: str) -> WalletItem | None:
    """The wallet item (shard 0): one strongly consistent GetItem."""
    return get_or_none(WalletItem, *keys.wallet(wallet_id))


def items_of(root: WalletItem) -> int:
    """How many shard items a wallet has, from its wallet item: its count, or more when a layout once
    larger left retired ones (which count in its sum until drained)."""
    return max(root.shard_items or 1, root.shards or 1)


def shard_of(raw: dict | None, shard: int) -> Shard:
    """A shard from its raw item (None: absent)."""
    if not raw:
        return Shard(shard, None, 0, 0, exists=False)
    model = WalletItem if shard == 0 else WalletShardItem
    item = model.from_raw_data(raw)
    return Shard(shard, item.shards, item.balance or 0, item.available or 0, last_tx=item.last_tx)


def snapshot(wallet_id: str, count: int) -> list[Shard]:
    """Shards 0..count-1 as of one instant: one ``TransactGetItems`` (a serializable read), so
    credits moving between two shards are seen on exactly one side (a ``BatchGetItem`` could miss
    them, and a 402 would then be wrong)."""
    table = table_name()
    answer = client().transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
        for pk, sk in (keys.wallet_shard(wallet_id, k) for k in range(count))])
    return [shard_of(r.get("Item"), k) for k, r in enumerate(answer["Responses"])]


def other_shards(wallet_id: str, count: int) -> list[Shard]:
    """Shards 1..count-1 (strongly consistent ``BatchGetItem``; the wallet item is read apart)."""
    if count <= 1:
        return []
    found = {item.shard: item for item in WalletShardItem.batch_get(
        [keys.wallet_shard(wallet_id, k) for k in range(1, count)], consistent_read=True)}
    return [Shard(k, found[k].shards, found[k].balance or 0, found[k].available or 0) if k in found
            else Shard(k, None, 0, 0, exists=False) for k in range(1, count)]


def all_shards_eventually(wallet_id: str, count: int) -> tuple[WalletItem | None, list[Shard]]:
    """The wallet item and shards 1..count-1 in one eventually consistent ``BatchGetItem`` (half a
    read unit each: every debit of a sharded wallet reads each shard once, so strongly consistent
    reads would cap the wallet at 3,000 debits a second)."""
    table = table_name()
    wanted = [keys.wallet_shard(wallet_id, k) for k in range(count)]
    request = {table: {"Keys": [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in wanted], "ConsistentRead": False}}
    found: dict[tuple[str, str], dict] = {}
    while request:
        answer = client().batch_get_item(RequestItems=request)
        for raw in answer.get("Responses", {}).get(table, []):
            found[(raw["PK"]["S"], raw["SK"]["S"])] = raw
        request = answer.get("UnprocessedKeys") or {}
    root_raw = found.get(wanted[0])
    root = WalletItem.from_raw_data(root_raw) if root_raw else None
    return root, [shard_of(found.get(key), k) for k, key in enumerate(wanted) if k > 0]


def take(tx: Transaction, label: str, wallet_id: str, shard: int, shards: int, amount: int, txid: str | None,
         now: str) -> None:
    """Take ``amount`` from one shard, only if it has that much available and the layout is ``shards``.
    A debit names its transaction (``last_tx``); a rebalance does not."""
    if shard == 0:
        actions = [W.balance.set(W.balance - amount), W.available.set(W.available - amount),
                   W.updated_at.set(now), W.seq.add(1)]
        if txid is not None:
            actions.append(W.last_tx.set(txid))
        tx.update(label, W.keyed(wallet_id), actions, (W.available >= amount) & (W.shards == shards))
        return
    actions = [S.balance.set(S.balance - amount), S.available.set(S.available - amount), S.updated_at.set(now),
               S.seq.add(1)]
    if txid is not None:
        actions.append(S.last_tx.set(txid))
    tx.update(label, S(*keys.wallet_shard(wallet_id, shard)), actions,
              (S.available >= amount) & (S.shards == shards))


def give(tx: Transaction, label: str, wallet_id: str, shard: int, shards: int, amount: int, now: str) -> None:
    """Add ``amount`` to one shard (a rebalance's receiving side), only in layout ``shards``."""
    if shard == 0:
        tx.update(label, W.keyed(wallet_id), [W.balance.set(W.balance + amount),
                                              W.available.set(W.available + amount), W.updated_at.set(now),
                                              W.seq.add(1)], W.shards == shards)
        return
    tx.update(label, S(*keys.wallet_shard(wallet_id, shard)), [
        S.balance.set(S.balance + amount), S.available.set(S.available + amount), S.updated_at.set(now),
        S.seq.add(1)], S.shards == shards)


def set_layout(tx: Transaction, wallet_id: str, current: list[Shard], count: int, now: str,
               check_until: str | None) -> None:
    """Add to ``tx`` the change from ``current`` (every shard item that exists, as read) to
    ``count`` shards: each item stamped with the new count (so a debit built for the old one fails
    its layout condition), new shards created empty. No credits move here: a shard past ``count``
    (retired) keeps what it holds until :func:`drain` moves it to shard 0, and meanwhile still counts
    in the wallet's sum and gives in rebalances, so nothing is out of reach. The first sharding
    (``check_until`` given: until when debits check for replays of keys used before it) also puts
    the history marker."""
    was = current[0].shards
    root_actions = [W.shards.set(count), W.shard_items.set(max(len(current), count)), W.updated_at.set(now)]
    if check_until is not None:
        root_actions.append(W.replay_check_until.set(check_until))
    tx.update("shard-0", W.keyed(wallet_id), root_actions,
              W.shards.does_not_exist() if was is None else (W.shards == was))
    for shard in current[1:]:
        tx.update(f"shard-{shard.shard}", S(*keys.wallet_shard(wallet_id, shard.shard)),
                  [S.shards.set(count), S.updated_at.set(now)], S.pk.exists())
    for k in range(len(current), count):
        tx.put(f"shard-{k}", S(*keys.wallet_shard(wallet_id, k), wallet_id=wallet_id, shard=k, shards=count,
                               balance=0, available=0, seq=0, updated_at=now), S.pk.does_not_exist())
    if check_until is not None:
        tx.put("marker", ShardedMarkerItem(*keys.wallet_sharded(wallet_id), lsi1sk=keys.SHARDED_LSI1SK,
                                           wallet_id=wallet_id, sharded_at=now))


def expire(tx: Transaction, label: str, wallet_id: str, amount: int, txid: str, now: str,
           cursors: dict[int, str | None], items: int) -> None:
    """Take ``amount`` (>= 0) of expired grant credits from shard 0: only if it has that much
    available, the wallet still has ``items`` shard items, and every shard's last change is still
    the one in ``cursors`` (all the grant book has applied), so no debit its book has not seen spent
    the grant first."""
    last = cursors.get(0)
    tx.update(label, W.keyed(wallet_id), [
        W.balance.set(W.balance - amount), W.available.set(W.available - amount), W.last_tx.set(txid),
        W.updated_at.set(now), W.seq.add(1),
    ], (W.available >= amount) & (W.shard_items == items)
        & (W.last_tx.does_not_exist() if last is None else W.last_tx == last))
    for shard, tx_id in sorted(cursors.items()):
        if shard:
            tx.check(f"shard-{shard}", S, *keys.wallet_shard(wallet_id, shard),
                     S.last_tx.does_not_exist() if tx_id is None else S.last_tx == tx_id)


def drain(tx: Transaction, wallet_id: str, shard: Shard, now: str) -> None:
    """Move all a retired shard holds to shard 0 (only if it still holds what was read)."""
    tx.update(f"shard-{shard.shard}", S(*keys.wallet_shard(wallet_id, shard.shard)), [
        S.balance.set(S.balance - shard.available), S.available.set(S.available - shard.available),
        S.updated_at.set(now)], S.available == shard.available)
    tx.update("shard-0", W.keyed(wallet_id), [W.balance.set(W.balance + shard.available),
                                              W.available.set(W.available + shard.available),
                                              W.updated_at.set(now), W.seq.add(1)])


def last_debit_since(wallet_id: str, since: str) -> str | None:
    """When the wallet's newest debit (a usage entry) in its own partition since ``since`` was made,
    if any: a consistent query of its history index, newest first, usage entries only."""
    results = LedgerEntryItem.history.query(keys.wallet_pk(wallet_id), LedgerEntryItem.lsi1sk >= since,
                                            filter_condition=LedgerEntryItem.type == "usage",
                                            scan_index_forward=False, consistent_read=True)
    for entry in results:
        return entry.created_at
    return None


def slot_entries(wallet_id: str) -> list[LedgerEntryItem]:
    """Every debit entry in the wallet's slots (strongly consistent queries, one per slot)."""
    found: list[LedgerEntryItem] = []
    for slot in range(keys.ENTRY_SLOTS):
        found.extend(LedgerEntryItem.query(keys.slot_pk(wallet_id, slot), LedgerEntryItem.sk.startswith(
            keys.ENTRY_PREFIX), consistent_read=True))
    return found
