"""The capacity model: what a request log asks of DynamoDB's per-partition limits.

Reads a request log written by ``scripts/load.py`` (one JSON object a line:
``{"t", "op", "writes": [{"pk", "wcu"}], "reads": [{"pk", "rcu"}], "ok", "ms"}``, plus
``"debit"`` and ``"status"``: the load generator's number of the debit the request was made
for, and the HTTP status that debit got) and models it against DynamoDB's limits for one
partition key (item collection): 1,000 WCU/s and 3,000 RCU/s.

* **Units per debit on each partition key**: every request's units summed per key, divided
  by the number of successful debits in the log. A key's rate is
  ``min(1000 / WCU per debit, 3000 / RCU per debit)``, and the sustainable debit rate is the
  lowest rate of any key: the hottest partition. It depends only on which keys were written
  and read, so it keeps working when debits land on other keys (``WALLET#<id>#S<k>``).
* **Rate per shard count**: a wallet's keys are grouped by shard: ``WALLET#<id>`` is shard 0,
  ``WALLET#<id>#S<k>`` shard ``k``, and any other ``WALLET#<id>#<suffix>`` (e.g. entry
  partitions) is another key of the wallet. The wallet's rate is the lowest of its keys'; the
  rate ``N`` evenly used shards would sustain is ``N`` times that of one shard taking all the
  units the log put on the shards, capped by the wallet's other keys. Today's layout is one
  shard: 6 WCU a debit, 1000 / 6 ≈ 166.7 debits a second.
* **Replay through token buckets**: the log's times are scaled so that its successful
  debits arrive at a target rate on average (its bursts scaled alike: the busiest second of
  the scaled log is reported as the peak), and each request takes its units from one bucket
  per partition key and kind (write, read). A bucket refills at the limit and holds one second
  of it plus ``burst_seconds`` of unused capacity (DynamoDB keeps up to 300 s; 0, the
  default, is the sustained figure); it starts full, as a partition idle before the run. A
  request that finds a bucket short waits, behind the requests already waiting there, until
  the units have accrued: it is counted as throttled and its wait as added delay. Requests
  that consumed nothing (cancelled transactions report no capacity) are not replayed.

Units of one request are attributed to keys by :func:`attribute`: a GetItem's or a Query's
to the key it reads (a query of a global index to ``GSI:<index>:<key>``); a write's table
units are split evenly between the items it names (a transaction's condition checks too), a local index's units go to the items
that write the index's sort key (the index lives in its base item's partition) and a global
index's to ``GSI:<index>:<the item's index key>`` (``GSI:<index>`` when the value is not in
the request). A request that failed lists the keys it touched with 0 units.

Usage: ``scripts/capacity.py [--log PATH] [--target RATE ...] [--burst-seconds S] [--debits N] [--json PATH]``
(defaults: ``test-output/load/requests.jsonl``, 5000, 0, the log's successful debits,
``test-output/load/capacity.json``); prints a table and writes the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOG = ROOT / "test-output" / "load" / "requests.jsonl"
DEFAULT_JSON = ROOT / "test-output" / "load" / "capacity.json"

WCU_PER_SECOND = 1000.0   # one partition key's write limit
RCU_PER_SECOND = 3000.0   # one partition key's read limit
MAX_BURST_SECONDS = 300.0  # DynamoDB keeps up to five minutes of unused capacity as burst

WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
READ_OPS = frozenset({"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"})
SUCCESS = 201

# A wallet's partition keys: WALLET#<id>, and WALLET#<id>#S<k> for its shard k (or another suffix).
WALLET_PK = re.compile(r"^WALLET#(?P<wallet>[^#]+)(?:#(?P<suffix>[^#]+))?$")
SHARD_SUFFIX = re.compile(r"^S(?P<shard>\d+)$")


# ---------------------------------------------------------------------------------------
# Writing the log: which partition keys a request touched, and its units on each
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """The key attributes of the table and its indexes (from template.yaml)."""

    hash_key: str = "PK"
    lsi_sort_keys: Mapping[str, str] = field(default_factory=dict)  # index name -> its sort key attribute
    gsi_hash_keys: Mapping[str, str] = field(default_factory=dict)  # index name -> its partition key attribute

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Schema:
        """From CreateTable arguments (``tollgate_local.template.table_definitions()[name]``)."""
        def key(schema: Sequence[Mapping[str, str]], kind: str) -> str:
            return next(k["AttributeName"] for k in schema if k["KeyType"] == kind)

        return cls(
            hash_key=key(definition["KeySchema"], "HASH"),
            lsi_sort_keys={i["IndexName"]: key(i["KeySchema"], "RANGE")
                           for i in definition.get("LocalSecondaryIndexes", [])},
            gsi_hash_keys={i["IndexName"]: key(i["KeySchema"], "HASH")
                           for i in definition.get("GlobalSecondaryIndexes", [])},
        )


@dataclass(frozen=True)
class Target:
    """One item a request reads or writes: its partition key, the attributes the request
    writes on it, and those attributes' values where the request carries them."""

    pk: str
    attributes: frozenset[str] = frozenset()
    values: Mapping[str, str] = field(default_factory=dict)


