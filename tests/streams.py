"""Reading the table's stream and delivering it to a stream consumer as Lambda does.

Works with any ``dynamodbstreams`` client: moto in-process (functional tier), DynamoDB Local
(integration tier). Records reach a consumer through its event source's ``FilterCriteria``
from template.yaml, in sequence order, in the shape Lambda hands them over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support import LambdaContext, load_function
from tollgate_local import template
from tollgate_local.streams import matches

REGION = "us-east-1"


def stream_records(client: Any, streams: Any, table: str) -> tuple[str, list[dict[str, Any]]]:
    """Every record of the table's stream so far, shard by shard, in sequence order."""
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards, start = [], None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards += description["Shards"]
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
    return arn, records


def fix_empty_maps(image: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB Local's stream images write an empty map attribute as ``{}``; DynamoDB writes ``{"M": {}}``."""

    def fix(value: dict[str, Any]) -> dict[str, Any]:
        if value == {}:
            return {"M": {}}
        if "M" in value:
            return {"M": {k: fix(v) for k, v in value["M"].items()}}
        if "L" in value:
            return {"L": [fix(v) for v in value["L"]]}
        return value

    return {name: fix(value) for name, value in image.items()}


def lambda_records(arn: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as Lambda hands them to the function (creation time as epoch seconds)."""
    delivered = []
    for r in records:
        change = dict(r["dynamodb"])
        for image in ("OldImage", "NewImage"):
            if image in change:
                change[image] = fix_empty_maps(change[image])
        when = change.get("ApproximateCreationDateTime")
        if isinstance(when, datetime):
            change["ApproximateCreationDateTime"] = int(when.timestamp())
        delivered.append({
            "eventID": r["eventID"],
            "eventName": r["eventName"],
            "eventVersion": r.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": change,
            "eventSourceARN": arn,
        })
    return delivered


def lambda_event(arn: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": lambda_records(arn, records)}


def selected_by(function_logical: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Lambda-shaped records the function's stream event source lets through (its FilterCriteria)."""
    fn = template.resources("AWS::Serverless::Function")[function_logical]
    patterns = [json_pattern for event in (fn["Properties"].get("Events") or {}).values()
                if event.get("Type") == "DynamoDB"
                for json_pattern in _patterns(event["Properties"])]
    return [r for r in records if not patterns or any(matches(p, r) for p in patterns)]


def _patterns(props: dict[str, Any]) -> list[Any]:
    import json

    return [json.loads(f["Pattern"]) for f in ((props.get("FilterCriteria") or {}).get("Filters") or [])]


def deliver(folder: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Hand Lambda-shaped ``records`` to functions/<folder> as one batch; its response."""
    return load_function(folder).lambda_handler({"Records": records}, LambdaContext()) or {}


class LedgerStream:
    """The table's stream as the ledger consumer sees it (its FilterCriteria), delivered in order."""

    def __init__(self, aws) -> None:
        self.aws = aws
        self.delivered = 0

    def records(self) -> list[dict]:
        import os

        import boto3

        arn, raw = stream_records(self.aws, boto3.client("dynamodbstreams", region_name=REGION), os.environ["TABLE_NAME"])
        return lambda_records(arn, raw)

    def pending(self) -> list[dict]:
        records = self.records()
        fresh, self.delivered = records[self.delivered:], len(records)
        return selected_by("LedgerStreamFunction", fresh)

    def drain(self) -> dict:
        """Deliver every record not delivered yet, as one batch; the handler's answer."""
        records = self.pending()
        return deliver("ledger_stream", records) if records else {"batchItemFailures": []}
