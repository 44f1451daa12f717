"""Wallet and ledger storage: the operations every money path's transaction is built from.

A wallet item keeps ``balance``, ``reserved`` and ``available`` (= balance - reserved)
as separate attributes because DynamoDB conditions have no arithmetic: a debit is
conditioned on ``available >= :amount``. Open holds live in the wallet's ``holds`` map
so one read shows what is held and what has expired. Every balance change also sets
``last_tx``, which the stream consumer uses to stamp that entry's ``balance_after``.
Each function adds one labelled operation (``ENTRY``, ``WALLET``, ``LOCATOR`` or
``REVERSED``) to a transaction.

Every credit also adds the wallet to its locator item (``ids.locator``): a wallet is credited
before it can be debited, so every wallet with usage is listed there, and a usage entry (whose
id is located) can be found from its transaction id alone, with no index entry per debit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from tollgate import ids, keys
from tollgate.data import (
    ConditionFailed,
    PreparedPut,
    PreparedUpdate,
    Transaction,
    conditional,
    get_or_none,
    to_attr,
)
from tollgate.ledger.models import HistoryRow, LedgerArchiveItem, LedgerEntryItem, WalletItem, WalletLocatorItem

ENTRY = "entry"
WALLET = "wallet"
LOCATOR = "locator"
REVERSED = "reversed"
W = WalletItem
E = LedgerEntryItem
L = WalletLocatorItem


# Every money movement puts one entry: its request is serialized the fast way (see data/prepared.py).
_PUT_ENTRY = PreparedPut(LedgerEntryItem, LedgerEntryItem.pk.does_not_exist())


def put_entry(tx: Transaction, entry: LedgerEntryItem) -> None:
    """Put a ledger entry once: the key derives from the idempotency key, so a replay fails."""
    tx.put_prepared(ENTRY, _PUT_ENTRY, entry)


def _debit(amount: int, txid: str, now: str) -> tuple[list[Action], Condition]:
    return [
        W.balance.set(W.balance - amount), W.available.set(W.available - amount),
        W.last_tx.set(txid), W.updated_at.set(now), W.seq.add(1),
    ], (W.available >= amount) & W.shards.does_not_exist()  # a sharded wallet's debits go to its shards


# Every usage debit sends this update: its expressions are serialized once (see data/prepared.py).
_DEBIT = PreparedUpdate(WalletItem, _debit, (int, str, str))


def debit_wallet(tx: Transaction, wallet_id: str, amount: int, txid: str, now: str) -> None:
    """Take ``amount`` from balance and available, only if that much is available."""
    tx.update_prepared(WALLET, _DEBIT, keys.wallet(wallet_id), amount, txid, now)


def expire_in_wallet(tx: Transaction, wallet_id: str, amount: int, txid: str, now: str,
                     expected_last_tx: str | None) -> None:
    """Take ``amount`` (>= 0) of expired grant credits: only if that much is available and the
    wallet's last balance change is still ``expected_last_tx`` (its grant book is current)."""
    current = W.last_tx.does_not_exist() if expected_last_tx is None else W.last_tx == expected_last_tx
    tx.update(WALLET, W.keyed(wallet_id), [
        W.balance.set(W.balance - amount), W.available.set(W.available - amount),
        W.last_tx.set(txid), W.updated_at.set(now), W.seq.add(1),
    ], W.pk.exists() & (W.available >= amount) & current)


def credit_wallet(tx: Transaction, wallet_id: str, amount: int, txid: str, now: str) -> None:
    """Add ``amount``; the first credit creates the wallet."""
    tx.update(WALLET, W.keyed(wallet_id), [
        W.balance.set((W.balance | 0) + amount), W.available.set((W.available | 0) + amount),
        W.reserved.set(W.reserved | 0), W.holds.set(W.holds | {}), W.wallet_id.set(wallet_id),
        W.entity.set(WalletItem), W.created_at.set(W.created_at | now),
        W.last_tx.set(txid), W.updated_at.set(now), W.seq.add(1),
    ])


def locate_wallet(tx: Transaction, wallet_id: str) -> None:
    """List the wallet under its locator: an ADD to a set, so idempotent, collision-safe and unconditioned."""
    tx.update(LOCATOR, L(*keys.wallet_locator(ids.locator(wallet_id))), [
        L.wallet_ids.add({wallet_id}), L.entity.set(WalletLocatorItem),
    ])


def wallets_at(locator: str) -> list[str]:
    """The wallets listed under a locator (one GetItem), sorted; usually one, or none."""
    item = get_or_none(WalletLocatorItem, *keys.wallet_locator(locator))
    return sorted(item.wallet_ids or ()) if item is not None else []


