"""A sharded wallet's threshold crossings: ``credits.low``, ``credits.depleted`` and auto top-up, once
per crossing.

An unsharded wallet's available is one item's attribute, so exactly one stream record crosses a
threshold (``tollgate.events.derive``). A sharded wallet's available is the sum of its shard items,
each changing in its own partition: no one record sees the sum cross. So the ledger stream consumer
notes each sharded wallet whose items changed in a batch (:func:`note`) and, at the batch's end,
:func:`check` reads the wallet at one instant (one ``TransactGetItems`` over its shard items and its
``CROSSINGS`` item) and compares the sum with the wallet's thresholds (on shard 0). The
``CROSSINGS`` item keeps, per kind, which side the wallet was last seen on, how many times it
crossed below (``n``: crossing ``n`` is the event's id and the top-up's purchase) and up to which
crossing it was announced (``done``). Exactly once:

* going below is written first, conditioned on the count read (two consumers of the same wallet
  agree on one crossing) and on shard 0's available not having risen since the read (a credit or a
  hold's release since then may have taken the wallet back above: the check reads again);
* then the crossing is announced (the outbox records an event id once; a top-up's purchase id
  derives from the crossing) and ``done`` is moved up to it. A failure in between fails the batch,
  and the check run again announces what is below ``n`` and not ``done``: the same ids again;
* going back above re-arms the kind, with no announcement.

The wallet's first sharding starts its ``CROSSINGS`` item from that change's record (where the wallet
stands then), without announcing: a crossing before it was the unsharded wallet's, announced from its
own record.

Setting a threshold is no crossing (an unsharded wallet's crossing is a change of available from at
or above it to below). So a sharded wallet's threshold is set by :func:`set_threshold`: in the same
transaction, its kind's side in the ``CROSSINGS`` item is moved to where the wallet stands against the
new threshold, conditioned on what was read (every shard, the item). A check that read the threshold
before it changed cannot write what it found: its write is conditioned on the threshold it read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactGet

from tollgate import clock, keys
from tollgate.amounts import format_credits
from tollgate.data import (
    ConditionFailed,
    StoreUnavailable,
    TableItem,
    Transaction,
    TransactionCancelled,
    conditional,
    get_or_none,
)
from tollgate.data.images import image_number, image_string
from tollgate.events.derive import Event, make_event
from tollgate.events.types import EventType
from tollgate.ledger.models import WalletItem
from tollgate.shards import repository
from tollgate.shards.models import CrossingsItem, WalletShardItem

logger = logging.getLogger(__name__)

C, W, S = CrossingsItem, WalletItem, WalletShardItem
KINDS = ("low", "depleted", "topup")
THRESHOLDS = {"low": "low_balance_mc", "topup": "topup_threshold_mc"}  # the settable ones (depleted: 0)
_ATTEMPTS = 4  # reads again after a credit raced the check; past this the batch fails and comes again
_SETTING_ATTEMPTS = 8  # a setting raced by debits near its threshold: read again; past this, 503


@dataclass
class Found:
    """What one check of a wallet found to announce: events for the outbox, top-ups to queue."""

    events: list[Event] = field(default_factory=list)
    top_ups: list[tuple[str, str]] = field(default_factory=list)  # (wallet_id, crossing)
    announced: list[tuple[str, str, int]] = field(default_factory=list)  # (wallet_id, kind, n): mark done after


@dataclass(frozen=True)
class Placed:
    """Where :func:`set_threshold` left a sharded wallet against the threshold it set."""

    below: bool
    n: int  # the kind's crossing count (the wallet is in crossing ``n`` if below)
    pending: bool  # below at crossing ``n``, not announced yet: the caller may announce it (then :func:`announced`)


@dataclass(frozen=True)
class _Read:
    root: WalletItem
    balance: int
    available: int
    state: CrossingsItem | None
    items: tuple[WalletItem | WalletShardItem | None, ...] = ()  # shard 0 (the root), 1, ... as read


def note(record: dict, wallets: set[str]) -> None:
    """Add the wallet of ``record`` to ``wallets`` if it is a sharded wallet's item whose available
    changed. The wallet item's first sharding starts its CROSSINGS item: where it stands then (its
    new shards are empty, so its item's available is all of it), in order with its records before
    (an unsharded change's crossing is announced from that change's record)."""
    change = record.get("dynamodb") or {}
    sk = image_string(change.get("Keys") or {}, "SK")
    if record.get("eventName") != "MODIFY" or sk not in (keys.WALLET_SK, keys.SHARD_SK):
        return
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    wallet_id = image_string(new, "wallet_id")
    if wallet_id is None or image_number(new, "shards") is None:
        return
    if sk == keys.WALLET_SK and image_number(old, "shards") is None:
        _start(wallet_id, _sides(image_number(new, "available") or 0, image_number(new, "low_balance_mc"),
                                 image_number(new, "topup_threshold_mc")))
    elif image_number(new, "available") != image_number(old, "available"):
        wallets.add(wallet_id)


def check(wallet_ids: Iterable[str]) -> Found:
    """Each wallet's crossings since its last check: what to announce (then :func:`announced`)."""
    found = Found()
    for wallet_id in sorted(set(wallet_ids)):
        _check(wallet_id, found)
    return found


