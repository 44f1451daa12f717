"""Which grants a wallet's credits belong to, and how each balance change moves them (pure: no I/O).

Every credit belongs to a grant: a purchase (never expires), a tier's monthly allocation
(expires when its period ends, unless part of it carries over up to the tier's rollover cap),
an admin grant (optional expiry and priority), or any other credit (a non-expiring grant named
after its entry type). The debit path picks no grants: the ledger's stream applies each balance
change to the wallet's :class:`Book`, in commit order (``tollgate.grants.stream``).

A debit draws from the grants in :meth:`Book.draw_order`: soonest expiry first (non-expiring
last), then higher ``priority`` first, then oldest first. Grants already past their expiry and
not yet removed by the expiry job come after every other (their credits are on their way out),
as a last resort only. No grant goes below zero; a debit the grants cannot cover (which cannot
happen while the book matches the balance) is recorded as a shortfall.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tollgate import clock, ids

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000
EXPIRING_SOON_MS = 7 * DAY_MS
MIN_PRIORITY, MAX_PRIORITY = 0, 1000
LEGACY_GRANT_ID = "balance"  # credits held before grants were kept: one non-expiring grant


@dataclass
class Grant:
    grant_id: str
    source: str
    amount: int
    remaining: int
    expires_ms: int | None = None
    priority: int = 0
    created_at: str = ""
    order: int = 0
    rollover_cap: int | None = None  # an allocation's: at most this much carries into the next period
    rolled: bool = False  # carried over once already: never again

    def expired(self, at_ms: int) -> bool:
        return self.expires_ms is not None and self.expires_ms <= at_ms

    @property
    def expires_at(self) -> str | None:
        return None if self.expires_ms is None else clock.iso(self.expires_ms)

    def to_map(self) -> dict[str, Any]:
        return {"src": self.source, "amt": self.amount, "rem": self.remaining, "exp": self.expires_ms,
                "pri": self.priority, "at": self.created_at, "ord": self.order, "cap": self.rollover_cap,
                "rolled": self.rolled}

    @classmethod
    def from_map(cls, grant_id: str, raw: dict[str, Any]) -> Grant:
        exp, cap = raw.get("exp"), raw.get("cap")
        return cls(grant_id=grant_id, source=str(raw.get("src") or "balance"), amount=int(raw.get("amt") or 0),
                   remaining=int(raw.get("rem") or 0), expires_ms=None if exp is None else int(exp),
                   priority=int(raw.get("pri") or 0), created_at=str(raw.get("at") or ""),
                   order=int(raw.get("ord") or 0), rollover_cap=None if cap is None else int(cap),
                   rolled=bool(raw.get("rolled")))


@dataclass(frozen=True)
class Change:
    """One balance change as the attribution needs it: its ledger entry's essentials."""

    transaction_id: str
    entry_type: str
    amount: int
    created_ms: int
    wallet_id: str
    reference: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def created_at(self) -> str:
        return clock.iso(self.created_ms)


