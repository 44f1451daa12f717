"""The ledger's API for every domain: post an entry and its balance change in one transaction.

A debit is exactly one ``TransactWriteItems``: put the entry (``attribute_not_exists`` on a
key derived from the idempotency key) and update the wallet (``available >= :amount``),
plus whatever the calling domain adds to ride along (a reservation, a purchase). No read
comes before it. If the entry's condition fails, the request is a replay: the existing
entry comes back in ``CancellationReasons`` and is raised as :class:`Replayed`. If the
wallet's fails, the wallet comes back too, so the refusal reports what is available
without a read; when expired holds would cover the shortfall they are released first and
the transaction tried once more (:func:`commit_spending`, the one place that does so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate import clock, ids
from tollgate.amounts import format_credits
from tollgate.data import Transaction, TransactionCancelled
from tollgate.ledger import repository
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.ledger.models import LedgerEntryItem, WalletItem
from tollgate.ledger.wallets import WalletState
from tollgate.shards import service as shards

ENTRY, WALLET = repository.ENTRY, repository.WALLET
_SHARDED_ATTEMPTS = 3  # a hold on a sharded wallet: shard 0 refilled from the others, then tried again


Replayed = shards.Replayed  # the entry already exists: the same idempotency key was used before


class ShardedWallet(Exception):
    """The wallet's credits are spread over shards (``tollgate.shards``): shard 0 alone refused."""

    def __init__(self, item: WalletItem) -> None:
        super().__init__(item.wallet_id)
        self.item = item


def new_entry(*, wallet_id: str, transaction_id: str, entry_type: str, amount: int, now_ms: int,
              request_hash: str, actor: str, **fields: Any) -> LedgerEntryItem:
    return LedgerEntryItem.new(wallet_id=wallet_id, transaction_id=transaction_id, created_at=clock.iso(now_ms),
                               type=entry_type, amount=amount, request_hash=request_hash, actor=actor, **fields)


def _replayed(cancelled: TransactionCancelled) -> Replayed | None:
    if not cancelled.failed(ENTRY):
        return None
    return Replayed(cancelled.old(ENTRY, LedgerEntryItem) or LedgerEntryItem())


def commit_spending(tx: Transaction, wallet_id: str, needed: int,
                    refused: Callable[[WalletState], Exception]) -> None:
    """Commit ``tx``, whose ``WALLET`` operation needs ``needed`` available.

    If the wallet refuses and expired holds would cover it, they are released and the
    transaction tried once more; otherwise ``refused(wallet as it was)`` is raised. Any
    other failed condition is raised as it is (the entry's, as :class:`Replayed`).
    """
    for attempt in range(2):
        try:
            tx.commit()
            return
        except TransactionCancelled as cancelled:
            replay = _replayed(cancelled)
            if replay is not None:
                raise replay from None
            if not cancelled.failed(WALLET) or any(cancelled.failed(label) for label in tx.labels()
                                                    if label != WALLET):
                raise
            item = cancelled.old(WALLET, WalletItem)
            if item is not None and item.shards is not None:
                raise ShardedWallet(item) from None
            wallet = WalletState.from_item(wallet_id, item)
            if attempt == 0 and release_expired_holds(wallet, needed):
                continue
            raise refused(wallet) from None


def release_expired_holds(wallet: WalletState, needed: int) -> bool:
    """Free the wallet's expired holds if that makes ``needed`` available; True if worth a retry."""
    now_ms = clock.now_ms()
    expired = wallet.expired_holds(now_ms)
    if not expired or wallet.effective_available(now_ms) < needed:
        return False
    tx = Transaction()
    repository.release_in_wallet(tx, wallet.wallet_id, expired, clock.iso(now_ms), now_ms, expired=True)
    try:
        tx.commit()
    except TransactionCancelled:
        pass  # another writer freed or settled them first: the retry sees the wallet as it is now
    return True


def _insufficient(cost: int) -> Callable[[WalletState], Exception]:
    def refused(wallet: WalletState) -> Exception:
        return InsufficientCredits("not enough credits available", required=format_credits(cost),
                                   available=format_credits(wallet.effective_available(clock.now_ms())))
    return refused


