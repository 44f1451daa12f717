"""One page read across partitions in order (e.g. one partition per month, newest first).

Items partitioned by month (the audit trail, reconciliation findings) are read one partition's
Query at a time until the page is full, at most ``max_queries`` Queries a page: a page cut short
by that bound ends at the last key read, so the next page goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Key = dict[str, Any]


def across_partitions(partitions: Sequence[str], *, start: Key | None, limit: int, max_queries: int,
                      fetch: Callable[[str, int, Key | None], tuple[list[T], Key | None]],
                      key_of: Callable[[T], Key], read_ahead: int = 0) -> tuple[list[T], Key | None]:
    """Up to ``limit`` items from ``partitions`` in order, from ``start`` (a key in the first), and
    the key the next page starts after (None: nothing more). ``fetch(partition, limit, start)`` is
    one Query; ``read_ahead`` asks each for at least that many (for Queries that filter after
    DynamoDB's limit)."""
    items: list[T] = []
    position: Key | None = None  # the last key read: where a page cut short goes on from
    queries = 0
    for index, partition in enumerate(partitions):
        while True:
            if queries == max_queries:
                return items, position
            found, last_key = fetch(partition, max(limit - len(items), read_ahead), start)
            queries += 1
            items.extend(found)
            position = last_key or (key_of(found[-1]) if found else position)
            if len(items) >= limit:
                more = len(items) > limit or last_key is not None or index < len(partitions) - 1
                return items[:limit], key_of(items[limit - 1]) if more else None
            if last_key is None:
                break
            start = last_key
        start = None
    return items, None


__all__ = ["across_partitions"]