@dataclass
class Book:
    """A wallet's grants with credits left, as of the wallet's balance change ``last_tx``."""

    wallet_id: str
    grants: dict[str, Grant] = field(default_factory=dict)
    last_tx: str | None = None
    seq: int | None = None
    balance: int = 0
    next_order: int = 0
    expired_mc: int = 0
    shortfall_mc: int = 0
    created_at: str | None = None
    usage_day: str | None = None  # the day of the wallet's last usage entry counted (analytics' active wallets)
    # A sharded wallet's book follows one chain of changes per shard item (``tollgate.grants.sharded``):
    # shard -> (its last balance change applied, its ``seq`` then). None: the wallet is not sharded.
    chains: dict[int, tuple[str | None, int | None]] | None = None
    # What debits took that no grant held yet: on a sharded wallet a debit can be seen before the
    # credit that funded it (two shards' chains have no order between them); the next credit settles it.
    deficit_mc: int = 0
    version: int | None = None  # each write adds one; a write is conditioned on the version read
    drifted: bool = False  # a sharded chain lost a change: resynchronised at the next instant all are caught up

    # -- reading ---------------------------------------------------------------------------

    def total(self) -> int:
        return sum(g.remaining for g in self.grants.values())

    def net(self) -> int:
        """What the changes applied add up to: the grants' remaining less the deficit."""
        return self.total() - self.deficit_mc

    def draw_order(self, at_ms: int) -> list[Grant]:
        """The order debits at ``at_ms`` draw in: live grants by (soonest expiry, non-expiring last;
        higher priority; oldest), then grants already expired but not yet removed, soonest first."""
        live = [g for g in self.grants.values() if not g.expired(at_ms)]
        gone = [g for g in self.grants.values() if g.expired(at_ms)]
        live.sort(key=lambda g: (g.expires_ms is None, g.expires_ms or 0, -g.priority, g.order, g.grant_id))
        gone.sort(key=lambda g: (g.expires_ms or 0, -g.priority, g.order, g.grant_id))
        return live + gone

    def caught_up(self, shards: Iterable[Any]) -> bool:
        """Whether this (sharded wallet's) book holds every change of its shard items as read at one
        instant (``tollgate.shards.repository.Shard``: each one's ``shard``, ``exists``, ``last_tx``)."""
        chains = self.chains or {}
        return all(s.last_tx == (chains.get(s.shard) or (None, None))[0] for s in shards if s.exists)

    def next_expiry(self) -> int | None:
        """When the soonest grant with credits left expires (None: none expires)."""
        due = [g.expires_ms for g in self.grants.values() if g.expires_ms is not None and g.remaining > 0]
        return min(due) if due else None

    def due(self, now_ms: int) -> list[Grant]:
        """Grants past their expiry with credits left, soonest first."""
        return sorted((g for g in self.grants.values() if g.expired(now_ms) and g.remaining > 0),
                      key=lambda g: (g.expires_ms or 0, g.order, g.grant_id))

    def expiring_within(self, now_ms: int, window_ms: int = EXPIRING_SOON_MS) -> int:
        return sum(g.remaining for g in self.grants.values()
                   if g.expires_ms is not None and g.expires_ms <= now_ms + window_ms)

    def copy(self) -> Book:
        return copy.deepcopy(self)

    # -- changing --------------------------------------------------------------------------

    def add(self, grant_id: str, source: str, amount: int, created_at: str, *, expires_ms: int | None = None,
            priority: int = 0, rollover_cap: int | None = None) -> Grant:
        """A new grant (or, for an id already in the book, more credits on it)."""
        existing = self.grants.get(grant_id)
        if existing is not None:
            existing.amount += amount
            existing.remaining += amount
            return existing
        grant = Grant(grant_id=grant_id, source=source, amount=amount, remaining=amount, expires_ms=_instant_ms(expires_ms),
                      priority=priority, created_at=created_at, order=self.next_order, rollover_cap=rollover_cap)
        self.next_order += 1
        self.grants[grant_id] = grant
        return grant

    def draw(self, amount: int, at_ms: int, *, first: str | None = None, only: str | None = None) -> dict[str, int]:
        """Take ``amount`` (> 0) from the grants: ``only`` that grant, or ``first`` that one, then the
        draw order. Returns ``{grant_id: -mc}``; what nothing covers is added to the shortfall."""
        if only is not None:
            order = [self.grants[only]] if only in self.grants else []
        else:
            head = [self.grants[first]] if first is not None and first in self.grants else []
            order = head + [g for g in self.draw_order(at_ms) if not head or g.grant_id != first]
        left, split = amount, {}
        for grant in order:
            if left == 0:
                break
            take = min(grant.remaining, left)
            if take > 0:
                grant.remaining -= take
                split[grant.grant_id] = split.get(grant.grant_id, 0) - take
                left -= take
        if left > 0 and only is not None:
            more = self.draw(left, at_ms)  # the named grant had less than the entry took: keep the sum
            for gid, mc in more.items():
                split[gid] = split.get(gid, 0) + mc
            return split
        if left > 0 and self.chains is not None:
            self.deficit_mc += left  # a sharded wallet: its funding credit is on another chain, not seen yet
        elif left > 0:
            self.shortfall_mc += left
            logger.error("grant shortfall: %s mc of a debit of %s mc in wallet %s drew from no grant",
                         left, amount, self.wallet_id)
        return split

    def apply(self, change: Change) -> dict[str, int]:
        """Apply one balance change; returns what it did to each grant (``{grant_id: signed mc}``)."""
        meta = change.metadata or {}
        if change.entry_type == "expiry":
            split = self._expire(change, meta)
        elif change.amount > 0:
            split = self._credit(change, meta)
            self._settle_deficit(split)
        elif change.amount < 0:
            first = purchase_grant_id(change.wallet_id, change.reference) \
                if change.entry_type in ("refund", "chargeback") else None
            split = self.draw(-change.amount, change.created_ms, first=first)
        else:
            split = {}
        self.drop_exhausted()
        return split

    def _credit(self, change: Change, meta: dict[str, Any]) -> dict[str, int]:
        kind, amount, at = change.entry_type, change.amount, change.created_at
        if kind == "purchase":
            self.add(change.transaction_id, "purchase", amount, at)
        elif kind == "allocation":
            self.add(change.transaction_id, "allocation", amount, at, expires_ms=period_end_ms(meta.get("period")),
                     rollover_cap=rollover_cap(meta.get("rollover")))
        elif kind == "grant":
            self.add(change.transaction_id, "admin", amount, at, expires_ms=_instant(meta.get("expires_at")),
                     priority=_priority(meta.get("priority")))
        elif kind in ("refund_reversal", "reversal") and (pid := purchase_grant_id(change.wallet_id,
                                                                                   change.reference)):
            # Credits a refund or a dispute took come back to the purchase they came from, if it is
            # still in the book (up to what it granted); anything more is a grant of its own.
            split: dict[str, int] = {}
            back = self.grants.get(pid)
            if back is not None:
                room = min(amount, max(0, back.amount - back.remaining))
                if room > 0:
                    back.remaining += room
                    split[pid] = room
                    amount -= room
            if amount > 0:
                self.add(change.transaction_id, kind, amount, at)
                split[change.transaction_id] = amount
            return split
        else:
            self.add(change.transaction_id, kind, amount, at)
        return {change.transaction_id: change.amount}

    def _settle_deficit(self, split: dict[str, int]) -> None:
        """A credit first covers what debits took before it was seen (``deficit_mc``): from the
        grants it added or refilled, so the grants again sum to what the changes add up to."""
        for grant_id, mc in split.items():
            if self.deficit_mc <= 0:
                return
            grant = self.grants.get(grant_id)
            if grant is None or mc <= 0:
                continue
            take = min(mc, grant.remaining, self.deficit_mc)
            grant.remaining -= take
            self.deficit_mc -= take

    def _expire(self, change: Change, meta: dict[str, Any]) -> dict[str, int]:
        grant_id = str(meta.get("grant_id") or "")
        split = self.draw(-change.amount, change.created_ms, only=grant_id) if change.amount < 0 else {}
        self.expired_mc += max(0, -change.amount)
        grant = self.grants.get(grant_id)
        until = _instant(meta.get("rolled_until"))
        if grant is not None and until is not None:
            grant.expires_ms, grant.rolled = _instant_ms(until), True  # carried over: expires at the next period's end
        return split

    def reconcile(self, balance: int, transaction_id: str, created_at: str) -> int:
        """Make the grants sum to the wallet's ``balance`` again should they not (they should):
        the difference becomes a non-expiring grant, or is drawn in order. Returns the difference."""
        drift = balance - self.net()
        adjust = balance - self.total()  # a deficit is part of the drift: the balance settles it
        self.deficit_mc = 0
        if adjust > 0:
            self.add(f"{LEGACY_GRANT_ID}-{transaction_id}", LEGACY_GRANT_ID, adjust, created_at)
        elif adjust < 0:
            self.draw(-adjust, clock.parse_rfc3339(created_at))
            self.drop_exhausted()
        if drift:
            logger.error("grant book of wallet %s drifted %s mc from its balance at %s", self.wallet_id, drift,
                         transaction_id)
        return drift

    def drop_exhausted(self) -> None:
        for gid in [gid for gid, g in self.grants.items() if g.remaining <= 0]:
            del self.grants[gid]


