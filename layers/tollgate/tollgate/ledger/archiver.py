"""The archiver: moves ledger entries older than ``LEDGER_ARCHIVE_DAYS`` to S3, exactly.

Which wallets: the ones the stream marked changed (``tollgate.reconciliation.changed``, the sets
the reconciliation job reads, kept ``LEDGER_ARCHIVE_DAYS`` + 4 days for this), no table scan. A
wallet changed on day D has entries from D (or the day before, if the stream ran past
midnight); the archiver visits it once D is more than the window plus two days old, and moves
every entry of it older than the window. A wallet not changed since is not growing.

One page of a wallet (oldest first, at most :data:`PAGE` entries) at a time: put the page's
objects in S3 (their names follow from the entries, so a retry writes the same objects), then
one transaction deletes the entries (each still there, as read) and adds their total, count and months
to the wallet's ``LedgerArchiveItem``. A crash between the two leaves an object the next run
writes again; the transaction is all or nothing, so the ledger never counts a page twice or not
at all. A run that nears its time limit stops after a wallet and the next run goes on from the
checkpoint (visiting a wallet twice archives nothing the second time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from tollgate import clock, config, days, keys
from tollgate.data import Transaction, TransactionCancelled, first_page, get_or_none
from tollgate.ledger import archive, repository
from tollgate.ledger.models import LedgerArchiveCheckpointItem, LedgerArchiveItem, LedgerEntryItem

logger = Logger(child=True)

PAGE = 99  # a transaction holds 100 items: the page's deletes and the totals' update
DAY_MS = 86_400_000
# The stream marks a wallet on the day it processed the change: at most a day after the entry.
MARK_LAG_DAYS = 2
FIRST_RUN_DAYS = 5  # with no checkpoint: the oldest marks that can still exist (kept window + 4 days)
STOP_MARGIN_MS = 60_000


@dataclass
class ArchiveReport:
    days: list[str] = field(default_factory=list)
    wallets: int = 0
    entries: int = 0
    credits_mc: int = 0
    objects: int = 0
    stopped_early: bool = False

    def counts(self) -> dict[str, int | bool | list[str]]:
        return {"days": self.days, "wallets": self.wallets, "entries": self.entries,
                "credits_mc": self.credits_mc, "objects": self.objects, "stopped_early": self.stopped_early}


def cutoff_iso(now_ms: int) -> str:
    """Entries created before this instant are archived."""
    return clock.iso(now_ms - config.ledger_archive_days() * DAY_MS)


def due_through(now_ms: int) -> str:
    """The last day whose changed wallets may be visited: older than the window plus the marks' lag."""
    return clock.iso(now_ms - (config.ledger_archive_days() + MARK_LAG_DAYS) * DAY_MS)[:10]