def add_reversed(tx: Transaction, usage: LedgerEntryItem, amount: int, cost: int) -> None:
    """Count ``amount`` more of a usage entry (which cost ``cost``; in its wallet's partition, or a
    sharded wallet's slot) as given back, only if the total stays within ``cost``. Conditions have
    no arithmetic, so the bound is on what was reversed before: at most ``cost - amount``."""
    limit = cost - amount
    if limit < 0:
        raise ValueError("a reversal cannot exceed what the entry cost")
    tx.update(REVERSED, E(usage.pk, usage.sk), [E.reversed_mc.add(amount)],
              E.pk.exists() & (E.reversed_mc.does_not_exist() | (E.reversed_mc <= limit)))


def hold_in_wallet(tx: Transaction, wallet_id: str, reservation_id: str, amount: int, expires_ms: int, now: str,
                   max_holds: int) -> None:
    """Move ``amount`` from available to reserved under a new hold."""
    hold = W.holds[reservation_id]
    tx.update(WALLET, W.keyed(wallet_id), [
        W.reserved.set(W.reserved + amount), W.available.set(W.available - amount),
        hold.set(to_attr({"a": amount, "e": expires_ms})), W.updated_at.set(now), W.seq.add(1),
    ], (W.available >= amount) & hold.does_not_exist() & (size(W.holds) < max_holds))


def settle_in_wallet(tx: Transaction, wallet_id: str, reservation_id: str, held: int, cost: int, txid: str,
                     now: str, now_ms: int) -> None:
    """Close an unexpired hold: charge ``cost`` (<= held) and free the rest."""
    hold = W.holds[reservation_id]
    tx.update(WALLET, W.keyed(wallet_id), [
        W.balance.set(W.balance - cost), W.reserved.set(W.reserved - held), W.available.set(W.available + (held - cost)),
        W.last_tx.set(txid), W.updated_at.set(now), hold.remove(), W.seq.add(1),
    ], hold.exists() & (hold["e"] > now_ms))


def release_in_wallet(tx: Transaction, wallet_id: str, holds: dict[str, int], now: str, now_ms: int, *,
                      expired: bool) -> None:
    """Free the named holds, each still in the wallet and (un)expired as ``expired`` says."""
    condition: Condition | None = None
    for rid in holds:
        hold = W.holds[rid]
        clause = hold.exists() & ((hold["e"] <= now_ms) if expired else (hold["e"] > now_ms))
        condition = clause if condition is None else condition & clause
    amount = sum(holds.values())
    tx.update(WALLET, W.keyed(wallet_id), [
        W.reserved.set(W.reserved - amount), W.available.set(W.available + amount), W.updated_at.set(now),
        *(W.holds[rid].remove() for rid in holds), W.seq.add(1),
    ], condition)


def _setting(wallet_id: str, attribute: Any, amount: int | None, now: str) -> list[Action]:
    """Set (None: clear) a threshold kept on the wallet item, creating an empty wallet if there is
    none. Not a balance change: no entry, and ``last_tx``/``seq`` stay."""
    return [
        W.balance.set(W.balance | 0), W.available.set(W.available | 0), W.reserved.set(W.reserved | 0),
        W.holds.set(W.holds | {}), W.wallet_id.set(wallet_id), W.entity.set(WalletItem),
        W.created_at.set(W.created_at | now), attribute.set(amount) if amount is not None else attribute.remove(),
    ]


def set_low_balance(wallet_id: str, amount: int | None, now: str) -> WalletItem:
    """Set (None: clear) the wallet's low-balance threshold; the wallet as it is now."""
    item = W.keyed(wallet_id)
    item.update(_setting(wallet_id, W.low_balance_mc, amount, now))
    return item  # update() read the item back (ALL_NEW)


def set_top_up_threshold(tx: Transaction, wallet_id: str, amount: int | None, now: str,
                         seq: int | None = None) -> None:
    """Set (None: clear) the wallet's auto top-up threshold, in ``tx`` (with the auto top-up's own item);
    given ``seq``, only while the wallet's change counter is still that (0: no change yet)."""
    unchanged = None if seq is None else (W.seq == seq) | W.seq.does_not_exist() if seq == 0 else W.seq == seq
    tx.update(WALLET, W.keyed(wallet_id), _setting(wallet_id, W.topup_threshold_mc, amount, now), unchanged)


def get_wallet(wallet_id: str) -> WalletItem | None:
    return get_or_none(WalletItem, *keys.wallet(wallet_id))


