"""A sharded wallet's grant book: one book fed by every shard item's chain of changes.

An unsharded wallet's changes come from one item's stream, in commit order (``tollgate.grants
.stream``). A sharded wallet's come from N items (``tollgate.shards``): each shard's own changes in
order, but no order between shards, and two shards' records may be in two stream shards read by two
invocations at once. So the book keeps a cursor per chain (``chains``: shard -> its last change
applied and its ``seq``) and is written over the ``version`` read; the consumer notes a batch's
changes (:meth:`ShardedBooks.note`) and applies them at the batch's end (:meth:`ShardedBooks.flush`),
per wallet:

* the book is read, the batch's changes it does not hold yet (by each chain's cursor) are applied,
  the chains merged by the entries' ``created_at`` (each chain in its own order), and the book is
  written with what the entries add to the aggregates, in one transaction conditioned on the
  version read. If another invocation wrote the book meanwhile, it is read again and what is still
  missing applied again (:data:`_ATTEMPTS`, then the batch fails and is delivered again);
* a debit seen before the credit that funded it (on shard 0, another chain) finds no grant: what it
  took is the book's ``deficit_mc``, which the next credit settles first;
* a change whose chain skipped one (lost from the stream for good) is applied and the book marked
  ``drifted``: at the first flush that finds every shard's last change applied (one
  ``TransactGetItems`` of the shards), the book is resynchronised to their summed balance;
* once written, each entry is stamped with the grants it moved and its day-index keys (analytics'
  listings and exports); no ``balance_after``, since no one item's stream orders a sharded wallet's
  changes.

Which shard a change came from does not matter to the grants (credits all land on shard 0; a
debit draws in the book's order whichever shard paid it): the chains only say what is applied.
"""

from __future__ import annotations

import heapq
import logging
import random
import time
from dataclasses import dataclass, field

from tollgate import clock, keys
from tollgate.analytics.repository import Delta
from tollgate.analytics.tally import WalletTally
from tollgate.data import StoreUnavailable
from tollgate.grants import repository
from tollgate.grants.attribution import Book
from tollgate.grants.changes import change_of, created_ms
from tollgate.grants.exceptions import BookChanged
from tollgate.ledger import repository as ledger
from tollgate.ledger.models import LedgerEntryItem

logger = logging.getLogger(__name__)

# Writes of one book raced by other invocations (each applying other shards' changes) before the batch
# fails and is delivered again.
_ATTEMPTS = 12
_BACKOFF_S = 0.02
_BATCH_GET = 50  # entries read per BatchGetItem: two candidate keys each, under its 100


@dataclass(frozen=True)
class ChainChange:
    """One balance change of one shard item, as its stream record says."""

    wallet_id: str
    shard: int
    tx: str  # the item's last_tx after it
    old_tx: str | None  # before it
    seq: int | None
    delta: int  # what it did to the item's balance


@dataclass
class Flushed:
    books: int = 0
    attributed: int = 0
    marked: set[str] = field(default_factory=set)  # wallets whose books were written (with their marks)
    resynchronised: int = 0
    aggregate_writes: int = 0
    entries: dict[str, LedgerEntryItem | None] = field(default_factory=dict)


class ShardedBooks:
    """A batch's changes of sharded wallets, applied to their books at the batch's end."""

    def __init__(self) -> None:
        self._changes: dict[str, list[ChainChange]] = {}

    def note(self, change: ChainChange) -> None:
        self._changes.setdefault(change.wallet_id, []).append(change)

    def flush(self) -> Flushed:
        done = Flushed()
        if not self._changes:
            return done
        done.entries = _entries([c for changes in self._changes.values() for c in changes])
        for wallet_id, changes in self._changes.items():
            _flush_wallet(wallet_id, changes, done)
        self._changes.clear()
        return done