def announced(found: Found) -> None:
    """Record that ``found``'s crossings went out (the outbox and the queue took them)."""
    for wallet_id, kind, n in found.announced:
        done = getattr(C, f"{kind}_done")
        try:
            conditional(lambda w=wallet_id, d=done, n=n: C(*keys.wallet_crossings(w)).update(
                actions=[d.set(n)], condition=C.pk.exists() & (d < n)))
        except ConditionFailed:
            pass  # another consumer marked it (or a later crossing's): nothing to do


def _check(wallet_id: str, found: Found) -> None:
    for _ in range(_ATTEMPTS):
        read = _read(wallet_id)
        if read is None:
            return
        below = _sides(read.available, read.root.low_balance_mc, read.root.topup_threshold_mc)
        state = read.state
        if state is None:  # checked before its first sharding's record came: where it stands, nothing announced
            _start(wallet_id, below)
            return
        changed = {kind: below[kind] for kind in KINDS if below[kind] != getattr(state, f"{kind}_below")}
        if changed and not _write(wallet_id, read, changed):
            continue  # raced: read again
        _collect(wallet_id, read, changed, found)
        return
    raise ConditionFailed(None)  # credits kept racing the check: the batch comes again


def _read(wallet_id: str) -> _Read | None:
    """The wallet's items and its CROSSINGS item as of one instant (one ``TransactGetItems``: a
    serializable read), after a strongly consistent read of shard 0 for how many items there are."""
    root = get_or_none(WalletItem, *keys.wallet(wallet_id))
    if root is None or root.shards is None:
        return None
    items = repository.items_of(root)
    with TransactGet(connection=TableItem._get_connection().connection) as tg:
        shard_futures = [tg.get(WalletItem if k == 0 else WalletShardItem, *keys.wallet_shard(wallet_id, k))
                         for k in range(items)]
        state_future = tg.get(C, *keys.wallet_crossings(wallet_id))
    found = [_resolved(f) for f in shard_futures]
    root = found[0]
    if not isinstance(root, WalletItem):
        return None
    return _Read(root=root, balance=sum(item.balance or 0 for item in found if item is not None),
                 available=sum(item.available or 0 for item in found if item is not None),
                 state=_resolved(state_future), items=tuple(found))


def _resolved(future: Any) -> Any:
    """What a TransactGet future holds; None for an item that does not exist."""
    try:
        return future.get()
    except DoesNotExist:
        return None


def _sides(available: int, low: int | None, topup: int | None) -> dict[str, bool]:
    """Whether ``available`` is below each kind's threshold (``depleted``: at 0)."""
    return {"low": low is not None and available < low, "depleted": available <= 0,
            "topup": topup is not None and available < topup}