_UPDATE_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"})
_ASSIGNMENT = re.compile(r"(#\w+|[A-Za-z_]\w*)\s*=\s*(:\w+)\s*(?=,|$|\s+(?:SET|REMOVE|ADD|DELETE)\b|\s+AND\b)")


def _scalar(value: Mapping[str, Any]) -> str:
    """A key attribute's value (``{"S": "..."}``) as text."""
    for kind in ("S", "N"):
        if kind in value:
            return str(value[kind])
    if "B" in value:
        raw = value["B"]
        return raw.hex() if isinstance(raw, bytes) else str(raw)
    return json.dumps(value, sort_keys=True, default=str)


def _names(expression: str, names: Mapping[str, str]) -> set[str]:
    """The attribute names an expression mentions, placeholders resolved."""
    found = set()
    for token in re.findall(r"#\w+|(?<![:\w])[A-Za-z_]\w*", expression):
        if token.startswith("#"):
            found.add(names.get(token, token))
        elif token not in _UPDATE_KEYWORDS:
            found.add(token)
    return found


def _assigned(expression: str, names: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, str]:
    """``name = :value`` pairs of an expression (an update's SET, a query's key condition)."""
    out = {}
    for name, placeholder in _ASSIGNMENT.findall(expression):
        if placeholder in values:
            out[names.get(name, name)] = _scalar(values[placeholder])
    return out


def _item_target(item: Mapping[str, Any], schema: Schema) -> Target:
    return Target(pk=_scalar(item.get(schema.hash_key, {})), attributes=frozenset(item),
                  values={k: _scalar(v) for k, v in item.items() if isinstance(v, Mapping) and ("S" in v or "N" in v)})


def _key_target(action: Mapping[str, Any], schema: Schema) -> Target:
    key = action.get("Key", {})
    expression = action.get("UpdateExpression", "")
    if not expression:
        return Target(pk=_scalar(key.get(schema.hash_key, {})))
    names = action.get("ExpressionAttributeNames", {})
    values = action.get("ExpressionAttributeValues", {})
    return Target(pk=_scalar(key.get(schema.hash_key, {})), attributes=frozenset(_names(expression, names)),
                  values=_assigned(expression, names, values))


def _query_target(params: Mapping[str, Any], schema: Schema) -> Target:
    index = params.get("IndexName")
    hash_key = schema.gsi_hash_keys.get(index, schema.hash_key) if index else schema.hash_key
    keys = _assigned(params.get("KeyConditionExpression", ""), params.get("ExpressionAttributeNames", {}),
                     params.get("ExpressionAttributeValues", {}))
    value = keys.get(hash_key, "?")
    # A global index is partitioned by its own key; a local one lives in the base item's partition.
    return Target(pk=f"GSI:{index}:{value}" if index in schema.gsi_hash_keys else value)


def targets(op: str, params: Mapping[str, Any], schema: Schema) -> list[Target]:
    """The items request ``op`` with API parameters ``params`` reads or writes."""
    if op == "PutItem":
        return [_item_target(params.get("Item", {}), schema)]
    if op in {"UpdateItem", "DeleteItem", "GetItem"}:
        return [_key_target(params, schema)]
    if op == "Query":
        return [_query_target(params, schema)]
    if op == "Scan":
        return [Target(pk=f"SCAN:{params.get('IndexName') or params.get('TableName', '?')}")]
    if op == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems", []):
            for kind, action in entry.items():
                out.append(_item_target(action.get("Item", {}), schema) if kind == "Put" else _key_target(action, schema))
        return out
    if op == "TransactGetItems":
        return [_key_target(entry.get("Get", {}), schema) for entry in params.get("TransactItems", [])]
    if op == "BatchWriteItem":
        return [_item_target(r["PutRequest"]["Item"], schema) if "PutRequest" in r else _key_target(r["DeleteRequest"], schema)
                for requests in params.get("RequestItems", {}).values() for r in requests]
    if op == "BatchGetItem":
        return [Target(pk=_scalar(key.get(schema.hash_key, {})))
                for table in params.get("RequestItems", {}).values() for key in table.get("Keys", [])]
    return []


