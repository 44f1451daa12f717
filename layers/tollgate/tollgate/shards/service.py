"""Sharded wallets: one wallet's credits over N items, so its debits spread over N partitions.

Shard 0 is the wallet item (credits and holds stay there); shards 1..N-1 are items of their own.
A debit is one transaction, as on any wallet: its entry, put in the slot its id names
(``keys.slotted_entry``: the same whatever N becomes, so a replay always meets its own entry), and
the update of its home shard (``keys.home_shard``), conditioned on that shard's available and on
the layout (``shards = N``). When the home shard cannot pay, one ``TransactGetItems`` reads every
shard at one instant: if their sum cannot pay, the caller's refusal (402); else a rebalance (one
transaction, each donor conditioned on what it gives) brings the home shard its fair share and the
debit is tried again there (or, if another debit raced the rebalance, on a shard that can pay).
A function remembers each wallet's layout it has seen; a debit built for an old count fails its
layout condition and is tried again with the count read then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from tollgate import clock, ids, keys
from tollgate.data import StoreUnavailable, Transaction, TransactionCancelled
from tollgate.ledger.models import LedgerEntryItem, WalletItem
from tollgate.ledger.wallets import WalletState
from tollgate.principal import Principal
from tollgate.shards import repository
from tollgate.shards.exceptions import ShardCountInvalid
from tollgate.shards.models import WalletShardItem
from tollgate.shards.repository import Shard
from tollgate.shards.schemas import ShardOut, ShardsIn, ShardsOut

ENTRY, WALLET, PRESHARD = "entry", "wallet", "preshard"
# A retry of a debit made before the wallet's first sharding is recognised this long after that debit
# (its entry is in shard 0's partition; clients retry within minutes, not days).
PRESHARD_WINDOW_MS = 86_400_000
# Layout changes, short shards and rebalances raced by other debits, before 503. 8 ran out once in CI:
# the last credits chased by 8 processes right after a reshard to 2.
_ATTEMPTS = 16
_LAYOUTS_KEPT = 10_000
_layouts: dict[str, Layout] = {}  # wallet -> its layout as this process last saw it


@dataclass(frozen=True)
class Layout:
    shards: int
    # Until when a debit must also check that its key has no entry in shard 0's partition: a day
    # after the last debit posted there before the wallet was first sharded (0: it had none).
    check_until_ms: int
    # Every shard item there is: a layout once larger leaves retired ones (past ``shards``), which
    # take no debit but count in the wallet's sum and give in rebalances until drained.
    items: int = 1

    @classmethod
    def of(cls, item: WalletItem) -> Layout | None:
        if item.shards is None:
            return None
        return cls(item.shards, clock.parse_rfc3339(item.replay_check_until) if item.replay_check_until else 0,
                   repository.items_of(item))


class NotSharded(Exception):
    """The wallet is not sharded (a layout this process remembered is gone): debit it as any wallet."""


class Replayed(Exception):
    """The debit's entry exists (its idempotency key was used before)."""

    def __init__(self, entry: LedgerEntryItem) -> None:
        super().__init__("replayed")
        self.entry = entry


def known(wallet_id: str) -> Layout | None:
    """The wallet's layout as this process last saw it (None: assumed unsharded)."""
    return _layouts.get(wallet_id)


def learn(wallet_id: str, layout: Layout | None) -> None:
    if layout is None:
        _layouts.pop(wallet_id, None)
        return
    if len(_layouts) >= _LAYOUTS_KEPT and wallet_id not in _layouts:
        _layouts.pop(next(iter(_layouts)))
    _layouts[wallet_id] = layout


def _current(wallet_id: str) -> Layout:
    """The wallet's layout now (one strongly consistent read), remembered; :class:`NotSharded` if none."""
    item = repository.root_item(wallet_id)
    layout = Layout.of(item) if item is not None else None
    learn(wallet_id, layout)
    if layout is None:
        raise NotSharded(wallet_id)
    return layout


def reset() -> None:
    _layouts.clear()


def slotted(entry: LedgerEntryItem) -> LedgerEntryItem:
    """The entry keyed into its slot (a sharded wallet's debit entries live there)."""
    pk, sk = keys.slotted_entry(entry.wallet_id, entry.transaction_id)
    entry.pk, entry.sk = pk, sk
    return entry