def _flush_wallet(wallet_id: str, changes: list[ChainChange], done: Flushed) -> None:
    for attempt in range(_ATTEMPTS):
        stored = repository.get_book(wallet_id)
        book = stored.copy() if stored is not None else Book(wallet_id=wallet_id, chains={})
        if book.chains is None:  # first sharded change: the book so far followed shard 0 alone
            book.chains = {0: (book.last_tx, book.seq)}
        tally = WalletTally(wallet_id)
        applied: list[tuple[str, LedgerEntryItem, dict[str, int]]] = []
        unstamped: list[LedgerEntryItem] = []
        lost = new = 0
        for change in _merged(changes, done.entries):
            cursor_tx, cursor_seq = book.chains.get(change.shard) or (None, None)
            entry = done.entries.get(change.tx)
            if cursor_tx == change.tx or (change.seq is not None and cursor_seq is not None
                                          and change.seq <= cursor_seq):
                if entry is not None and entry.gsi2pk is None:
                    unstamped.append(entry)  # applied, but the batch failed before its stamp
                continue  # applied already (a redelivery, or another invocation's write)
            if cursor_tx != change.old_tx:
                lost += 1
                book.drifted = True
                logger.error("wallet %s shard %s: changes after %s up to %s were never attributed (lost from the "
                             "stream); the grant book is resynchronised once every shard is caught up",
                             wallet_id, change.shard, cursor_tx, change.old_tx)
            new += 1
            moved = book.apply(change_of(wallet_id, change.tx, entry, change.delta))
            book.chains[change.shard] = (change.tx, change.seq)
            if change.shard == 0:
                book.last_tx, book.seq = change.tx, change.seq
            if entry is not None:
                book.usage_day = tally.add(entry, book.usage_day)
                applied.append((change.tx, entry, moved))
        if not new and stored is not None and stored.chains is not None:
            _stamp(wallet_id, [(e.transaction_id, e, {}) for e in unstamped])
            return  # nothing new for this book
        if book.drifted:
            _resynchronise(book)
        book.balance = book.net()
        delta = Delta()
        delta.add(tally)
        try:
            repository.save_books([(book, stored.last_tx if stored is not None else None, stored is not None)],
                                  repository.companions(delta, [wallet_id]))
        except BookChanged:
            time.sleep(random.uniform(0, _BACKOFF_S * (attempt + 1)))  # noqa: S311 - jitter, not crypto
            continue
        done.books += 1
        done.marked.add(wallet_id)
        done.attributed += len(applied)
        done.resynchronised += lost
        done.aggregate_writes += delta.size()
        # An entry applied by an earlier delivery whose batch failed before its stamp gets its day-index
        # keys at least (what it moved went with that delivery).
        _stamp(wallet_id, applied + [(e.transaction_id, e, {}) for e in unstamped])
        return
    raise StoreUnavailable(f"the grant book of {wallet_id} kept changing")


def _stamp(wallet_id: str, stamps: list[tuple[str, LedgerEntryItem, dict[str, int]]]) -> None:
    for tx, entry, moved in stamps:
        ledger.stamp_balance_after(wallet_id, tx, None, moved or None, entry.created_at, key=(entry.pk, entry.sk))


def _resynchronise(book: Book) -> None:
    """If every shard's last change is in the book (one instant's read of them), make the book sum
    to their balance: what lost changes did is then known in total."""
    from tollgate.shards import repository as shards  # the shards' reads, only when a chain lost a change

    root = shards.root_item(book.wallet_id)
    if root is None:
        return
    current = shards.snapshot(book.wallet_id, shards.items_of(root))
    if not book.caught_up(current):
        return  # more changes on their way: the flush that applies them tries again
    book.reconcile(sum(s.balance for s in current), "resynchronised", clock.iso(clock.now_ms()))
    book.drifted = False


def _merged(changes: list[ChainChange], entries: dict[str, LedgerEntryItem | None]) -> list[ChainChange]:
    """The changes, each shard's in its own (commit) order, the shards' interleaved by when their
    entries were made: a debit then draws from what was there when it was made, as far as one knows."""
    chains: dict[int, list[ChainChange]] = {}
    for change in changes:
        chains.setdefault(change.shard, []).append(change)
    return list(heapq.merge(*chains.values(), key=lambda c: created_ms(entries.get(c.tx))))


def _entries(changes: list[ChainChange]) -> dict[str, LedgerEntryItem | None]:
    """Each change's ledger entry, by transaction id: in the wallet's partition (credits, holds'
    settlements, expiries) or its debit's slot; strongly consistent ``BatchGetItem``s, two candidate
    keys a change on shard 0, one (the slot) on another shard."""
    wanted: list[tuple[str, str]] = []
    for change in changes:
        wanted.append(keys.slotted_entry(change.wallet_id, change.tx))
        if change.shard == 0:
            wanted.append(keys.entry(change.wallet_id, change.tx))
    found: dict[str, LedgerEntryItem | None] = {c.tx: None for c in changes}
    unique = list(dict.fromkeys(wanted))
    for start in range(0, len(unique), 2 * _BATCH_GET):
        for entry in LedgerEntryItem.batch_get(unique[start:start + 2 * _BATCH_GET], consistent_read=True):
            found[entry.transaction_id] = entry
    return found


__all__ = ["ChainChange", "Flushed", "ShardedBooks"]