def _spread(units: float, keys: Sequence[str], into: dict[str, float]) -> None:
    for key in keys:
        into[key] = into.get(key, 0.0) + units / len(keys)


def _consumed_list(consumed: Any) -> list[Mapping[str, Any]]:
    # Transactions and batches report a list (one entry a table); single-item calls a dict.
    if not consumed:
        return []
    return list(consumed) if isinstance(consumed, list) else [consumed]


def _index_units(entry: Mapping[str, Any], kind: str) -> dict[str, float]:
    return {name: float(v.get("CapacityUnits", 0.0)) for name, v in (entry.get(kind) or {}).items()}


def attribute(op: str, found: Sequence[Target], consumed: Any, schema: Schema) -> dict[str, float]:
    """Units per partition key for one request: ``found`` are its :func:`targets`, ``consumed``
    its ``ConsumedCapacity`` (INDEXES; None for a request that reported none: every key gets 0)."""
    units: dict[str, float] = {t.pk: 0.0 for t in found}
    if not found:
        return units
    every = [t.pk for t in found]
    for entry in _consumed_list(consumed):
        lsi, gsi = _index_units(entry, "LocalSecondaryIndexes"), _index_units(entry, "GlobalSecondaryIndexes")
        total = float(entry.get("CapacityUnits", 0.0))
        table = float((entry.get("Table") or {}).get("CapacityUnits", total - sum(lsi.values()) - sum(gsi.values())))
        if op in READ_OPS:
            # A read is served by the partition it reads, whichever index it goes through.
            _spread(table + sum(lsi.values()) + sum(gsi.values()), every, units)
            continue
        _spread(table, every, units)
        for name, n in lsi.items():
            sort_key = schema.lsi_sort_keys.get(name)
            writers = [t.pk for t in found if sort_key in t.attributes] or every
            _spread(n, writers, units)
        for name, n in gsi.items():
            hash_key = schema.gsi_hash_keys.get(name, "")
            writers = [t for t in found if hash_key in t.attributes]
            keys = [f"GSI:{name}:{t.values[hash_key]}" if hash_key in t.values else f"GSI:{name}" for t in writers]
            _spread(n, keys or [f"GSI:{name}"], units)
    return units


def make_record(t: float, op: str, units: Mapping[str, float], ok: bool, ms: float, **extra: Any) -> dict[str, Any]:
    """One line of the request log: ``units`` go to ``writes`` (wcu) for a write, else ``reads`` (rcu)."""
    if op in WRITE_OPS:
        writes, reads = [{"pk": pk, "wcu": round(u, 6)} for pk, u in units.items()], []
    else:
        writes, reads = [], [{"pk": pk, "rcu": round(u, 6)} for pk, u in units.items()]
    return {"t": round(t, 6), "op": op, "writes": writes, "reads": reads, "ok": ok, "ms": round(ms, 3), **extra}