def get_entry(wallet_id: str, transaction_id: str) -> LedgerEntryItem | None:
    return get_or_none(LedgerEntryItem, *keys.entry(wallet_id, transaction_id))


def get_slotted_entry(wallet_id: str, transaction_id: str) -> LedgerEntryItem | None:
    """A sharded wallet's debit entry, in the slot its id names (``keys.slotted_entry``)."""
    return get_or_none(LedgerEntryItem, *keys.slotted_entry(wallet_id, transaction_id))


class History:
    """One page of a partition's history index: its entries, where it stopped, the archive totals'
    row if the query reached it (past the oldest entry), and whether it met the sharded marker."""

    __slots__ = ("archive_row", "entries", "last", "sharded")

    def __init__(self, entries: list[LedgerEntryItem], last: dict[str, dict[str, str]] | None,
                 archive_row: LedgerArchiveItem | None, sharded: bool = False) -> None:
        self.entries, self.last, self.archive_row, self.sharded = entries, last, archive_row, sharded


def query_entries(wallet_id: str, *, low: str, high: str, limit: int, start_key: dict[str, dict[str, str]] | None,
                  entry_type: str | None = None, pk: str | None = None) -> History:
    """One strongly consistent query of a wallet's history index (or of partition ``pk``: a sharded
    wallet's slot), newest first. A sharded wallet's marker (``LSI1SK`` ``~``) sorts first: it
    tells the caller to merge the slots, and is not an entry."""
    type_filter = ((LedgerEntryItem.type == entry_type) | LedgerEntryItem.type.does_not_exist()) if entry_type \
        else None  # the totals' row has no type: it must come through a type filter
    results = HistoryRow.history.query(
        pk or keys.wallet_pk(wallet_id), HistoryRow.lsi1sk.between(low, high), filter_condition=type_filter,
        scan_index_forward=False, consistent_read=True, page_size=limit, last_evaluated_key=start_key,
    )
    page = next(results.page_iter, None)
    if page is None:
        return History([], None, None)
    entries, archive_row, sharded = [], None, False
    for raw in page.get("Items", []):
        entity = raw.get("entity", {}).get("S")
        if entity == "ledger_archive":
            archive_row = LedgerArchiveItem.from_raw_data(raw)
        elif entity == "wallet_sharded":
            sharded = True
        else:
            entries.append(LedgerEntryItem.from_raw_data(raw))
    return History(entries, page.get("LastEvaluatedKey"), archive_row, sharded)


def iter_entry_amounts(wallet_id: str) -> Iterator[int]:
    """Every entry's amount in the table: the wallet's partition, then (a sharded wallet, as its
    marker says: one GetItem more) its slots."""
    partitions = [keys.wallet_pk(wallet_id)]
    if is_sharded(wallet_id):
        partitions += [keys.slot_pk(wallet_id, slot) for slot in range(keys.ENTRY_SLOTS)]
    for pk in partitions:
        for entry in LedgerEntryItem.query(pk, LedgerEntryItem.sk.startswith(keys.ENTRY_PREFIX), consistent_read=True,
                                           attributes_to_get=["amount"]):
            yield entry.amount


def is_sharded(wallet_id: str) -> bool:
    """Was the wallet ever sharded (its debit entries in slots)? One GetItem of its marker."""
    from tollgate.shards.models import ShardedMarkerItem

    return get_or_none(ShardedMarkerItem, *keys.wallet_sharded(wallet_id)) is not None


def stamp_balance_after(wallet_id: str, transaction_id: str, balance_after: int | None,
                        grants: dict[str, int] | None = None, created_at: str | None = None, *,
                        key: keys.Key | None = None) -> bool:
    """Record an entry's balance_after (from the wallet's stream; None: a sharded wallet's, which no
    one item's stream orders) and, when given, the grants it drew from or added to, and (given its
    ``created_at``) list it in the day-sharded index of every wallet's entries; False if no such
    entry. ``key``: where the entry is, if not in the wallet's partition (a sharded debit's slot)."""
    entry = LedgerEntryItem(*(key or keys.entry(wallet_id, transaction_id)))
    actions = [LedgerEntryItem.balance_after.set(balance_after)] if balance_after is not None else []
    if created_at:
        actions += [LedgerEntryItem.gsi2pk.set(keys.ledger_day_gsi2pk(created_at, transaction_id)),
                    LedgerEntryItem.gsi2sk.set(keys.entry_lsi1sk(created_at, transaction_id))]
    if grants:
        actions.append(LedgerEntryItem.grants.set(grants))
    try:
        conditional(lambda: entry.update(actions, condition=LedgerEntryItem.pk.exists()))
    except ConditionFailed:
        return False
    return True
