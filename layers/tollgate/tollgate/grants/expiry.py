"""The hourly expiry of grants: what is left of each expired grant leaves the wallet, exactly once.

The books with a grant due are found in ``GSI2`` (``GRANTEXPIRY#<0-15>``, by next expiry), never
by a scan. For each such wallet the book and the wallet are read (consistently) and every due
grant gets an ``expiry`` ledger entry (``reference`` ``grant:<id>``, metadata ``grant_id``) through
:func:`tollgate.ledger.posting.expire`, which holds the wallet to the ``last_tx`` the book was
attributed up to: a debit committed but not yet attributed may have drawn from the grant, so until
the stream has caught up the wallet is skipped (the next run gets it). Its transaction id derives
from the grant and that ``last_tx``, so a re-run of the same state replays instead of expiring twice.

* A sharded wallet's book is current when every shard's last change (read at one instant) is the
  one its chain applied; its expiry is taken from shard 0 (refilled from the others if it must be),
  held to every shard's last change (``Book.caught_up``).
* Never below zero: only ``min(left to expire, available)`` leaves; held credits stay on the
  grant and leave on a later run, once released.
* Rollover: an allocation whose tier carries over (``cap``) and that has not rolled yet keeps
  ``min(remaining, cap)``: the entry says ``rolled_over_mc`` and ``rolled_until`` (the end of the
  next period), and the stream moves the grant's expiry there, once (a rolled grant never rolls
  again). A grant that carries over whole posts a zero entry, so the book still learns of it.

The same run tells the platform which grants expire within 7 days (``credits.expiring``, once per
grant: the event's id is the grant's, and the outbox records an id once), from the books whose next
expiry falls in that window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tollgate import clock, ids, keys
from tollgate.amounts import format_credits
from tollgate.events import outbox
from tollgate.events.derive import Event, make_event
from tollgate.events.types import EventType
from tollgate.grants import repository
from tollgate.grants.attribution import EXPIRING_SOON_MS, Book, Grant, period_end_ms
from tollgate.ledger import posting
from tollgate.ledger import repository as ledger
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.ledger.models import LedgerEntryItem

logger = logging.getLogger(__name__)

ACTOR = "system:grant-expiry"


@dataclass(frozen=True)
class Expiry:
    """What one run does to one due grant."""

    grant: Grant
    amount: int  # leaves the wallet now
    carried: int = 0  # stays on the grant, now expiring at rolled_until
    rolled_until: int | None = None


def plan(grant: Grant, available: int) -> Expiry | None:
    """The expiry of ``grant`` (due) when ``available`` credits may leave; None when nothing can happen now."""
    carried = 0 if grant.rolled or grant.rollover_cap is None else min(grant.remaining, grant.rollover_cap)
    target = grant.remaining - carried
    amount = min(target, max(0, available))
    if amount < target:
        # Held credits: what is available leaves now, the rest later; nothing rolls over before then.
        return Expiry(grant, amount) if amount > 0 else None
    if amount == 0 and carried == 0:
        return None
    if carried == 0:
        return Expiry(grant, amount)
    return Expiry(grant, amount, carried, rolled_until(grant))


def rolled_until(grant: Grant) -> int | None:
    """The end of the period after the one that ended at the grant's expiry."""
    if grant.expires_ms is None:
        return None
    end = period_end_ms(clock.period_of(grant.expires_ms))
    return None if end is None else min(end, clock.MAX_ISO_MS)


def transaction_id(wallet_id: str, grant_id: str, after_tx: str | None) -> str:
    """Derived from the grant and the wallet's last balance change it follows: one per state."""
    return ids.located_id("tx", wallet_id, "expiry", grant_id, after_tx or "")


@dataclass
class Report:
    wallets: int = 0
    expired_mc: int = 0
    rolled_over_mc: int = 0
    entries: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"wallets": self.wallets, "expired_mc": self.expired_mc, "rolled_over_mc": self.rolled_over_mc,
                "entries": self.entries, "skipped": self.skipped, "failed": len(self.failed)}


def run(now_ms: int | None = None) -> Report:
    """Expire every due grant of every wallet listed as due (one Query per index shard)."""
    now_ms = clock.now_ms() if now_ms is None else now_ms
    report = Report()
    for shard in keys.grant_expiry_shards():
        for wallet_id in repository.due_wallets(shard, now_ms):
            try:
                expire_wallet(wallet_id, now_ms, report)
            except Exception:  # one wallet's failure never stops the run; it is retried next hour
                logger.exception("expiring the grants of %s failed", wallet_id)
                report.failed.append(wallet_id)
    return report


