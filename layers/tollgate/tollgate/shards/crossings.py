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
from tollgate.data import ConditionFailed, TableItem, Transaction, TransactionCancelled, conditional, get_or_none
from tollgate.data.images import image_number, image_string
from tollgate.events.derive import Event, make_event
from tollgate.events.types import EventType
from tollgate.ledger.models import WalletItem
from tollgate.shards.models import CrossingsItem, WalletShardItem

logger = logging.getLogger(__name__)

C = CrossingsItem
KINDS = ("low", "depleted", "topup")
_ATTEMPTS = 4  # reads again after a credit raced the check; past this the batch fails and comes again


@dataclass
class Found:
    """What one check of a wallet found to announce: events for the outbox, top-ups to queue."""

    events: list[Event] = field(default_factory=list)
    top_ups: list[tuple[str, str]] = field(default_factory=list)  # (wallet_id, crossing)
    announced: list[tuple[str, str, int]] = field(default_factory=list)  # (wallet_id, kind, n): mark done after


@dataclass(frozen=True)
class _Read:
    root: WalletItem
    balance: int
    available: int
    state: CrossingsItem | None


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
    items = max(root.shard_items or 1, root.shards)
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
                 state=_resolved(state_future))


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
    if any(changed.values()):  # going below: only if shard 0's available has not risen since the read
        pk, sk = keys.wallet(wallet_id)
        tx.check("root", WalletItem, pk, sk, WalletItem.available <= read.root.available)
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


__all__ = ["KINDS", "Found", "announced", "check", "note"]
