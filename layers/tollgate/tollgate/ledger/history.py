"""A wallet's history: newest first, one strongly consistent query per page, then the archive.

The cursor (``tollgate.cursors``) must name this wallet's partition, an entry, and the
same filters; past the table's oldest entry it names a place in the wallet's archive
(``tollgate.ledger.archive``: every archived entry is older than every entry in the table),
so paging goes on across the boundary as if nothing had moved.
"""

from __future__ import annotations

from collections.abc import Iterator

from tollgate import clock, cursors, keys
from tollgate.ledger import archive, repository
from tollgate.ledger.models import LedgerArchiveItem, LedgerEntryItem
from tollgate.ledger.schemas import EntryOut, HistoryPage

_HIGH = "~"  # sorts after every digit and letter used in index keys
_KEY_NAMES = ("PK", "SK", "LSI1SK")
_FILTER_LOOKAHEAD = 100
_ARCHIVE_NAMES = ("archive_object", "archive_line")
_MERGED_NAMES = ("PK", "before")
# A filtered read of the archive looks at most this many entries for one page (a page may then
# hold fewer than ``limit``, as a filtered page of the table may).
_ARCHIVE_LOOKAHEAD = 1000


def entry_view(entry: LedgerEntryItem) -> EntryOut:
    return EntryOut(
        transaction_id=entry.transaction_id,
        type=entry.type,
        amount=entry.amount,
        balance_after=entry.balance_after,
        feature=entry.feature,
        reference=entry.reference,
        reason=entry.reason,
        created_at=entry.created_at,
        metadata=entry.metadata or {},
    )


def wallet_history(wallet_id: str, *, limit: int, cursor: str | None, entry_type: str | None,
            since_ms: int | None, until_ms: int | None) -> HistoryPage:
    # Entry keys start with clock.iso(): clamp the bounds into the range it writes.
    low = clock.iso(min(max(since_ms, 0), clock.MAX_ISO_MS)) if since_ms is not None else "0"
    high = clock.iso(min(max(until_ms, 0), clock.MAX_ISO_MS)) + "#" + _HIGH if until_ms is not None else _HIGH
    scope = cursors.scope(wallet_id, entry_type, since_ms, until_ms)
    pk = keys.wallet_pk(wallet_id)
    start, archived_from, merged_before = _start(cursor, scope, wallet_id) if cursor else (None, None, None)
    if merged_before is not None or (cursor is None and until_ms is not None and repository.is_sharded(wallet_id)):
        return _merged(wallet_id, low, high, limit, entry_type, merged_before, scope)
    if archived_from is not None:
        data, position = _archived(wallet_id, archived_from, limit, entry_type, low, high,
                                   archive.totals(wallet_id))
        return HistoryPage(data=data, next_cursor=_archive_cursor(position, scope))
    # A type filter is applied after DynamoDB's Limit, so a filtered page looks further
    # ahead (still one query) and stops at `limit` matches; it may hold fewer than `limit`.
    page = repository.query_entries(
        wallet_id, low=low, high=high, limit=_FILTER_LOOKAHEAD if entry_type else limit, start_key=start,
        entry_type=entry_type,
    )
    if page.sharded:  # the marker sorts first: this wallet's debits are in its slots
        return _merged(wallet_id, low, high, limit, entry_type, None, scope)
    items, last, archive_row = page.entries, page.last, page.archive_row
    if len(items) > limit:
        items, archive_row = items[:limit], None
        last = {"PK": {"S": pk}, "SK": {"S": items[-1].sk}, "LSI1SK": {"S": items[-1].lsi1sk}}
    data = [entry_view(i) for i in items]
    if archive_row is None and last is None and since_ms is not None:
        # A `since` bound leaves the totals' row (keyed before every entry) out of the query: read it.
        archive_row = archive.totals(wallet_id)
    if archive_row is not None and archive_row.archived_count:
        # The table holds no older entry: go on into the archive.
        newest = archive.Position(archive.wallet_prefix(wallet_id), 0)
        if len(data) < limit:
            more, position = _archived(wallet_id, newest, limit - len(data), entry_type, low, high, archive_row)
            return HistoryPage(data=data + more, next_cursor=_archive_cursor(position, scope))
        return HistoryPage(data=data, next_cursor=_archive_cursor(newest, scope))
    return HistoryPage(data=data, next_cursor=cursors.encode(last, scope) if last else None)