def run(now_ms: int, *, time_left_ms: Callable[[], int] = lambda: 10**9) -> ArchiveReport:
    """Visit every wallet changed on each due day after the checkpoint; move the checkpoint as days finish."""
    from tollgate.reconciliation import repository as changed_sets  # the job loads it; the history path never

    report = ArchiveReport()
    margin = min(STOP_MARGIN_MS, time_left_ms() // 4)  # a wallet's pages fit in what is left
    last = due_through(now_ms)
    checkpoint = get_or_none(LedgerArchiveCheckpointItem, *keys.ledger_archive_checkpoint())
    first = (_next_day(checkpoint.through_day) if checkpoint is not None
             else clock.iso(now_ms - (config.ledger_archive_days() + MARK_LAG_DAYS + FIRST_RUN_DAYS) * DAY_MS)[:10])
    cutoff = cutoff_iso(now_ms)
    due = days.DayRange(dt.date.fromisoformat(first), dt.date.fromisoformat(last)) if first <= last else None
    for day in due.each() if due is not None else []:
        wallets, _ = changed_sets.changed(day)
        for wallet_id in sorted(wallets):
            if time_left_ms() < margin:
                report.stopped_early = True
                return report
            moved, credits, objects = archive_wallet(wallet_id, cutoff, now_ms)
            report.wallets += 1
            report.entries += moved
            report.credits_mc += credits
            report.objects += objects
        LedgerArchiveCheckpointItem(*keys.ledger_archive_checkpoint(), through_day=day,
                                    updated_at=clock.iso(now_ms)).save()
        report.days.append(day)
    return report


def _next_day(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


_ATTEMPTS = 5


def archive_wallet(wallet_id: str, cutoff: str, now_ms: int) -> tuple[int, int, int]:
    """Move every entry of the wallet created before ``cutoff``; (entries, their total, objects written)."""
    moved = credits = objects = 0
    attempts = 0
    while True:
        page = _oldest_page(wallet_id, cutoff)
        if not page:
            return moved, credits, objects
        by_month: dict[str, list[LedgerEntryItem]] = {}
        for entry in page:
            by_month.setdefault(entry.created_at[:7], []).append(entry)
        for month, entries in by_month.items():
            newest_first = entries[::-1]
            archive.store().put(archive.object_key(wallet_id, month, newest_first[0]), archive.encode(newest_first))
            objects += 1
        total = sum(e.amount for e in page)
        try:
            _move(wallet_id, page, total, sorted(by_month), now_ms)
        except TransactionCancelled:
            # Another run moved (some of) them first: read the oldest page again.
            attempts += 1
            if attempts >= _ATTEMPTS:
                raise
            continue
        moved += len(page)
        credits += total
        logger.debug("archived a page", extra={"wallet_id": wallet_id, "entries": len(page)})


def _oldest_page(wallet_id: str, cutoff: str) -> list[LedgerEntryItem]:
    """The wallet's oldest entries before ``cutoff``, at most :data:`PAGE`. A sharded wallet's are in
    its partition and its 32 slots: the oldest of each, merged, so pages leave in time order across
    all of them and every archived entry stays older than every entry left (what its history's paging
    into the archive relies on)."""
    partitions = [keys.wallet_pk(wallet_id)]
    if repository.is_sharded(wallet_id):
        partitions += [keys.slot_pk(wallet_id, slot) for slot in range(keys.ENTRY_SLOTS)]
    found: list[LedgerEntryItem] = []
    for pk in partitions:
        # From "1": entries' keys start with a year; the archive totals' row ("0") is not one of them.
        results = LedgerEntryItem.history.query(pk, LedgerEntryItem.lsi1sk.between("1", cutoff),
                                                scan_index_forward=True, consistent_read=True, page_size=PAGE)
        items, _ = first_page(results, LedgerEntryItem)
        found += items[:PAGE]
    return sorted(found, key=lambda e: e.lsi1sk)[:PAGE]


def _move(wallet_id: str, page: list[LedgerEntryItem], total: int, months: list[str], now_ms: int) -> None:
    tx = Transaction()
    for entry in page:
        # As archived: a reversal that changed its reversed_mc since the read cancels the page (read again).
        unchanged = (LedgerEntryItem.reversed_mc.does_not_exist() if entry.reversed_mc is None
                     else LedgerEntryItem.reversed_mc == entry.reversed_mc)
        tx.delete("entry", LedgerEntryItem(entry.pk, entry.sk), condition=LedgerEntryItem.pk.exists() & unchanged)
    totals = LedgerArchiveItem(*keys.ledger_archive(wallet_id))
    tx.update("archive", totals, [
        LedgerArchiveItem.entity.set(LedgerArchiveItem),
        LedgerArchiveItem.wallet_id.set(wallet_id),
        LedgerArchiveItem.lsi1sk.set(keys.ARCHIVE_HISTORY_SK),
        LedgerArchiveItem.archived_total.add(total),
        LedgerArchiveItem.archived_count.add(len(page)),
        LedgerArchiveItem.months.add(set(months)),
        LedgerArchiveItem.updated_at.set(clock.iso(now_ms)),
    ])
    tx.commit()


__all__ = ["PAGE", "ArchiveReport", "archive_wallet", "cutoff_iso", "due_through", "run"]