def debit(entry: LedgerEntryItem, cost: int, also: Transaction | None = None) -> None:
    """Post ``entry`` (amount = -cost) and take ``cost`` from the wallet, atomically.

    ``also`` holds the calling domain's own operations (e.g. a purchase update). A sharded wallet's
    debit goes to one of its shards (``tollgate.shards``): known to be sharded, straight there; else
    the wallet item's refusal says so, and it goes there then.
    """
    if cost == 0:
        # Nothing to take: still one entry, and the wallet is created if it is new.
        credit(entry, 0, also)
        return
    if shards.known(entry.wallet_id) is not None:
        try:
            shards.debit(entry, cost, also, _insufficient(cost))
            return
        except shards.NotSharded:
            pass  # no longer (a layout remembered from a table since replaced): as any wallet
    tx = Transaction()
    repository.put_entry(tx, entry)
    repository.debit_wallet(tx, entry.wallet_id, cost, entry.transaction_id, entry.created_at)
    try:
        commit_spending(tx.extend(also) if also else tx, entry.wallet_id, cost, _insufficient(cost))
    except ShardedWallet as sharded:
        shards.learn(entry.wallet_id, shards.Layout.of(sharded.item))
        shards.debit(entry, cost, also, _insufficient(cost))


def credit(entry: LedgerEntryItem, amount: int, also: Transaction | None = None) -> None:
    """Post ``entry`` and add ``amount`` (>= 0) to the wallet, creating it if new.

    A positive credit also lists the wallet under its locator (``repository.locate_wallet``):
    no wallet can be debited before one, so every wallet with usage entries is locatable. A
    zero-cost usage entry posts through here with 0 and stays a two-item write, as a debit is.
    """
    tx = Transaction()
    repository.put_entry(tx, entry)
    repository.credit_wallet(tx, entry.wallet_id, amount, entry.transaction_id, entry.created_at)
    if amount > 0:
        repository.locate_wallet(tx, entry.wallet_id)
    try:
        (tx.extend(also) if also else tx).commit()
    except TransactionCancelled as cancelled:
        replay = _replayed(cancelled)
        if replay is not None:
            raise replay from None
        raise


class WalletMoved(Exception):
    """The wallet's balance changed since the state an expiry was computed from (``expire``)."""


def expire(entry: LedgerEntryItem, amount: int, expected_last_tx: str | None) -> None:
    """Post an ``expiry`` entry taking ``amount`` (>= 0, 0 included: a grant carried over whole),
    only while ``expected_last_tx`` is still the wallet's last balance change, so an expiry
    computed from a grant book never takes credits a debit committed since has spent.

    :class:`Replayed` if the entry exists, :class:`WalletMoved` if the wallet changed since,
    :class:`InsufficientCredits` if less than ``amount`` is available (held credits stay).
    """
    tx = Transaction()
    repository.put_entry(tx, entry)
    repository.expire_in_wallet(tx, entry.wallet_id, amount, entry.transaction_id, entry.created_at,
                                expected_last_tx)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        replay = _replayed(cancelled)
        if replay is not None:
            raise replay from None
        if not cancelled.failed(WALLET):
            raise
        old = cancelled.old(WALLET, WalletItem)
        if old is None or old.last_tx != expected_last_tx:
            raise WalletMoved(entry.wallet_id) from None
        raise _insufficient(amount)(WalletState.from_item(entry.wallet_id, old)) from None


def expire_sharded(entry: LedgerEntryItem, amount: int, cursors: dict[int, str | None], items: int) -> None:
    """:func:`expire` on a sharded wallet: taken from shard 0 (refilled from the others first if it
    must be), only while every shard's last change is the one in ``cursors`` (its grant book is
    current) and the layout keeps ``items`` shard items. The same exceptions as :func:`expire`."""
    from tollgate.shards import repository as shard_items

    for _ in range(_SHARDED_ATTEMPTS):
        tx = Transaction()
        repository.put_entry(tx, entry)
        shard_items.expire(tx, WALLET, entry.wallet_id, amount, entry.transaction_id, entry.created_at, cursors,
                           items)
        try:
            tx.commit()
            return
        except TransactionCancelled as cancelled:
            replay = _replayed(cancelled)
            if replay is not None:
                raise replay from None
            if any(cancelled.failed(label) for label in cancelled.codes if label != WALLET):
                raise WalletMoved(entry.wallet_id) from None  # another shard changed since the book
            old = cancelled.old(WALLET, WalletItem)
            if old is None or old.last_tx != cursors.get(0) or old.shard_items != items:
                raise WalletMoved(entry.wallet_id) from None
            if not shards.gather(entry.wallet_id, old, amount):  # shard 0 short: refill it (no last_tx moves)
                raise _insufficient(amount)(shards.read(old, entry.wallet_id)) from None
    raise WalletMoved(entry.wallet_id)