def announce_expiring(now_ms: int | None = None) -> int:
    """Publish ``credits.expiring`` for every grant with credits left that expires within 7 days;
    how many events were sent now (each grant's goes out once, on the first run that sees it)."""
    now_ms = clock.now_ms() if now_ms is None else now_ms
    events: list[Event] = []
    for shard in keys.grant_expiry_shards():
        for wallet_id in repository.due_wallets(shard, now_ms + EXPIRING_SOON_MS):
            book = repository.get_book(wallet_id)
            for grant in book.grants.values() if book is not None else ():
                if grant.remaining > 0 and grant.expires_ms is not None and \
                        now_ms < grant.expires_ms <= now_ms + EXPIRING_SOON_MS:
                    events.append(make_event(
                        EventType.CREDITS_EXPIRING, (wallet_id, grant.grant_id, str(grant.expires_ms)),
                        clock.iso(now_ms), wallet_id, grant_id=grant.grant_id, source=grant.source,
                        remaining=format_credits(grant.remaining), expires_at=clock.iso(grant.expires_ms)))
    return outbox.publish(events)


def expire_wallet(wallet_id: str, now_ms: int, report: Report) -> None:
    book = repository.get_book(wallet_id)
    due = book.due(now_ms) if book is not None else []
    if book is None or not due:
        return  # the index lags the book: nothing is due any more
    if book.chains is not None:
        _expire_sharded(book, due, now_ms, report)
        return
    wallet = ledger.get_wallet(wallet_id)
    report.wallets += 1
    if wallet is None or wallet.last_tx != book.last_tx:
        report.skipped += 1  # a change not yet attributed: the stream catches up, the next run expires
        return
    after, available = book.last_tx, wallet.available  # held credits are not available: they stay
    for grant in due:
        step = plan(grant, available)
        if step is None:
            continue
        try:
            entry = _post(book, step, after, now_ms)
        except (posting.WalletMoved, InsufficientCredits):
            report.skipped += 1  # the wallet changed meanwhile (or its credits were held): next run
            return
        except posting.Replayed:
            report.skipped += 1
            return
        after, available = entry.transaction_id, available - step.amount
        report.entries += 1
        report.expired_mc += step.amount
        report.rolled_over_mc += step.carried


def _expire_sharded(book: Book, due: list[Grant], now_ms: int, report: Report) -> None:
    """:func:`expire_wallet` for a sharded wallet: its book is current when every shard's last change
    (all read at one instant) is the one its chain applied; each expiry is then held to that."""
    from tollgate.shards import repository as shards

    report.wallets += 1
    root = shards.root_item(book.wallet_id)
    items = shards.items_of(root) if root is not None else 1
    current = shards.snapshot(book.wallet_id, items) if root is not None else []
    if root is None or not book.caught_up(current):
        report.skipped += 1  # a change not yet attributed: the stream catches up, the next run expires
        return
    cursors = {s.shard: s.last_tx for s in current if s.exists}
    available = sum(s.available for s in current)
    for grant in due:
        step = plan(grant, available)
        if step is None:
            continue
        after = ";".join(f"{k}={tx or ''}" for k, tx in sorted(cursors.items()))
        try:
            entry = _post(book, step, after, now_ms, sharded=(cursors, items))
        except (posting.WalletMoved, InsufficientCredits, posting.Replayed):
            report.skipped += 1  # the wallet changed meanwhile (or its credits were held): next run
            return
        cursors[0], available = entry.transaction_id, available - step.amount
        report.entries += 1
        report.expired_mc += step.amount
        report.rolled_over_mc += step.carried


def _post(book: Book, step: Expiry, after: str | None, now_ms: int,
          sharded: tuple[dict[int, str | None], int] | None = None) -> LedgerEntryItem:
    grant, wallet_id = step.grant, book.wallet_id
    txid = transaction_id(wallet_id, grant.grant_id, after)
    metadata: dict[str, object] = {"grant_id": grant.grant_id, "source": grant.source,
                                   "expires_at": grant.expires_at}
    if step.rolled_until is not None:
        metadata.update(rolled_over_mc=step.carried, rolled_until=clock.iso(step.rolled_until))
    entry = posting.new_entry(
        wallet_id=wallet_id, transaction_id=txid, entry_type="expiry", amount=-step.amount, now_ms=now_ms,
        request_hash=ids.request_hash(f"expiry:{wallet_id}:{grant.grant_id}:{after or ''}"), actor=ACTOR,
        reference=f"grant:{grant.grant_id}", reason=f"{grant.source} grant expired", metadata=metadata)
    if sharded is None:
        posting.expire(entry, step.amount, after)
    else:
        posting.expire_sharded(entry, step.amount, *sharded)
    return entry


__all__ = ["Expiry", "Report", "expire_wallet", "plan", "rolled_until", "run", "transaction_id"]
