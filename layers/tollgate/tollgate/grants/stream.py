"""Attributing the ledger's balance changes to grants, from the wallet item's stream, in commit order.

``LedgerStreamFunction`` hands every wallet stream record of a batch to one :class:`StreamBatch`:
for each balance change (``NewImage.last_tx`` differs from ``OldImage.last_tx``) it reads the
entry, applies it to the wallet's grant book (read once per batch), and stamps the entry's
``balance_after`` together with the grants it moved and its day-index keys (``tollgate.analytics
.transactions``), in one ``UpdateItem``; it counts the entry in the wallet's tally
(``tollgate.analytics.tally``). :meth:`StreamBatch.flush` then writes each book changed, once per
wallet per batch, conditioned on the ``last_tx`` it was read at, in one transaction with what the
tallies of its books add to the aggregates (many books per transaction, up to DynamoDB's 100 items):
the aggregates count each entry exactly as often as a book applies it, once. Exactly once, whatever
the redelivery:

* a change the book already holds (its ``last_tx``, or a wallet ``seq`` not past the book's: every
  wallet update adds one to ``seq``) is a replay, skipped;
* a change whose ``OldImage.last_tx`` is not the book's ``last_tx`` follows one not applied. If that
  one failed in this batch: :class:`AttributionGap`, a batch item failure, so Lambda delivers again
  from the failed one. Otherwise it is lost for good (Lambda retries a failed record before any
  after it, so one not in this batch was given up on after its retries): the book is resynchronised
  to the wallet's balance before this change (what the lost changes took is drawn in order, what
  they added is a non-expiring grant), logged, and attribution goes on; a lost record never stops
  its wallet's attribution for good;
* a book that fails to write fails the whole batch (redelivered: a replay up to where the book is).

A wallet without a book whose old image has a ``last_tx`` had credits before grants were kept: its
book starts with them as one non-expiring grant (``balance``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tollgate import clock, keys
from tollgate.analytics.repository import Delta
from tollgate.analytics.tally import WalletTally
from tollgate.data.images import image_number, image_string
from tollgate.grants import repository
from tollgate.grants.attribution import LEGACY_GRANT_ID, Book
from tollgate.grants.changes import change_of, created_ms
from tollgate.grants.exceptions import AttributionGap
from tollgate.grants.sharded import ChainChange, ShardedBooks
from tollgate.ledger import repository as ledger
from tollgate.ledger.models import LedgerEntryItem

logger = logging.getLogger(__name__)

# DynamoDB's limit on one TransactWriteItems (100), less the reconciliation mark each carries.
_ITEMS_PER_TRANSACTION = 99
_BYTES_PER_TRANSACTION = 3_000_000  # under its 4 MB, by an estimate of each book's size


def _book_bytes(book: Book) -> int:
    return 1_024 + 200 * len(book.grants)


def tally_items(tally: WalletTally | None) -> int:
    """Items a wallet's book and tally write."""
    return 1 + (tally.size() if tally is not None else 0)


@dataclass
class Outcome:
    stamped: bool = False
    attributed: bool = False
    replay: bool = False


@dataclass
class _Loaded:
    book: Book | None
    stored: bool
    stored_last_tx: str | None
    dirty: bool = False