# ---------------------------------------------------------------------------------------
# Reading the log
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One DynamoDB request of the log."""

    t: float
    op: str
    writes: Mapping[str, float]
    reads: Mapping[str, float]
    ok: bool = True
    ms: float = 0.0
    debit: int | None = None
    status: int | None = None
    retries: int = 0  # botocore's own retries: units the earlier attempts consumed are not in the log

    @property
    def units(self) -> float:
        return sum(self.writes.values()) + sum(self.reads.values())


def parse_record(obj: Mapping[str, Any]) -> Request:
    """A log line (parsed JSON) as a :class:`Request`; a key listed twice has its units summed."""
    writes: dict[str, float] = defaultdict(float)
    reads: dict[str, float] = defaultdict(float)
    for w in obj.get("writes", []):
        writes[w["pk"]] += float(w.get("wcu", 0.0))
    for r in obj.get("reads", []):
        reads[r["pk"]] += float(r.get("rcu", 0.0))
    return Request(t=float(obj["t"]), op=str(obj["op"]), writes=dict(writes), reads=dict(reads),
                   ok=bool(obj.get("ok", True)), ms=float(obj.get("ms", 0.0)),
                   debit=obj.get("debit"), status=obj.get("status"), retries=int(obj.get("retries", 0)))


def read_log(path: Path) -> list[Request]:
    """Every request of a log file, in its order."""
    with path.open() as f:
        return [parse_record(json.loads(line)) for line in f if line.strip()]


def _is_successful_debit_write(r: Request) -> bool:
    """The committed write of a successful debit (without debit fields: any successful write)."""
    return r.ok and r.op in WRITE_OPS and (r.status == SUCCESS if r.debit is not None else True)


def successful_debits(requests: Iterable[Request]) -> int:
    """Debits that got 201: distinct ``debit`` numbers of requests whose ``status`` is 201.
    A log without those fields counts each successful write request as one debit."""
    requests = list(requests)
    if any(r.debit is not None for r in requests):
        return len({r.debit for r in requests if r.debit is not None and r.status == SUCCESS})
    return sum(1 for r in requests if _is_successful_debit_write(r))


# ---------------------------------------------------------------------------------------
# The model: units per debit and the sustainable rate
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """One partition key's throughput: DynamoDB's per-partition limits by default."""

    wcu_per_second: float = WCU_PER_SECOND
    rcu_per_second: float = RCU_PER_SECOND

    def rate(self, wcu_per_debit: float, rcu_per_debit: float) -> tuple[float, str]:
        """Debits a second a key sustains at these units per debit, and which limit binds."""
        by_writes = self.wcu_per_second / wcu_per_debit if wcu_per_debit > 0 else math.inf
        by_reads = self.rcu_per_second / rcu_per_debit if rcu_per_debit > 0 else math.inf
        return (by_writes, "writes") if by_writes <= by_reads else (by_reads, "reads")


@dataclass(frozen=True)
class PartitionLoad:
    """What one partition key takes per successful debit, and the debit rate it sustains."""

    pk: str
    wcu_per_debit: float
    rcu_per_debit: float
    rate: float
    limited_by: str


def _totals(requests: Iterable[Request]) -> tuple[dict[str, float], dict[str, float]]:
    wcu: dict[str, float] = defaultdict(float)
    rcu: dict[str, float] = defaultdict(float)
    for r in requests:
        for pk, u in r.writes.items():
            wcu[pk] += u
        for pk, u in r.reads.items():
            rcu[pk] += u
    return wcu, rcu


def partition_loads(requests: Sequence[Request], debits: int | None = None, limits: Limits | None = None
                    ) -> list[PartitionLoad]:
    """Every partition key that took units, hottest (lowest rate) first; units are divided by
    ``debits`` (default: :func:`successful_debits` of the log)."""
    limits = limits or Limits()
    n = debits if debits is not None else successful_debits(requests)
    if n <= 0:
        raise ValueError("the log has no successful debit to divide the units by")
    wcu, rcu = _totals(requests)
    loads = []
    for pk in sorted(set(wcu) | set(rcu)):
        w, r = wcu.get(pk, 0.0) / n, rcu.get(pk, 0.0) / n
        if w == 0 and r == 0:
            continue
        rate, bound = limits.rate(w, r)
        loads.append(PartitionLoad(pk=pk, wcu_per_debit=w, rcu_per_debit=r, rate=rate, limited_by=bound))
    return sorted(loads, key=lambda p: (p.rate, p.pk))


def sustainable_rate(requests: Sequence[Request], debits: int | None = None, limits: Limits | None = None
                     ) -> tuple[float, PartitionLoad | None]:
    """The debit rate every partition key sustains (the lowest key rate) and that hottest key."""
    loads = partition_loads(requests, debits, limits)
    return (loads[0].rate, loads[0]) if loads else (math.inf, None)


# ---------------------------------------------------------------------------------------
# Rate per shard count
# ---------------------------------------------------------------------------------------


def split_wallet_pk(pk: str) -> tuple[str, int | None] | None:
    """``(wallet id, shard)`` of a wallet's partition key: shard 0 for ``WALLET#<id>``, ``k`` for
    ``WALLET#<id>#S<k>``, None for another key of the wallet (``WALLET#<id>#<anything else>``);
    None for a key that is not a wallet's."""
    match = WALLET_PK.match(pk)
    if match is None:
        return None
    suffix = match["suffix"]
    if suffix is None:
        return match["wallet"], 0
    shard = SHARD_SUFFIX.match(suffix)
    return match["wallet"], int(shard["shard"]) if shard else None


