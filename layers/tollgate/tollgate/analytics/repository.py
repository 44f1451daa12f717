"""Aggregate storage: increments written in the stream consumer's transactions, and the Queries
that read them (never a scan, never on a path that moves money).

Writes: a :class:`Delta` adds up the tallies of the wallets whose grant books one transaction
writes, and :meth:`Delta.updates` turns it into one ``ADD`` per aggregate item, on one shard
(any shard will do: readers add them all; the transaction's book conditions make the counts
exactly once). Hand-written ``Update`` requests: PynamoDB updates declared attributes only.

Reads: the platform figures of a year are one Query per shard (``T#<from>`` .. ``T#<to>``); a
range spans at most two years, so an analytics call makes at most 2 x 16 Queries (plus one per
further MB of results), whatever the traffic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tollgate import keys
from tollgate.analytics.tally import WalletTally
from tollgate.data import client, table_name
from tollgate.days import DayRange

_HIGH = "~"  # sorts after every character of ids and dates
_READERS = 8  # Queries in flight per call


def add_request(key: tuple[str, str], counters: Counter[str], entity: str) -> dict[str, Any]:
    """``ADD`` each non-zero counter to an item (created if new), as a ``TransactItems`` ``Update``."""
    names = {"#e": "entity"}
    values: dict[str, Any] = {":e": {"S": entity}}
    adds = []
    for n, (name, amount) in enumerate(sorted(counters.items())):
        if amount:
            names[f"#c{n}"], values[f":c{n}"] = name, {"N": str(amount)}
            adds.append(f"#c{n} :c{n}")
    return {
        "TableName": table_name(),
        "Key": {"PK": {"S": key[0]}, "SK": {"S": key[1]}},
        "UpdateExpression": "SET #e = :e" + (" ADD " + ", ".join(adds) if adds else ""),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


@dataclass
class Delta:
    """The counters of several wallets' tallies, added up per item."""

    totals: dict[str, Counter[str]] = field(default_factory=dict)
    features: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    developers: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    usage_days: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # (wallet, day)

    def add(self, tally: WalletTally) -> None:
        for day, counters in tally.totals.items():
            self.totals.setdefault(day, Counter()).update(counters)
        for key, counters in tally.features.items():
            self.features.setdefault(key, Counter()).update(counters)
        for key, counters in tally.developers.items():
            self.developers.setdefault(key, Counter()).update(counters)
        for day, counters in tally.usage_days.items():
            self.usage_days.setdefault((tally.wallet_id, day), Counter()).update(counters)

    def size_with(self, tally: WalletTally) -> int:
        """Items the delta would write with this tally added."""
        return (len(self.totals.keys() | tally.totals.keys()) + len(self.features.keys() | tally.features.keys())
                + len(self.developers.keys() | tally.developers.keys()) + len(self.usage_days)
                + len(tally.usage_days))

    def size(self) -> int:
        return len(self.totals) + len(self.features) + len(self.developers) + len(self.usage_days)

    def updates(self, shard: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(label, ``Update`` request) per item, the platform-wide ones on ``shard``."""
        for day, counters in self.totals.items():
            yield f"aggregate:{day}", add_request(keys.aggregate_totals(day, shard), counters, "aggregate")
        for (day, feature), counters in self.features.items():
            yield f"aggregate:{day}:feature:{feature}", add_request(keys.aggregate_feature(day, shard, feature), counters,
                                                          "aggregate")
        for (day, developer), counters in self.developers.items():
            yield f"aggregate:{day}:developer:{developer}", add_request(keys.aggregate_developer(day, shard, developer),
                                                            counters, "aggregate")
        for (wallet_id, day), counters in self.usage_days.items():
            yield f"usage:{wallet_id}:{day}", add_request(keys.usage_day(wallet_id, day), counters, "usage_day")


# -- reads ----------------------------------------------------------------------------------------

def _counters(raw: dict[str, Any]) -> Counter[str]:
    return Counter({name: int(value["N"]) for name, value in raw.items() if "N" in value})


def _query(pk: str, low: str, high: str) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
    }
    items: list[dict[str, Any]] = []
    while True:
        reply = client().query(**request)
        items += reply.get("Items", [])
        if "LastEvaluatedKey" not in reply:
            return items
        request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


def _across_shards(days: DayRange, prefix: str, suffix: str) -> list[dict[str, Any]]:
    """Every shard's items ``<prefix><day>...`` of the range: one Query per shard per year, in parallel."""
    jobs = []
    for year in days.years():
        low = f"{prefix}{max(days.first.isoformat(), f'{year}-01-01')}"
        high = f"{prefix}{min(days.last.isoformat(), f'{year}-12-31')}{suffix}"
        jobs += [(pk, low, high) for pk in keys.aggregate_partitions(year)]
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        return [item for items in pool.map(lambda job: _query(*job), jobs) for item in items]


def daily_totals(days: DayRange) -> dict[str, Counter[str]]:
    """Platform figures per day (shards added up); days without any are absent."""
    found: dict[str, Counter[str]] = {}
    for raw in _across_shards(days, keys.AGG_TOTALS, ""):
        day = raw["SK"]["S"][len(keys.AGG_TOTALS):]
        found.setdefault(day, Counter()).update(_counters(raw))
    return found


def named_totals(days: DayRange, prefix: str) -> dict[str, Counter[str]]:
    """``spent``/``calls`` per feature (``AGG_FEATURE``) or developer (``AGG_DEVELOPER``) over the range."""
    found: dict[str, Counter[str]] = {}
    for raw in _across_shards(days, prefix, f"#{_HIGH}"):
        name = raw["SK"]["S"][len(prefix) + 11:]  # past "<yyyy-mm-dd>#"
        found.setdefault(name, Counter()).update(_counters(raw))
    return found


def usage_days(wallet_id: str, days: DayRange) -> dict[str, Counter[str]]:
    """A wallet's usage per day of the range: one Query."""
    pk = keys.usage_pk(wallet_id)
    items = _query(pk, f"{keys.USAGE_DAY_PREFIX}{days.first.isoformat()}",
                   f"{keys.USAGE_DAY_PREFIX}{days.last.isoformat()}")
    return {raw["SK"]["S"][len(keys.USAGE_DAY_PREFIX):]: _counters(raw) for raw in items}


__all__ = ["Delta", "add_request", "daily_totals", "named_totals", "usage_days"]