class StreamBatch:
    """One batch of stream records: books read once, changed in memory, written by :meth:`flush`."""

    def __init__(self) -> None:
        self._books: dict[str, _Loaded] = {}
        self._failed: set[str] = set()  # wallets with a change that failed in this batch
        self._tallies: dict[str, WalletTally] = {}  # what each wallet's changes add to the aggregates, unwritten
        self.resynchronised = 0
        self.aggregate_writes = 0
        # The entries this batch read, by transaction id: what else the consumer asks of them
        # (an event's source) needs no second read.
        self.entries: dict[str, LedgerEntryItem | None] = {}
        self.sharded = ShardedBooks()  # sharded wallets' changes, applied after the others' (flush)
        self.unbooked: set[str] = set()  # wallets changed without a balance change (their books carry no mark)
        self.marked: set[str] = set()  # wallets whose books this batch wrote, each with its reconciliation mark
        self.sharded_attributed = 0

    def apply(self, record: dict[str, Any]) -> Outcome:
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            return Outcome()
        change = record.get("dynamodb") or {}
        sk = image_string(change.get("Keys") or {}, "SK")
        if sk not in (keys.WALLET_SK, keys.SHARD_SK):
            return Outcome()
        new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
        tx, old_tx = image_string(new, "last_tx"), image_string(old, "last_tx")
        if not tx or tx == old_tx:
            # Holds, their release and rebalances move credits, not the balance: no book changes, but the
            # reconciliation job checks the wallet's holds against what it has reserved.
            if wallet := image_string(new, "wallet_id"):
                self.unbooked.add(wallet)
            return Outcome()
        wallet_id, balance = image_string(new, "wallet_id"), image_number(new, "balance")
        if wallet_id is None or balance is None:
            return Outcome()
        if sk == keys.SHARD_SK or image_number(new, "shards") is not None:
            # One shard of a sharded wallet: its book follows every shard's chain (tollgate.grants.sharded).
            self.sharded.note(ChainChange(wallet_id, image_number(new, "shard") or 0, tx, old_tx,
                                          image_number(new, "seq"), balance - (image_number(old, "balance") or 0)))
            return Outcome()
        try:
            return self._apply(wallet_id, tx, old_tx, balance, new, old)
        except Exception:
            self._failed.add(wallet_id)  # its later changes in this batch wait for it (a gap)
            raise

    def _apply(self, wallet_id: str, tx: str, old_tx: str | None, balance: int, new: dict[str, Any],
               old: dict[str, Any]) -> Outcome:
        loaded = self._load(wallet_id)
        book, seq = loaded.book, image_number(new, "seq")
        if book is not None and book.chains is not None:
            # A change from before the wallet was sharded, after its book began following the shards:
            # shard 0's chain, which it is.
            self.sharded.note(ChainChange(wallet_id, 0, tx, old_tx, seq, balance - (image_number(old, "balance") or 0)))
            return Outcome()
        if book is not None and (book.last_tx == tx or (seq is not None and book.seq is not None and seq <= book.seq)):
            return Outcome(replay=True)
        if book is None:
            book = _new_book(wallet_id, old, old_tx)
        elif book.last_tx != old_tx:
            if wallet_id in self._failed or seq is None or book.seq is None:
                raise AttributionGap(f"wallet {wallet_id}: {tx} follows {old_tx}, the book is at {book.last_tx}")
            book = self._resynchronised(book, old, old_tx)
        entry = self.entries[tx] = ledger.get_entry(wallet_id, tx)
        working = book.copy()
        before = image_number(old, "balance") or 0
        moved = working.apply(change_of(wallet_id, tx, entry, balance - before))
        working.last_tx, working.seq, working.balance = tx, seq, balance
        working.reconcile(balance, tx, clock.iso(created_ms(entry)))
        stamped = entry is not None and ledger.stamp_balance_after(wallet_id, tx, balance, moved or None,
                                                                   entry.created_at)
        if entry is not None:  # counted with the book, once the change has nothing left to fail on
            tally = self._tallies.setdefault(wallet_id, WalletTally(wallet_id))
            working.usage_day = tally.add(entry, working.usage_day)
        loaded.book, loaded.dirty = working, True
        if tally_items(self._tallies.get(wallet_id)) >= _ITEMS_PER_TRANSACTION - 10:
            self._commit([loaded], self._delta([loaded]))  # a wallet touching this many aggregates goes out now
        return Outcome(stamped=stamped, attributed=True)

    def _resynchronised(self, book: Book, old: dict[str, Any], old_tx: str | None) -> Book:
        """The book as of the change before this one, whose own change(s) were lost (see above)."""
        before = image_number(old, "balance") or 0
        working = book.copy()
        drift = working.reconcile(before, old_tx or "lost", image_string(old, "updated_at") or clock.iso(clock.now_ms()))
        working.last_tx, working.seq, working.balance = old_tx, image_number(old, "seq"), before
        self.resynchronised += 1
        logger.error("wallet %s: changes after %s up to %s were never attributed (lost from the stream); the grant "
                     "book is resynchronised to the balance before %s (%s mc)", book.wallet_id, book.last_tx, old_tx,
                     old_tx, drift)
        return working

    def flush(self) -> int:
        """Write every book this batch changed, with what its entries add to the aggregates: as few
        transactions as the item limits allow (each book once); how many books were written."""
        pending = [loaded for loaded in self._books.values() if loaded.dirty and loaded.book is not None]
        written = 0
        group: list[_Loaded] = []
        delta, size = Delta(), 0
        for loaded in pending:
            assert loaded.book is not None
            tally = self._tallies.get(loaded.book.wallet_id) or WalletTally(loaded.book.wallet_id)
            grows = _book_bytes(loaded.book)
            if group and (len(group) + 1 + delta.size_with(tally) > _ITEMS_PER_TRANSACTION
                          or size + grows > _BYTES_PER_TRANSACTION):
                written += self._commit(group, delta)
                group, delta, size = [], Delta(), 0
            group.append(loaded)
            delta.add(tally)
            size += grows
        if group:
            written += self._commit(group, delta)
        # After the unsharded books: a wallet sharded since this batch's first changes has them written.
        done = self.sharded.flush()
        self.entries.update(done.entries)
        self.resynchronised += done.resynchronised
        self.aggregate_writes += done.aggregate_writes
        self.sharded_attributed += done.attributed
        self.marked |= done.marked
        return written + done.books

    def _delta(self, group: list[_Loaded]) -> Delta:
        delta = Delta()
        for loaded in group:
            assert loaded.book is not None
            delta.add(self._tallies.get(loaded.book.wallet_id) or WalletTally(loaded.book.wallet_id))
        return delta

    def _commit(self, group: list[_Loaded], delta: Delta) -> int:
        """One transaction: these books, each over the version read, and ``delta``, their tallies' increments."""
        writes = []
        for loaded in group:
            assert loaded.book is not None
            writes.append((loaded.book, loaded.stored_last_tx, loaded.stored))
        also = repository.companions(delta, [loaded.book.wallet_id for loaded in group if loaded.book is not None])
        repository.save_books(writes, also)
        for loaded in group:
            assert loaded.book is not None
            self.marked.add(loaded.book.wallet_id)
            loaded.stored, loaded.stored_last_tx, loaded.dirty = True, loaded.book.last_tx, False
            loaded.book.version = (loaded.book.version or 0) + 1  # as written
            self._tallies.pop(loaded.book.wallet_id, None)
        self.aggregate_writes += delta.size()
        return len(group)

    def _load(self, wallet_id: str) -> _Loaded:
        loaded = self._books.get(wallet_id)
        if loaded is None:
            book = repository.get_book(wallet_id)
            loaded = self._books[wallet_id] = _Loaded(book=book, stored=book is not None,
                                                      stored_last_tx=book.last_tx if book else None)
        return loaded


def _new_book(wallet_id: str, old: dict[str, Any], old_tx: str | None) -> Book:
    book = Book(wallet_id=wallet_id, last_tx=old_tx)
    held = image_number(old, "balance") or 0
    if old_tx is not None and held > 0:
        book.add(LEGACY_GRANT_ID, LEGACY_GRANT_ID, held, image_string(old, "updated_at") or clock.iso(clock.now_ms()))
    return book


__all__ = ["Outcome", "StreamBatch"]