@dataclass(frozen=True)
class WalletShards:
    """One wallet's partition keys: its shards (``WALLET#<id>`` is shard 0, ``WALLET#<id>#S<k>``
    shard k) and its other keys (``WALLET#<id>#<other>``), each with its units per debit."""

    wallet_id: str
    shards: dict[int, PartitionLoad]
    others: list[PartitionLoad]
    limits: Limits

    @property
    def shard_count(self) -> int:
        return len(self.shards)

    @property
    def rate(self) -> float:
        """Debits/s the wallet's keys sustain at the log's spread: the lowest of their rates."""
        return min(p.rate for p in [*self.shards.values(), *self.others])

    @property
    def shard_wcu_per_debit(self) -> float:
        return sum(p.wcu_per_debit for p in self.shards.values())

    @property
    def shard_rcu_per_debit(self) -> float:
        return sum(p.rcu_per_debit for p in self.shards.values())

    @property
    def one_shard_rate(self) -> float:
        """Debits/s one key would sustain taking all of the units the log put on the shards."""
        return self.limits.rate(self.shard_wcu_per_debit, self.shard_rcu_per_debit)[0]

    @property
    def others_rate(self) -> float:
        """The lowest rate of the wallet's keys that are not shards (infinite when there are none)."""
        return min((p.rate for p in self.others), default=math.inf)

    def rate_with(self, shards: int) -> float:
        """Debits/s with ``shards`` evenly used shards, the wallet's other keys loaded as in the log."""
        return min(shards * self.one_shard_rate, self.others_rate)

    def shards_for(self, target: float) -> int | None:
        """The fewest evenly used shards that sustain ``target`` debits/s; None if the wallet's
        other keys cannot (no number of shards is enough)."""
        if self.others_rate < target:
            return None
        return max(1, math.ceil(target / self.one_shard_rate)) if math.isfinite(self.one_shard_rate) else 1


def rate_per_shard(requests: Sequence[Request], debits: int | None = None, limits: Limits | None = None
                   ) -> list[WalletShards]:
    """Each wallet of the log's partition keys, its keys grouped by shard (:func:`split_wallet_pk`),
    units per successful debit of the whole log."""
    limits = limits or Limits()
    shards: dict[str, dict[int, PartitionLoad]] = defaultdict(dict)
    others: dict[str, list[PartitionLoad]] = defaultdict(list)
    for load in partition_loads(requests, debits, limits):
        split = split_wallet_pk(load.pk)
        if split is None:
            continue
        wallet_id, shard = split
        if shard is None:
            others[wallet_id].append(load)
        else:
            shards[wallet_id][shard] = load
    return [WalletShards(wallet_id=w, shards=dict(sorted(shards[w].items())), others=others[w], limits=limits)
            for w in sorted(set(shards) | set(others))]


# ---------------------------------------------------------------------------------------
# Replay through token buckets
# ---------------------------------------------------------------------------------------


class TokenBucket:
    """Refills at ``rate`` units/s up to ``size``; starts full. Requests are served in order."""

    def __init__(self, rate: float, size: float, start: float) -> None:
        self.rate, self.size = rate, size
        self.tokens, self.at, self.free_at = size, start, start

    def _tokens_at(self, t: float) -> float:
        return min(self.size, self.tokens + (t - self.at) * self.rate)

    def ready(self, arrival: float, units: float) -> float:
        """When a request of ``units`` arriving at ``arrival`` can be served: not before the
        requests already waiting here, and once the units have accrued (a request larger than
        the bucket waits for a full one)."""
        start = max(arrival, self.free_at)
        short = min(units, self.size) - self._tokens_at(start)
        return start if short <= 0 else start + short / self.rate

    def take(self, at: float, units: float) -> None:
        # May go below zero (a request larger than the bucket): later requests wait for the debt.
        self.tokens = self._tokens_at(at) - units
        self.at = self.free_at = at