def debit(entry: LedgerEntryItem, cost: int, also: Transaction | None,
          refused: Callable[[WalletState], Exception]) -> None:
    """Post ``entry`` (in its slot) and take ``cost`` from one shard of its sharded wallet:
    :class:`Replayed` if the entry exists, ``refused(wallet)`` if the wallet cannot pay."""
    wallet_id, txid = entry.wallet_id, entry.transaction_id
    entry = slotted(entry)
    layout = known(wallet_id) or _current(wallet_id)
    shard = keys.home_shard(txid, layout.shards)
    for _ in range(_ATTEMPTS):
        tx = Transaction()
        tx.put(ENTRY, entry, LedgerEntryItem.pk.does_not_exist())
        repository.take(tx, WALLET, wallet_id, shard, layout.shards, cost, txid, entry.created_at)
        if layout.check_until_ms > clock.now_ms():
            _check_not_posted_before_sharding(tx, wallet_id, txid)
        if also is not None:
            tx.extend(also)
        try:
            tx.commit()
            return
        except TransactionCancelled as cancelled:
            for label in (ENTRY, PRESHARD):
                if cancelled.failed(label):
                    raise Replayed(cancelled.old(label, LedgerEntryItem) or LedgerEntryItem()) from None
            if not cancelled.failed(WALLET) or any(cancelled.failed(label) for label in cancelled.codes
                                                   if label != WALLET):
                raise
            if repository.shard_of(cancelled.raw_old(WALLET), shard).shards != layout.shards:
                layout = _current(wallet_id)  # resharded since (or a retired shard): the count now
                shard = keys.home_shard(txid, layout.shards)
                continue
            shard = _where_to_pay(wallet_id, layout, shard, cost, refused)
    raise StoreUnavailable("ShardContention")


def _check_not_posted_before_sharding(tx: Transaction, wallet_id: str, txid: str) -> None:
    """The entry is not in shard 0's partition, where it was posted if the wallet was not sharded yet."""
    tx.check(PRESHARD, LedgerEntryItem, *keys.entry(wallet_id, txid), LedgerEntryItem.pk.does_not_exist())


def _where_to_pay(wallet_id: str, layout: Layout, shard: int, cost: int,
                  refused: Callable[[WalletState], Exception]) -> int:
    """The shard to try next after ``shard`` could not pay ``cost``: itself, once a rebalance has
    brought it its fair share (so the debits after it pay there at once), else any shard that can
    pay alone; ``refused`` if the wallet as a whole cannot, as one instant's read of every shard
    item (retired ones included) shows."""
    current = repository.snapshot(wallet_id, layout.items)
    if current[0].shards != layout.shards:
        return shard  # resharded meanwhile: the next attempt's layout condition fails and learns it
    total = sum(s.available for s in current)
    if total < cost:
        if _release_expired_holds(wallet_id, cost, current):
            return shard
        raise refused(_summed(wallet_id, current))
    if current[shard].available >= cost or rebalance(wallet_id, layout.shards, current, shard, cost):
        return shard
    best = max(current, key=lambda s: s.available)  # the rebalance raced another debit: pay where it can
    return best.shard