def _start(wallet_id: str, below: dict[str, bool]) -> None:
    item = C(*keys.wallet_crossings(wallet_id), wallet_id=wallet_id, updated_at=clock.iso(clock.now_ms()),
             **{f"{kind}_below": value for kind, value in below.items()})
    try:
        conditional(lambda: item.save(condition=C.pk.does_not_exist()))
    except ConditionFailed:
        pass  # another consumer started it


def _write(wallet_id: str, read: _Read, changed: dict[str, bool]) -> bool:
    """Move the kinds in ``changed`` to their new side; False if the read is stale (read again)."""
    state = read.state
    assert state is not None
    actions, condition = [C.updated_at.set(clock.iso(clock.now_ms()))], C.pk.exists()
    for kind, below in changed.items():
        side, count = getattr(C, f"{kind}_below"), getattr(C, f"{kind}_n")
        actions.append(side.set(below))
        condition &= side == (not below)
        if below:
            actions.append(count.set(getattr(state, f"{kind}_n") + 1))
            condition &= count == getattr(state, f"{kind}_n")
    tx = Transaction().update("crossings", C(*keys.wallet_crossings(wallet_id)), actions, condition)
    # Only against the thresholds read: one set since (set_threshold) placed the kind itself.
    root: Any = None
    for kind in changed:
        if kind in THRESHOLDS:
            root = _and(root, _same(getattr(W, THRESHOLDS[kind]), getattr(read.root, THRESHOLDS[kind])))
    if any(changed.values()):  # going below: only if shard 0's available has not risen since the read
        root = _and(root, W.available <= read.root.available)
    if root is not None:
        tx.check("root", WalletItem, *keys.wallet(wallet_id), root)
    try:
        tx.commit()
    except TransactionCancelled:
        return False
    return True


def _collect(wallet_id: str, read: _Read, changed: dict[str, bool], found: Found) -> None:
    """What is below and not announced yet: the crossing just written, or one a failure left behind."""
    state = read.state
    assert state is not None
    at = clock.iso(clock.now_ms())
    figures = {"balance": format_credits(read.balance), "available": format_credits(read.available)}
    for kind in KINDS:
        below = changed.get(kind, getattr(state, f"{kind}_below"))
        n = getattr(state, f"{kind}_n") + (1 if changed.get(kind) else 0)
        if not below or n <= getattr(state, f"{kind}_done"):
            continue
        about = (wallet_id, "crossing", str(n))
        if kind == "low":
            found.events.append(make_event(EventType.CREDITS_LOW, about, at, wallet_id,
                                           threshold=format_credits(read.root.low_balance_mc or 0), **figures))
        elif kind == "depleted":
            found.events.append(make_event(EventType.CREDITS_DEPLETED, about, at, wallet_id, **figures))
        else:
            found.top_ups.append((wallet_id, f"sharded-{n}"))
        found.announced.append((wallet_id, kind, n))
    logger.debug("crossings checked", extra={"wallet_id": wallet_id, "changed": changed})