@dataclass(frozen=True)
class ReplayResult:
    target_rate: float        # successful debits/s the log was scaled to
    scale: float              # factor applied to the log's times
    burst_seconds: float
    requests: int             # requests replayed (those that consumed units)
    throttled: int            # of which found a bucket short and waited
    throttled_fraction: float
    peak_debits_per_second: int  # most successful debits arriving in one second of the scaled log
    delay_p50_ms: float       # added waiting, over every replayed request
    delay_p99_ms: float
    delay_max_ms: float


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile ``p`` (0-100] of ``values``; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def observed_rate(requests: Sequence[Request], debits: int | None = None) -> float:
    """Successful debits a second over the log's span (first to last request)."""
    n = debits if debits is not None else successful_debits(requests)
    span = max(r.t for r in requests) - min(r.t for r in requests) if requests else 0.0
    return n / span if span > 0 else math.inf


def replay(requests: Sequence[Request], target_rate: float, *, debits: int | None = None,
           limits: Limits | None = None, burst_seconds: float = 0.0) -> ReplayResult:
    """The log replayed with its times scaled so its successful debits arrive at ``target_rate``
    a second, every request taking its units from its keys' buckets (one second of the limit
    plus ``burst_seconds``, at most 300)."""
    if not 0 <= burst_seconds <= MAX_BURST_SECONDS:
        raise ValueError(f"burst_seconds must be within 0..{MAX_BURST_SECONDS:g}")
    if target_rate <= 0:
        raise ValueError("target_rate must be positive")
    limits = limits or Limits()
    rate = observed_rate(requests, debits)
    scale = rate / target_rate if math.isfinite(rate) else 0.0
    t0 = min((r.t for r in requests), default=0.0)
    buckets: dict[tuple[str, str], TokenBucket] = {}

    def bucket(kind: str, pk: str) -> TokenBucket:
        if (kind, pk) not in buckets:
            per_s = limits.wcu_per_second if kind == "w" else limits.rcu_per_second
            buckets[kind, pk] = TokenBucket(per_s, per_s * (1.0 + burst_seconds), start=0.0)
        return buckets[kind, pk]

    delays = []
    per_second: dict[int, int] = defaultdict(int)
    for r in requests:
        if _is_successful_debit_write(r):
            per_second[math.floor((r.t - t0) * scale)] += 1
    for r in sorted(requests, key=lambda r: r.t):
        needs = [(bucket("w", pk), u) for pk, u in r.writes.items() if u > 0]
        needs += [(bucket("r", pk), u) for pk, u in r.reads.items() if u > 0]
        if not needs:
            continue
        arrival = (r.t - t0) * scale
        served = max(b.ready(arrival, u) for b, u in needs)  # a transaction waits for all of its keys
        for b, u in needs:
            b.take(served, u)
        delays.append(served - arrival)
    throttled = sum(1 for d in delays if d > 1e-9)
    return ReplayResult(target_rate=target_rate, scale=scale, burst_seconds=burst_seconds, requests=len(delays),
                        throttled=throttled, throttled_fraction=throttled / len(delays) if delays else 0.0,
                        peak_debits_per_second=max(per_second.values(), default=0),
                        delay_p50_ms=percentile(delays, 50) * 1000, delay_p99_ms=percentile(delays, 99) * 1000,
                        delay_max_ms=max(delays, default=0.0) * 1000)


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def _num(x: float) -> float | None:
    return round(x, 3) if math.isfinite(x) else None  # JSON has no infinity


def report(requests: Sequence[Request], targets_: Sequence[float], *, burst_seconds: float = 0.0,
           debits: int | None = None, limits: Limits | None = None, top: int = 10) -> dict[str, Any]:
    """Everything the model says about the log, as JSON-ready data."""
    limits = limits or Limits()
    n = debits if debits is not None else successful_debits(requests)
    loads = partition_loads(requests, n, limits)
    rate, hottest = (loads[0].rate, loads[0]) if loads else (math.inf, None)
    wallets = rate_per_shard(requests, n, limits)
    return {
        "requests": len(requests),
        "retried_requests": sum(1 for r in requests if r.retries),
        "successful_debits": n,
        "observed_debits_per_second": _num(observed_rate(requests, n)),
        "limits": asdict(limits),
        "sustainable_debits_per_second": _num(rate),
        "hottest_partition": hottest.pk if hottest else None,
        "partitions": [{**asdict(p), "rate": _num(p.rate)} for p in loads[:top]],
        "partition_count": len(loads),
        "wallets": [{
            "wallet_id": w.wallet_id, "shard_count": w.shard_count, "debits_per_second": _num(w.rate),
            "shard_wcu_per_debit": w.shard_wcu_per_debit, "shard_rcu_per_debit": w.shard_rcu_per_debit,
            "one_shard_debits_per_second": _num(w.one_shard_rate),
            "shards": {str(k): {**asdict(p), "rate": _num(p.rate)} for k, p in w.shards.items()},
            "other_keys": [{**asdict(p), "rate": _num(p.rate)} for p in w.others],
            "shards_needed": {f"{t:g}": w.shards_for(t) for t in targets_},
        } for w in wallets],
        "replays": [asdict(replay(requests, t, debits=n, limits=limits, burst_seconds=burst_seconds))
                    for t in targets_],
    }


