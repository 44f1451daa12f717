"""Every wallet's ledger entries, newest first, from the day-sharded index (never a table scan).

The stream consumer lists each entry under ``LEDGER#<day>#<shard>`` / ``<created_at>#<tx>``
(``GSI2``) when it stamps ``balance_after``, so an entry shows here a moment after it is
written. A page queries the shards of one day at a time, newest day first, each below the
position reached so far, and merges them: a shard that stopped at its ``Limit`` (or that a
filter thinned out) bounds how far the merge may go (its last evaluated key), and the next
round continues below that. Every sort key is ``<created_at>#<tx>``, unique and comparable
across shards, so the position is one string. With ``wallet_id`` the wallet's own history
index (``LSI1``) is the only lane, strongly consistent.

A page makes at most :data:`PAGE_QUERY_BUDGET` queries; a sparse range may so return a short
(even empty) page with a ``next_cursor``: follow it until ``next_cursor`` is null.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterator

from pynamodb.expressions.condition import Condition

from tollgate import cursors, keys
from tollgate.analytics.schemas import TransactionOut, TransactionPage
from tollgate.data import first_page
from tollgate.days import DayRange
from tollgate.ledger.models import LedgerEntryItem as E

PAGE_QUERY_BUDGET = 128
_TOP = "~"  # above every sort key: the top of a day (or of the wallet's range)

Lane = Callable[[str, int], tuple[list[E], str | None]]


def _filters(entry_type: str | None, feature: str | None) -> Condition | None:
    condition = None
    if entry_type:
        condition = E.type == entry_type
    if feature:
        condition = (E.feature == feature) if condition is None else condition & (E.feature == feature)
    return condition


def _day_lane(partition: str, condition: Condition | None) -> Lane:
    def lane(position: str, want: int) -> tuple[list[E], str | None]:
        bound = None if position == _TOP else E.gsi2sk < position
        items, last = first_page(E.by_day.query(partition, bound, filter_condition=condition,
                                                scan_index_forward=False, page_size=want), E)
        return items, last["GSI2SK"]["S"] if last else None
    return lane


def _wallet_lane(wallet_id: str, days: DayRange, condition: Condition | None) -> Lane:
    low, top = days.first.isoformat(), f"{days.last.isoformat()}T{_TOP}"

    def lane(position: str, want: int) -> tuple[list[E], str | None]:
        # BETWEEN is inclusive: the entry at the position (already listed) comes back and is dropped.
        high = top if position == _TOP else position
        items, last = first_page(E.history.query(keys.wallet_pk(wallet_id), E.lsi1sk.between(low, high),
                                                 filter_condition=condition, scan_index_forward=False,
                                                 consistent_read=True, page_size=want + 1), E)
        return [i for i in items if i.lsi1sk != position], last["LSI1SK"]["S"] if last else None
    return lane


def sort_key(entry: E) -> str:
    return keys.entry_lsi1sk(entry.created_at, entry.transaction_id)


def list_transactions(days: DayRange, *, limit: int, cursor: str | None, entry_type: str | None = None,
                      feature: str | None = None, wallet_id: str | None = None) -> TransactionPage:
    scope = cursors.scope("transactions", days.first.isoformat(), days.last.isoformat(), entry_type, feature,
                          wallet_id)
    day, position = days.last.isoformat(), _TOP
    if cursor:
        key = cursors.decode(cursor, scope, ("D", "P"), lambda k: days.contains(k["D"]) and (
            k["P"] == _TOP or k["P"][:10] == k["D"] or wallet_id is not None))
        day, position = key["D"]["S"], key["P"]["S"]
    condition = _filters(entry_type, feature)
    out: list[E] = []
    queries = 0
    more = True
    while len(out) < limit and queries < PAGE_QUERY_BUDGET:
        lanes = ([_wallet_lane(wallet_id, days, condition)] if wallet_id else
                 [_day_lane(p, condition) for p in keys.ledger_day_partitions(day)])
        found: list[E] = []
        floor: str | None = None
        for lane in lanes:
            items, lane_floor = lane(position, limit - len(out))
            queries += 1
            found += items
            if lane_floor is not None and (floor is None or lane_floor > floor):
                floor = lane_floor
        found.sort(key=sort_key, reverse=True)
        for item in found:
            at = sort_key(item)
            if floor is not None and at < floor:
                break  # a lane stopped above it: entries between may be missing from this round
            out.append(item)
            position = at
            if len(out) == limit:
                break
        if len(out) == limit:
            break
        if floor is not None:
            position = floor  # everything at or above it has been seen in every lane
            continue
        if wallet_id is not None or day <= days.first.isoformat():
            more = False
            break
        day, position = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat(), _TOP
    next_cursor = cursors.encode({"D": {"S": day}, "P": {"S": position}}, scope) if more else None
    return TransactionPage(data=[transaction_view(e) for e in out], next_cursor=next_cursor)


def iter_entries(days: DayRange, *, entry_type: str | None = None, after: str | None = None) -> Iterator[E]:
    """Every listed entry of the range, oldest first (exports): each day's shards merged as they page
    in, so memory stays flat whatever the count. ``after``: resume past this sort key
    (``<created_at>#<tx>``, what :func:`sort_key` gives for the last entry handled)."""
    condition = _filters(entry_type, None)
    for day in days.each():
        if after is not None and day < after[:10]:
            continue
        bound = E.gsi2sk > after if after is not None and after[:10] == day else None
        shards = [E.by_day.query(p, bound, filter_condition=condition, scan_index_forward=True)
                  for p in keys.ledger_day_partitions(day)]
        yield from heapq.merge(*shards, key=sort_key)


def transaction_view(entry: E) -> TransactionOut:
    return TransactionOut(
        transaction_id=entry.transaction_id, wallet_id=entry.wallet_id, type=entry.type, amount=entry.amount,
        balance_after=entry.balance_after, feature=entry.feature, developer_id=entry.developer_id,
        reference=entry.reference, reason=entry.reason, created_at=entry.created_at, metadata=entry.metadata or {},
    )


__all__ = ["PAGE_QUERY_BUDGET", "iter_entries", "list_transactions", "sort_key", "transaction_view"]