def purchase_grant_id(wallet_id: str, reference: str | None) -> str | None:
    """The grant of the purchase a refund, chargeback or its reversal names (``purchase:<id>``): the
    purchase entry's transaction id, as ``purchases.settlement.grant`` derives it."""
    if not reference or not reference.startswith("purchase:"):
        return None
    return ids.located_id("tx", wallet_id, "purchase", reference.removeprefix("purchase:"))


def period_end_ms(period: Any) -> int | None:
    """When a ``YYYY-MM`` (UTC) period ends: the next month's first instant; None if unreadable."""
    try:
        return clock.period_end_ms(str(period))
    except ValueError:
        return None


def rollover_cap(rollover: Any) -> int | None:
    """What of an allocation may carry over (``{"type": "cap", "credits_mc": n}``); None: nothing."""
    if isinstance(rollover, dict) and rollover.get("type") == "cap":
        cap = rollover.get("credits_mc")
        return int(cap) if isinstance(cap, int) and cap > 0 else None
    return None


def _instant(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return clock.parse_rfc3339(value)
    except ValueError:
        return None


def _instant_ms(ms: int | None) -> int | None:
    """An expiry as an instant ISO-8601 can write (1970 to 9999): every book and view writes it."""
    return None if ms is None else min(max(ms, 0), clock.MAX_ISO_MS)


def _priority(value: Any) -> int:
    return min(MAX_PRIORITY, max(MIN_PRIORITY, value)) if isinstance(value, int) else 0


__all__ = ["DAY_MS", "EXPIRING_SOON_MS", "Book", "Change", "Grant", "period_end_ms", "purchase_grant_id",
           "rollover_cap"]