def print_report(data: dict[str, Any], log: Path) -> None:
    print(f"Capacity model of {log}: {data['requests']} requests, {data['successful_debits']} successful debits "
          f"(observed {data['observed_debits_per_second']} debits/s on DynamoDB Local)")
    if data["retried_requests"]:
        print(f"{data['retried_requests']} request(s) were retried by botocore (e.g. after a read timeout): the units "
              "their earlier attempts consumed are not in the log")
    limits = data["limits"]
    print(f"Limits per partition key: {limits['wcu_per_second']:g} WCU/s, {limits['rcu_per_second']:g} RCU/s")
    print()
    header = f"{'partition key':<48} {'WCU/debit':>10} {'RCU/debit':>10} {'debits/s':>10}  limited by"
    print(header)
    print("-" * len(header))
    for p in data["partitions"]:
        rate = "inf" if p["rate"] is None else f"{p['rate']:.1f}"
        print(f"{p['pk'][:48]:<48} {p['wcu_per_debit']:>10.3f} {p['rcu_per_debit']:>10.3f} {rate:>10}  {p['limited_by']}")
    if data["partition_count"] > len(data["partitions"]):
        print(f"... {data['partition_count'] - len(data['partitions'])} cooler partition keys not shown")
    print()
    print(f"Sustainable rate: {data['sustainable_debits_per_second']} debits/s "
          f"(hottest partition: {data['hottest_partition']})")
    for w in data["wallets"]:
        print(f"Wallet {w['wallet_id']}: {w['shard_count']} shard(s) taking {w['shard_wcu_per_debit']:g} WCU and "
              f"{w['shard_rcu_per_debit']:g} RCU per debit, {len(w['other_keys'])} other key(s); sustains "
              f"{w['debits_per_second']} debits/s as loaded, {w['one_shard_debits_per_second']} per evenly used shard")
        for target, shards in w["shards_needed"].items():
            print(f"  {target} debits/s needs " + (f"{shards} evenly used shard(s)" if shards is not None
                                                  else "more than shards: another key of the wallet is too hot"))
    print()
    print("Replay: the log's times scaled so its successful debits arrive at the target rate on average (its peaks")
    print("scaled alike: 'peak/s' is the busiest second), through one token bucket per partition key and kind.")
    print(f"{'target debits/s':>16} {'peak/s':>7} {'burst s':>8} {'requests':>9} {'throttled':>10} {'p50 wait ms':>12} "
          f"{'p99 wait ms':>12} {'max wait ms':>12}")
    for r in data["replays"]:
        print(f"{r['target_rate']:>16g} {r['peak_debits_per_second']:>7} {r['burst_seconds']:>8g} {r['requests']:>9} "
              f"{r['throttled_fraction']:>10.1%} {r['delay_p50_ms']:>12.1f} {r['delay_p99_ms']:>12.1f} "
              f"{r['delay_max_ms']:>12.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG, help="request log (scripts/load.py --log)")
    parser.add_argument("--target", type=float, action="append",
                        help="replay at this many successful debits/s (repeatable; default 5000)")
    parser.add_argument("--burst-seconds", type=float, default=0.0,
                        help=f"unused capacity a bucket keeps, 0..{MAX_BURST_SECONDS:g} s (default 0: sustained)")
    parser.add_argument("--debits", type=int, help="successful debits to divide by (default: from the log)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the report")
    args = parser.parse_args(argv)
    if not 0 <= args.burst_seconds <= MAX_BURST_SECONDS:
        parser.error(f"--burst-seconds must be within 0..{MAX_BURST_SECONDS:g}")
    requests = read_log(args.log)
    if successful_debits(requests) == 0 and not args.debits:
        print(f"{args.log}: no successful debit in the log", file=sys.stderr)
        return 1
    data = {"log": str(args.log), **report(requests, args.target or [5000.0], burst_seconds=args.burst_seconds,
                                           debits=args.debits)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2) + "\n")
    print_report(data, args.log)
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