def _start(cursor: str, scope: str, wallet_id: str
           ) -> tuple[cursors.RawKey | None, archive.Position | None, str | None]:
    """Where a cursor goes on: an entry of the table's history index, a place in the archive, or
    (a sharded wallet) the entry key every slot's next page is older than."""
    pk = keys.wallet_pk(wallet_id)
    try:
        return cursors.decode(cursor, scope, _KEY_NAMES, lambda k: k["PK"] == pk and k["SK"].startswith(
            keys.ENTRY_PREFIX) and k["LSI1SK"].endswith("#" + k["SK"][len(keys.ENTRY_PREFIX):])), None, None
    except cursors.InvalidCursor:
        pass
    try:
        key = cursors.decode(cursor, scope, _MERGED_NAMES, lambda k: k["PK"] == pk and "#" in k["before"])
        return None, None, key["before"]["S"]
    except cursors.InvalidCursor:
        prefix = archive.wallet_prefix(wallet_id)
        key = cursors.decode(cursor, scope, _ARCHIVE_NAMES, lambda k: k["archive_object"].startswith(prefix)
                             and k["archive_line"].isdigit() and len(k["archive_line"]) <= 6)
        return None, archive.Position(key["archive_object"]["S"], int(key["archive_line"]["S"])), None


def _merged(wallet_id: str, low: str, high: str, limit: int, entry_type: str | None, before: str | None,
            scope: str) -> HistoryPage:
    """A sharded wallet's page: the wallet's partition and its slots, each queried newest first
    (strongly consistent) from ``before``, merged in time order. A page never goes past the oldest
    row a partition with more to read has reached, so nothing is skipped between pages. Past the
    table's oldest entry it goes on into the wallet's archive, as an unsharded wallet's does (the
    archiver moves a sharded wallet's entries from all its partitions in time order, so every
    archived entry is older than every entry left)."""
    upper = high if before is None else min(high, before)
    rows: list[LedgerEntryItem] = []
    frontiers: list[str] = []
    for pk in [keys.wallet_pk(wallet_id), *(keys.slot_pk(wallet_id, s) for s in range(keys.ENTRY_SLOTS))]:
        page = repository.query_entries(wallet_id, low=low, high=upper, limit=_FILTER_LOOKAHEAD if entry_type
                                        else limit + 1, start_key=None, entry_type=entry_type, pk=pk)
        rows += [e for e in page.entries if before is None or e.lsi1sk < before]
        if page.last is not None:
            frontiers.append(page.last["LSI1SK"]["S"])
    boundary = max(frontiers) if frontiers else None
    complete = sorted((e for e in rows if boundary is None or e.lsi1sk >= boundary), key=lambda e: e.lsi1sk,
                      reverse=True)
    data = complete[:limit]
    if len(complete) > limit:
        after = data[-1].lsi1sk
    else:
        after = boundary if boundary is not None and boundary != (before or "") else None
    views = [entry_view(e) for e in data]
    if after is not None:
        return HistoryPage(data=views, next_cursor=cursors.encode(
            {"PK": {"S": keys.wallet_pk(wallet_id)}, "before": {"S": after}}, scope))
    totals = archive.totals(wallet_id)
    if totals is None or not totals.archived_count:
        return HistoryPage(data=views, next_cursor=None)
    # The table holds no older entry: go on into the archive.
    newest = archive.Position(archive.wallet_prefix(wallet_id), 0)
    if len(views) < limit:
        more, position = _archived(wallet_id, newest, limit - len(views), entry_type, low, high, totals)
        return HistoryPage(data=views + more, next_cursor=_archive_cursor(position, scope))
    return HistoryPage(data=views, next_cursor=_archive_cursor(newest, scope))


def _archive_cursor(position: archive.Position | None, scope: str) -> str | None:
    if position is None:
        return None
    return cursors.encode({"archive_object": {"S": position.object_key},
                           "archive_line": {"S": str(position.line)}}, scope)


def _archived(wallet_id: str, start: archive.Position, limit: int, entry_type: str | None, low: str, high: str,
              totals: LedgerArchiveItem | None) -> tuple[list[EntryOut], archive.Position | None]:
    """Up to ``limit`` archived entries from ``start``, newest first, within the filters, and where the
    next page starts (None: nothing older)."""
    if totals is None or not totals.archived_count or max(totals.months or ("",)) < low[:7]:
        return [], None  # nothing archived, or nothing as recent as the `since` bound
    begin = None if start.object_key == archive.wallet_prefix(wallet_id) else start
    found: list[EntryOut] = []
    position: archive.Position | None = begin
    reading: Iterator[tuple[LedgerEntryItem, archive.Position]] = archive.read_newest_first(
        wallet_id, totals.months or (), begin)
    looked = 0
    for entry, after in reading:
        if entry.lsi1sk < low:
            return found, None  # the rest is older still
        looked += 1
        position = after
        if entry.lsi1sk <= high and (entry_type is None or entry.type == entry_type):
            found.append(entry_view(entry))
            if len(found) == limit:
                break
        if looked >= _ARCHIVE_LOOKAHEAD:
            break
    else:
        return found, None
    # Stopped with the page full (or the lookahead spent): a cursor only if anything is left.
    if next(reading, None) is None:
        return found, None
    return found, position