def rebalance(wallet_id: str, shards: int, current: list[Shard], into: int, need: int) -> int:
    """Move credits into shard ``into`` from the richest others until it holds at least ``need``, and
    up to its fair share (1/N of what the wallet has): one transaction. What moved (0 if a
    debit changed a donor first: the caller reads again)."""
    total = sum(s.available for s in current)
    target = max(need, total // shards)  # shards: the live ones (retired ones only give)
    short = target - current[into].available
    tx, moved = Transaction(), 0
    now = clock.iso(clock.now_ms())
    for donor in sorted((s for s in current if s.shard != into), key=lambda s: -s.available):
        if moved >= short or donor.available <= 0:
            break
        amount = min(donor.available, short - moved)
        repository.take(tx, f"from-{donor.shard}", wallet_id, donor.shard, shards, amount, None, now)
        moved += amount
    if moved == 0:
        return 0
    repository.give(tx, f"to-{into}", wallet_id, into, shards, moved, now)
    try:
        tx.commit()
    except TransactionCancelled:
        return 0
    return moved


def gather(wallet_id: str, item: WalletItem, need: int) -> bool:
    """Bring shard 0 (where holds are made) ``need`` available if the wallet has it; True if it may now."""
    layout = Layout.of(item) or Layout(1, 0)
    shards = layout.shards
    current = repository.snapshot(wallet_id, layout.items)
    if current[0].available >= need:
        return True
    if sum(s.available for s in current) < need:
        return False
    rebalance(wallet_id, shards, current, 0, need)  # 0 moved: a debit raced it; the caller tries again
    return True


def _release_expired_holds(wallet_id: str, cost: int, current: list[Shard]) -> bool:
    """Free shard 0's expired holds if that makes ``cost`` payable; True if worth another attempt."""
    from tollgate.ledger import posting  # the one implementation of releasing expired holds

    root = posting.read_wallet_item_state(wallet_id)
    freed = sum(root.expired_holds(clock.now_ms()).values())
    if not freed or sum(s.available for s in current) + freed < cost:
        return False
    return posting.release_expired_holds(replace(root, available=root.available + sum(
        s.available for s in current[1:])), cost)


def _summed(wallet_id: str, current: list[Shard]) -> WalletState:
    from tollgate.ledger import posting

    root = posting.read_wallet_item_state(wallet_id)
    return summed(root, current[1:])


def summed(root: WalletState, others: list[Shard]) -> WalletState:
    """The wallet as its shard 0 (with the holds) and its other shards add up."""
    return replace(root, balance=root.balance + sum(s.balance for s in others),
                   available=root.available + sum(s.available for s in others))


def read(root_item: WalletItem | None, wallet_id: str) -> WalletState:
    """The wallet from its item, with its other shards added if it is sharded (one more read)."""
    root = WalletState.from_item(wallet_id, root_item)
    layout = Layout.of(root_item) if root_item is not None else None
    if layout is None:
        return root
    learn(wallet_id, layout)
    return summed(root, repository.other_shards(wallet_id, layout.items))


def drain_retired(wallet_id: str) -> int:
    """Move what retired shards (past the wallet's count) hold to shard 0, one transaction each; no
    debit targets them any more, so each goes through unless a rebalance took from it meanwhile (then
    it is read again). What moved; a shard still holding credits is drained by the next reshard."""
    moved = 0
    for _ in range(_ATTEMPTS):
        root = repository.root_item(wallet_id)
        layout = Layout.of(root) if root is not None else None
        if layout is None or layout.items <= layout.shards:
            return moved
        retired = [s for s in repository.snapshot(wallet_id, layout.items)[layout.shards:] if s.available > 0]
        if not retired:
            return moved
        now = clock.iso(clock.now_ms())
        for shard in retired:
            tx = Transaction()
            repository.drain(tx, wallet_id, shard, now)
            try:
                tx.commit()
                moved += shard.available
            except TransactionCancelled:
                continue
    return moved


def read_after_debit(wallet_id: str) -> WalletState | None:
    """A sharded wallet as a debit's response shows it: every shard in one eventually consistent
    read (None: not known to be sharded here, so read it as any wallet)."""
    layout = known(wallet_id)
    if layout is None:
        return None
    root, others = repository.all_shards_eventually(wallet_id, layout.items)
    return summed(WalletState.from_item(wallet_id, root), others)


def reshard(wallet_id: str, count: int, actor: str | None = None) -> int:
    """Give the wallet ``count`` shards, while debits run: one transaction changes the layout on every
    shard item and moves what retired shards held to shard 0 (nothing lost or created), with its
    audit record when an ``actor`` made it. The count before."""
    from tollgate.audit import repository as audit
    from tollgate.ledger.exceptions import WalletNotFound

    if not 1 <= count <= keys.MAX_SHARDS:
        raise ShardCountInvalid(f"a wallet has 1 to {keys.MAX_SHARDS} shards", count=count)
    for _ in range(_ATTEMPTS):
        root = repository.root_item(wallet_id)
        if root is None:
            raise WalletNotFound(f"wallet '{wallet_id}' not found")
        was = root.shards or 1
        current = repository.snapshot(wallet_id, root.shard_items or 1)
        if current[0].shards != root.shards:
            continue  # resharded between the two reads
        if root.shards == count or (root.shards is None and count == 1):
            return was
        now_ms = clock.now_ms()
        now = clock.iso(now_ms)
        first = None
        if root.shards is None and root.replay_check_until is None:  # the first sharding: how long to check for replays
            last = repository.last_debit_since(wallet_id, clock.iso(now_ms - PRESHARD_WINDOW_MS))
            first = clock.iso(clock.parse_rfc3339(last) + PRESHARD_WINDOW_MS) if last else clock.iso(0)
        tx = Transaction()
        repository.set_layout(tx, wallet_id, current, count, now, check_until=first)
        if actor is not None:
            tx.put("audit", audit.new_record(audit_id=ids.random_id("aud"), at=now, actor=actor,
                                             action="wallet_shards.put", target=f"wallet:{wallet_id}",
                                             before={"count": was}, after={"count": count}), audit.NEW)
        try:
            tx.commit()
        except TransactionCancelled:
            continue  # resharded by another request meanwhile: read again
        learn(wallet_id, Layout.of(repository.root_item(wallet_id) or root))
        drain_retired(wallet_id)
        return was
    raise StoreUnavailable("ShardContention")


def view(wallet_id: str) -> ShardsOut:
    """The wallet's shards as of one instant (a ``TransactGetItems``)."""
    from tollgate.ledger.exceptions import WalletNotFound

    root = repository.root_item(wallet_id)
    if root is None:
        raise WalletNotFound(f"wallet '{wallet_id}' not found")
    layout = Layout.of(root) or Layout(1, 0)
    current = [s for s in repository.snapshot(wallet_id, layout.items) if s.shard < layout.shards or s.balance]
    return ShardsOut(wallet_id=wallet_id, count=root.shards or 1, balance=sum(s.balance for s in current),
                     available=sum(s.available for s in current),
                     shards=[ShardOut(shard=s.shard, balance=s.balance, available=s.available) for s in current])


def set_shards(principal: Principal, wallet_id: str, body: ShardsIn) -> ShardsOut:
    """``PUT /v1/admin/wallets/{id}/shards``: reshard (while debits run), then the shards as they are."""
    principal.require_admin()
    reshard(wallet_id, body.count, actor=principal.actor)
    return view(wallet_id)


__all__ = [
    "Layout",
    "NotSharded",
    "Replayed",
    "WalletShardItem",
    "debit",
    "gather",
    "known",
    "learn",
    "read",
    "read_after_debit",
    "rebalance",
    "reshard",
    "set_shards",
    "view",
]
