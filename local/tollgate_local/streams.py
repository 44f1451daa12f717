"""DynamoDB stream event sources from template.yaml, delivered as Lambda would.

Polls the table's stream (DynamoDB Local, or moto as the fallback), applies each event
source's ``FilterCriteria``, and hands the stream's records to the consumer in order, in
batches of ``BatchSize``. Items the consumer reports in ``batchItemFailures`` are retried
(with everything after them, as Lambda does for streams) up to ``MaximumRetryAttempts``.
Checkpoints are kept in the dev state folder so a restart resumes where it stopped.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tollgate_local import template
from tollgate_local.background import Background
from tollgate_local.functions import FunctionError, FunctionRegistry


@dataclass
class StreamSource:
    function: str
    table_logical: str
    batch_size: int
    retries: int
    filters: list[dict[str, Any]]


def stream_sources() -> list[StreamSource]:
    sources = []
    for fname, fn in template.resources("AWS::Serverless::Function").items():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            props = event["Properties"]
            stream = props["Stream"]
            target = stream["Fn::GetAtt"] if isinstance(stream, dict) else None
            table = (target.split(".")[0] if isinstance(target, str) else target[0]) if target else None
            filters = [json.loads(f["Pattern"]) for f in ((props.get("FilterCriteria") or {}).get("Filters") or [])]
            sources.append(StreamSource(fname, table, int(props.get("BatchSize", 100)),
                                        int(props.get("MaximumRetryAttempts", 3)), filters))
    return sources


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style matching, the subset Lambda filters use: nested keys, lists of exact
    values, and ``{"exists": true|false}``."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_field(p, k in value, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return _field(pattern, True, value)
    return pattern == value


def _field(pattern: Any, present: bool, value: Any) -> bool:
    if not isinstance(pattern, list):
        return present and matches(pattern, value)
    for option in pattern:
        if isinstance(option, dict) and "exists" in option:
            if bool(option["exists"]) == present:
                return True
        elif present and (matches(option, value) if isinstance(option, dict) else option == value):
            return True
    return False


class StreamPoller(Background):
    name = "streams"

    def __init__(self, registry: FunctionRegistry, streams_client: Any, ddb_client: Any,
                 table_names: dict[str, str], state_file: Path | None, interval_s: float = 0.1) -> None:
        self.registry = registry
        self.streams = streams_client
        self.ddb = ddb_client
        self.table_names = table_names
        self.state_file = state_file
        self.interval_s = interval_s
        self.sources = stream_sources()
        self.checkpoints: dict[str, str] = self._load_checkpoints()
        self.delivered = 0
        super().__init__()

    def _load_checkpoints(self) -> dict[str, str]:
        if self.state_file and self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {}

    def _save_checkpoints(self) -> None:
        if self.state_file:
            self.state_file.write_text(json.dumps(self.checkpoints))

    def has_work(self) -> bool:
        return bool(self.sources)

    def _run(self) -> None:
        iterators: dict[str, str | None] = {}
        while not self._stop.is_set():
            got_any = False
            for table_logical in {s.table_logical for s in self.sources}:
                try:
                    got_any |= self._poll_table(table_logical, iterators)
                except Exception:  # noqa: BLE001 - keep polling; a transient error must not kill dev
                    import traceback

                    traceback.print_exc()
                    iterators.clear()
            if not got_any:
                self._idle.set()
                self._stop.wait(self.interval_s)

    def _poll_table(self, table_logical: str, iterators: dict[str, str | None]) -> bool:
        table = self.table_names[table_logical]
        arn = self.ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
        if not arn:
            return False
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", [])
        got_any = False
        for shard in shards:  # DynamoDB lists parents before children
            shard_id = shard["ShardId"]
            key = f"{arn}|{shard_id}"
            if key not in iterators:
                iterators[key] = self._iterator(arn, shard_id, key)
            iterator = iterators.get(key)
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = response.get("Records", [])
                iterators[key] = iterator = response.get("NextShardIterator")
                if not records:
                    break
                got_any = True
                self._deliver(table_logical, records, arn)
                self.checkpoints[key] = records[-1]["dynamodb"]["SequenceNumber"]
                self._save_checkpoints()
        return got_any

    def _iterator(self, arn: str, shard_id: str, key: str) -> str | None:
        if key in self.checkpoints:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.checkpoints[key]}
        else:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        return self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **kwargs).get("ShardIterator")

    def _deliver(self, table_logical: str, records: list[dict[str, Any]], arn: str) -> None:
        for source in self.sources:
            if source.table_logical != table_logical:
                continue
            shaped = [self._lambda_record(r, arn) for r in records]
            selected = [r for r in shaped if not source.filters or any(matches(f, r) for f in source.filters)]
            for start in range(0, len(selected), source.batch_size):
                self._invoke_with_retries(source, selected[start : start + source.batch_size])

    def _invoke_with_retries(self, source: StreamSource, batch: list[dict[str, Any]]) -> None:
        function = self.registry.get(source.function)
        for _ in range(source.retries + 1):
            try:
                result = function.invoke({"Records": batch}) or {}
            except FunctionError as exc:  # a failed batch is retried whole, as Lambda does
                print(f"[streams] {exc}", file=sys.stderr)  # the container printed its traceback
                continue
            failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            if not failures:
                self.delivered += len(batch)
                return
            first = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failures)
            self.delivered += first
            batch = batch[first:]
        print(f"[streams] giving up on {len(batch)} record(s) for {source.function}")

    @staticmethod
    def _lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, (int, float)):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", "us-east-1"),
            "dynamodb": dynamodb,
            "eventSourceARN": arn,
        }


def settle_time(poller: StreamPoller, timeout_s: float = 10.0) -> None:  # pragma: no cover - convenience
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not poller.wait_idle(0.5):
        pass
