"""Ledger exports end to end: ``statemachines/export.asl.json`` executed by moto (Start, the loop of
ExportPart steps, Complete; RecordFailure when a step fails) with the real step handlers against the
local stack's DynamoDB Local and moto's S3, requested by an admin over HTTP, and the CSV downloaded
through the presigned URL the export hands out (moto, on 127.0.0.1).

A CSV of several parts must pass 5 MiB (S3, and moto, take no smaller part but the last). DynamoDB
Local writes a few hundred items a second here, so the multi-part test seeds 38 fat entries (150 KB
of metadata each: far more than the API lets a caller attach, within what an item holds beside its
index copy) and a few dozen ordinary ones, rather than tens of thousands of ordinary entries. Each ExportPart step is held
to one part (``STEP_ROWS = 1``, set inside the step function's container) so the loop runs once per part.
"""

from __future__ import annotations

import csv
import io
import urllib.request
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.workflow.conftest import wait_for

MIB = 1024 * 1024
SERVICE = "tollgate.exports.service"


@pytest.fixture(scope="module")
def admin(stack) -> str:
    return stack.signer.token("admin", ["admin", "user"])


@pytest.fixture(scope="module")
def s3(stack) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=stack.moto.endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def bucket(stack) -> str:
    from tollgate_local.stack import resource_names

    return resource_names()["ExportBucket"]


@pytest.fixture
def steps(stack):
    """steps(NAME=value): set the export service's limits inside the step function's container (put back after)."""
    function = stack.registry.get("ExportStepsFunction")
    saved = {name: function.read_global(SERVICE, name) for name in ("PART_BYTES", "STEP_ROWS")}

    def configure(**values: int) -> None:
        for name, value in values.items():
            function.write_global(SERVICE, name, value)

    yield configure
    configure(**saved)


def seed(day: str, count: int, *, fat: int = 0, tag: str) -> Counter[str]:
    """``count`` entries on ``day`` (listed in the day index, as the stream leaves them); their sums by type."""
    from tollgate import keys
    from tollgate.ledger.models import LedgerEntryItem

    sums: Counter[str] = Counter()
    kinds = (("usage", -1_250), ("purchase", 50_000), ("adjustment", -3), ("refund", -20_000))
    with LedgerEntryItem.batch_write() as batch:
        for i in range(count):
            entry_type, unit = kinds[i % len(kinds)]
            created_at = f"{day}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
            tx = f"tx_{tag}_{i:05d}"
            metadata = {"note": "n" * fat} if fat else {"gateway": "stripe", "amount": 500, "currency": "USD"}
            item = LedgerEntryItem.new(wallet_id=f"user:{tag}-{i % 7}", transaction_id=tx, created_at=created_at,
                                       type=entry_type, amount=unit * (i % 5 + 1), balance_after=10 ** 6,
                                       request_hash="h", actor="user:root", feature="ai-insight",
                                       reason="exported", metadata=metadata)
            item.gsi2pk, item.gsi2sk = keys.ledger_day_gsi2pk(created_at, tx), keys.entry_lsi1sk(created_at, tx)
            batch.save(item)
            sums[entry_type] += item.amount
    return sums


def export(api: Client, admin: str, body: dict[str, Any], timeout_s: float = 120.0) -> dict[str, Any]:
    reply = api.post("/v1/admin/exports", token=admin, body=body)
    assert reply.status == 202, reply
    export_id = reply.body["export_id"]

    def probe() -> dict[str, Any] | None:
        answer = api.get(f"/v1/admin/exports/{export_id}", token=admin)
        assert answer.status == 200, answer
        return answer.body if answer.body["status"] != "running" else None

    return wait_for(f"export {export_id}", probe, timeout_s)


def states_entered(stack, export_id: str) -> list[str]:
    import boto3

    from tollgate_local.intrinsics import ACCOUNT, REGION
    from tollgate_local.stack import resource_names

    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto.endpoint, region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{resource_names()['ExportWorkflow']}:{export_id}"
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_a_csv_of_several_parts_is_written_part_by_part_and_downloads_through_its_presigned_url(
        stack, api, admin, steps, s3, bucket):
    steps(PART_BYTES=5 * MIB, STEP_ROWS=1)
    seeded = seed("2025-06-10", 38, fat=150_000, tag="fat")
    seeded.update(seed("2025-06-11", 40, tag="thin"))
    seed("2025-06-12", 3, tag="outside")  # past the range
    done = export(api, admin, {"from": "2025-06-09", "to": "2025-06-11"})
    assert (done["status"], done["rows"], done["error"]) == ("completed", 78, None), done
    assert done["size_bytes"] > 5 * MIB

    export_id = done["export_id"]
    entered = states_entered(stack, export_id)
    assert entered == ["Start", "ExportPart", "MoreRows", "ExportPart", "MoreRows", "Complete"], entered
    head = s3.head_object(Bucket=bucket, Key=f"exports/{export_id}.csv")
    assert head["ETag"].endswith('-2"'), head  # a multipart object of 2 parts
    assert (head["ContentLength"], head["ServerSideEncryption"]) == (done["size_bytes"], "AES256")

    url = done["url"]
    assert url.startswith(f"{stack.moto.endpoint}/{bucket}/exports/{export_id}.csv?"), url
    limit = csv.field_size_limit(MIB)  # the fat rows' metadata cells are past the csv module's 128 KiB
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert answer.headers["Content-Disposition"] == \
                'attachment; filename="tollgate-ledger-2025-06-09-to-2025-06-11.csv"'
            rows = list(csv.DictReader(io.TextIOWrapper(answer, encoding="utf-8", newline="")))
    finally:
        csv.field_size_limit(limit)
    assert len(rows) == 78
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    sums: Counter[str] = Counter()
    for row in rows:
        sums[row["type"]] += int(Decimal(row["amount"]) * 1000)
    assert sums == seeded
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None


def test_a_step_that_keeps_failing_aborts_the_upload_and_marks_the_export_failed(stack, api, admin, steps, s3,
                                                                                  bucket):
    # Parts under S3's 5 MiB minimum: each is taken, and completing the upload is refused (EntityTooSmall).
    steps(PART_BYTES=2048, STEP_ROWS=10 ** 6)
    seed("2025-07-01", 40, tag="small")
    done = export(api, admin, {"from": "2025-07-01", "to": "2025-07-01"})
    assert (done["status"], done["url"], done["rows"]) == ("failed", None, 0), done
    assert "EntityTooSmall" in done["error"], done
    assert states_entered(stack, done["export_id"])[-3:] == ["Complete", "RecordFailure", "ExportFailed"]
    key = f"exports/{done['export_id']}.csv"
    assert not [u for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or [] if u["Key"] == key]
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key=key)