def hold(wallet_id: str, reservation_id: str, amount: int, expires_ms: int, max_holds: int, also: Transaction,
         refused: Callable[[WalletState], Exception]) -> None:
    """Hold ``amount`` for a reservation (``also`` puts its record), releasing expired holds if needed.
    On a sharded wallet the hold is made on shard 0, refilled from the other shards if it must be."""
    for _ in range(_SHARDED_ATTEMPTS):
        tx = Transaction()
        repository.hold_in_wallet(tx, wallet_id, reservation_id, amount, expires_ms, clock.iso(clock.now_ms()),
                                  max_holds)
        try:
            commit_spending(tx.extend(also), wallet_id, amount, refused)
            return
        except ShardedWallet as sharded:
            if release_expired_holds(shards.read(sharded.item, wallet_id), amount):
                continue  # shard 0's expired holds freed: try again
            if not shards.gather(wallet_id, sharded.item, amount):
                raise refused(shards.read(sharded.item, wallet_id)) from None
    raise refused(read_wallet(wallet_id))


def settle_hold(entry: LedgerEntryItem, reservation_id: str, held: int, cost: int, also: Transaction) -> None:
    """Charge ``cost`` (<= held) against an unexpired hold and free the rest, with its entry."""
    tx = Transaction()
    repository.put_entry(tx, entry)
    repository.settle_in_wallet(tx, entry.wallet_id, reservation_id, held, cost, entry.transaction_id,
                                entry.created_at, clock.now_ms())
    tx.extend(also).commit()


def release_holds(wallet_id: str, holds: dict[str, int], *, expired: bool, also: Transaction) -> None:
    """Free holds (unexpired ones on request, expired ones by the sweeper) with ``also``."""
    now_ms = clock.now_ms()
    tx = Transaction()
    repository.release_in_wallet(tx, wallet_id, holds, clock.iso(now_ms), now_ms, expired=expired)
    tx.extend(also).commit()


def read_wallet(wallet_id: str) -> WalletState:
    """The wallet (a sharded one's shards summed: one read more)."""
    return shards.read(repository.get_wallet(wallet_id), wallet_id)


def read_wallet_after_debit(wallet_id: str) -> WalletState:
    """The wallet as a debit's response shows it: one strongly consistent GetItem, or for a sharded
    wallet one eventually consistent read of every shard (``shards.read_after_debit``)."""
    return shards.read_after_debit(wallet_id) or read_wallet(wallet_id)


def read_wallet_item_state(wallet_id: str) -> WalletState:
    """The wallet item alone (a sharded wallet's shard 0, with its holds)."""
    return WalletState.from_item(wallet_id, repository.get_wallet(wallet_id))


def get_entry(wallet_id: str, transaction_id: str) -> LedgerEntryItem | None:
    """An entry: in the wallet's partition, or (a sharded wallet's debit) in its slot."""
    return repository.get_entry(wallet_id, transaction_id) or repository.get_slotted_entry(wallet_id, transaction_id)


def find_entry(transaction_id: str) -> LedgerEntryItem | None:
    """An entry by its transaction id alone (every entry's id is located: ``ids.located_id``):
    one GetItem of the locator item, then one per wallet it lists (almost always one; a sharded
    wallet's debit, one more: its slot)."""
    locator = ids.locator_of(transaction_id)
    if locator is None:
        return None
    for wallet_id in repository.wallets_at(locator):
        entry = get_entry(wallet_id, transaction_id)
        if entry is not None:
            return entry
    return None


def response_balance(entry: LedgerEntryItem | None, wallet_after: WalletState) -> int:
    """The balance a response shows, from the one read after the write.

    A replay answers with the entry's stamped ``balance_after`` when the stream has
    stamped it (the balance right after the original write), else the balance now.
    """
    if entry is not None and entry.balance_after is not None:
        return entry.balance_after
    return wallet_after.balance
