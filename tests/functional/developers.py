"""A developer's feature, spending on it, and the earnings stream: shared by the earnings
and payouts tests."""

from __future__ import annotations

import os

import boto3

from tests import streams
from tests.support import Caller, invoke

CAROL = Caller("dev-carol", roles=("user", "developer"))
DAY_MS = 86_400_000
# 7.777 credits a call, 33.33% to dev-carol: floor(7777 * 3333 / 10000) = 2592 mc a call.
SUMMARIZE = {"name": "Summarize", "pricing": {"type": "per_call", "credits": "7.777"},
             "developer_id": "dev-carol", "revenue_share_bps": 3333}
SHARE_MC = 7777 * 3333 // 10_000


def spend(caller: Caller, feature: str, key: str, **body) -> dict:
    reply = invoke("deduction_post_usage.json", caller=caller, body={"feature": feature, **body},
                   headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply.body


def earning_records(aws) -> list[dict]:
    """The stream's records that reach the earnings consumer, Lambda-shaped."""
    arn, records = streams.stream_records(aws, boto3.client("dynamodbstreams", region_name="us-east-1"),
                                          os.environ["TABLE_NAME"])
    return streams.selected_by("EarningsStreamFunction", streams.lambda_records(arn, records))


def deliver(records: list[dict]) -> dict:
    return streams.deliver("earnings_stream", records)