def set_threshold(wallet_id: str, kind: str, amount: int | None, also: Transaction | None = None, *,
                  crossing: bool = False) -> Placed | None:
    """Set (None: clear) a sharded wallet's ``kind`` threshold (``low``, ``topup``) on its wallet item,
    with its CROSSINGS item moved to where the wallet stands against it, and ``also``'s operations (the
    settings the threshold belongs to): one transaction. Found below it, the kind is below without a
    crossing announced, unless ``crossing`` (auto top-up turned on below its threshold tops up at
    once): then a new crossing is counted, not announced (:attr:`Placed.pending`), and the caller
    announces it under the id a check would (a check racing it announces the same). Already below
    (a crossing counted before), it stays in that crossing.

    None if the wallet is not sharded (or does not exist): the caller sets it as on any wallet.
    ``TransactionCancelled`` if one of ``also``'s operations failed its condition."""
    attribute = getattr(W, THRESHOLDS[kind])
    side, count = getattr(C, f"{kind}_below"), getattr(C, f"{kind}_n")
    for _ in range(_SETTING_ATTEMPTS):
        read = _read(wallet_id)
        if read is None:
            return None
        state = read.state
        was_below = bool(state is not None and getattr(state, f"{kind}_below"))
        # Cleared: the side is left for the next check to re-arm, as an unsharded wallet's next change
        # does (so turning auto top-up off and on again, with no debit between, is no new crossing).
        below = read.available < amount if amount is not None else was_below
        n = (getattr(state, f"{kind}_n") if state is not None else 0) + (1 if crossing and below and not was_below
                                                                          else 0)
        tx = Transaction()
        if also is not None:
            tx.extend(also)
        _hold_where_read(tx, wallet_id, read, attribute, amount, below)
        now = clock.iso(clock.now_ms())
        if state is None:  # before its first sharding's record came: started here, where it stands
            sides = _sides(read.available, read.root.low_balance_mc, read.root.topup_threshold_mc)
            sides[kind] = below
            tx.put("threshold-crossings", C(*keys.wallet_crossings(wallet_id), wallet_id=wallet_id, updated_at=now,
                                            **{f"{k}_below": v for k, v in sides.items()}, **{f"{kind}_n": n}),
                   C.pk.does_not_exist())
        else:  # the read side and count still current, so no check counts this crossing twice
            tx.update("threshold-crossings", C(*keys.wallet_crossings(wallet_id)),
                      [side.set(below), count.set(n), C.updated_at.set(now)],
                      C.pk.exists() & (side == was_below) & (count == getattr(state, f"{kind}_n")))
        try:
            tx.commit()
        except TransactionCancelled as exc:
            if any(exc.failed(label) for label in exc.codes if not label.startswith("threshold-")):
                raise
            continue  # the wallet or its CROSSINGS item changed since the read: read again
        announced_up_to = getattr(state, f"{kind}_done") if state is not None else 0
        logger.debug("threshold set", extra={"wallet_id": wallet_id, "kind": kind, "below": below, "n": n})
        return Placed(below=below, n=n, pending=below and n > announced_up_to)
    raise StoreUnavailable("ThresholdContention")


def _hold_where_read(tx: Transaction, wallet_id: str, read: _Read, attribute: Any, amount: int | None,
                     below: bool) -> None:
    """Set the threshold on the wallet item, only while the wallet is on the side of it read: below, no
    item has risen (credits and releases raise shard 0, a rebalance the shard it fills; debits never
    fail this); above, no item has fallen by more than its share of the headroom (so the sum is still
    at or above the threshold). Either way the layout is the one read."""
    items = len(read.items)
    layout = (W.shards == read.root.shards) & _same(W.shard_items, read.root.shard_items)
    if amount is None:
        conditions: list[Any] = [None] * items
    elif below:
        conditions = [(model.available <= item.available) if item is not None
                      else (model.pk.does_not_exist() | (model.available <= 0))
                      for model, item in _models(read)]
    else:
        slack = (read.available - amount) // items
        # An item absent when read can only be filled (a rebalance), never debited: nothing to hold.
        conditions = [(model.available >= item.available - slack) if item is not None else None
                      for model, item in _models(read)]
    tx.update("threshold-root", W(*keys.wallet(wallet_id)),
              [attribute.set(amount) if amount is not None else attribute.remove()],
              _and(layout, conditions[0]))
    for k, condition in enumerate(conditions[1:], start=1):
        if condition is not None:
            tx.check(f"threshold-shard-{k}", S, *keys.wallet_shard(wallet_id, k), condition)


def _models(read: _Read) -> list[tuple[Any, WalletItem | WalletShardItem | None]]:
    return [(W if k == 0 else S, item) for k, item in enumerate(read.items)]


def _same(attribute: Any, value: int | None) -> Any:
    return attribute == value if value is not None else attribute.does_not_exist()


def _and(left: Any, right: Any) -> Any:
    return right if left is None else left if right is None else left & right


__all__ = ["KINDS", "Found", "Placed", "announced", "check", "note", "set_threshold"]
