"""An export of 100,000 entries: memory stays flat, the CSV adds up, the presigned URL downloads it.

The export's steps run as the state machine chains them (start, export_part until done, complete),
with the production part size (8 MiB) and step budgets, in a child process whose peak RSS
(``VmHWM``) is the measure: 10,000 entries of one day, then 100,000 entries of ten days at the same
rate. Export records live in DynamoDB Local, the CSV in the serialised moto server's S3; the admin
reads the export through ExportsFunction and downloads the CSV through its presigned URL, over
HTTP from moto on 127.0.0.1, and adds it up by type.

The entries themselves are synthetic: DynamoDB Local writes a few hundred items a second on this
machine, so seeding 110,000 would take minutes. The child's DynamoDB client answers the day index's
``Query`` requests itself (a ``before-call`` hook; every other request reaches DynamoDB Local): each
(day, shard) partition's entries in sort-key order, ``ExclusiveStartKey`` honoured, pages cut at 1 MB
as DynamoDB cuts them, handed over as botocore would have parsed them. Everything above botocore
is the real path: PynamoDB's paging, the merge of the day's 16 shards
(``analytics.transactions.iter_entries``), the CSV rows, the multipart upload.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.functional.fake_payouts import RecordingEngine
from tests.support import ADMIN, ROOT, invoke, set_workflow_engine

PER_DAY = 10_000
STEP_MS = 86_400_000 // PER_DAY
PAGE_BYTES = 1_000_000  # DynamoDB's page limit
_TYPES = ("usage", "usage", "usage", "purchase", "adjustment", "refund", "grant")


# -- the synthetic ledger (the child serves it, the test adds it up) ----------------------------

def entry(first_day: str, i: int) -> dict[str, Any]:
    """Entry ``i`` of a ledger starting on ``first_day``: ``PER_DAY`` entries a day, in time order."""
    day = dt.date.fromisoformat(first_day) + dt.timedelta(days=i // PER_DAY)
    ms = (i % PER_DAY) * STEP_MS
    created_at = f"{day.isoformat()}T{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    entry_type = _TYPES[i % len(_TYPES)]
    amount = {"usage": -(1 + i % 9_000), "purchase": 100_000 * (1 + i % 3), "adjustment": i % 2_001 - 1_000,
              "refund": -(i % 50_000), "grant": 1_000 * (i % 7)}[entry_type]
    return {"created_at": created_at, "transaction_id": f"tx_{i:010d}", "wallet_id": f"user:w{i % 997}",
            "type": entry_type, "amount": amount}


def expected_sums(first_day: str, count: int) -> Counter[str]:
    sums: Counter[str] = Counter()
    for i in range(count):
        e = entry(first_day, i)
        sums[e["type"]] += e["amount"]
    return sums


def _raw(first_day: str, i: int) -> dict[str, Any]:
    """Entry ``i`` as DynamoDB returns it (what the ledger stream leaves: balance_after and day index keys)."""
    from tollgate import keys

    e = entry(first_day, i)
    created_at, tx, wallet_id = e["created_at"], e["transaction_id"], e["wallet_id"]
    sort = keys.entry_lsi1sk(created_at, tx)
    pk, sk = keys.entry(wallet_id, tx)
    item = {"PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "ledger_entry"}, "LSI1SK": {"S": sort},
            "GSI2PK": {"S": keys.ledger_day_gsi2pk(created_at, tx)}, "GSI2SK": {"S": sort},
            "transaction_id": {"S": tx}, "wallet_id": {"S": wallet_id}, "type": {"S": e["type"]},
            "amount": {"N": str(e["amount"])}, "created_at": {"S": created_at}, "request_hash": {"S": "h" * 43},
            "actor": {"S": "user:root"}, "balance_after": {"N": str(1_000_000 + i)}}
    if e["type"] == "usage":
        item.update(feature={"S": "ai-insight"}, developer_id={"S": "dev-carol"})
    elif e["type"] == "purchase":
        item.update(reference={"S": f"purchase:pur_{i:010d}"}, metadata={"M": {
            "gateway": {"S": "stripe"}, "amount": {"N": "1000"}, "currency": {"S": "USD"},
            "package_id": {"S": "starter"}}})
    elif e["type"] == "adjustment":
        item["reason"] = {"S": "goodwill credit after an outage"}
    return item


class SyntheticDayIndex:
    """Answers the day index's Query requests (``GSI2``, ``LEDGER#<day>#<shard>``) from :func:`entry`."""

    def __init__(self, first_day: str, count: int) -> None:
        from tollgate import keys

        self.first_day, self.count = dt.date.fromisoformat(first_day), count
        # Each entry's shard, one byte apiece (0.1 MB for 100,000): a shard's entries are found with bytearray.find.
        self.shards = bytearray(int(keys.ledger_day_gsi2pk(e["created_at"], e["transaction_id"]).rsplit("#", 1)[1])
                                for e in (entry(first_day, i) for i in range(count)))
        self.per_page = PAGE_BYTES // len(json.dumps(_raw(first_day, 3)))  # purchase entries: the largest

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        query = json.loads(params["body"])
        values = [v["S"] for v in query.get("ExpressionAttributeValues", {}).values()]
        partition = next((v for v in values if v.startswith("LEDGER#")), None)
        if query.get("IndexName") != "GSI2" or partition is None:
            return None  # a real request: DynamoDB Local answers it
        # Oldest first, whole pages, no filter but PynamoDB's own on the item type (every entry here is one).
        names = set(query.get("ExpressionAttributeNames", {}).values())
        assert query.get("ScanIndexForward", True) and "Limit" not in query, query
        assert names <= {"GSI2PK", "GSI2SK", "entity"} and "ledger_entry" in values, query
        _, day, shard = partition.split("#")
        lo = (dt.date.fromisoformat(day) - self.first_day).days * PER_DAY
        hi = min(max(lo + PER_DAY, 0), self.count)
        start = max(lo, 0)
        bounds = [v for v in values if "#" in v and not v.startswith("LEDGER#")]  # GSI2SK > after
        start_key = (query.get("ExclusiveStartKey") or {}).get("GSI2SK", {}).get("S")
        for sort_key in [*bounds, *([start_key] if start_key else [])]:
            start = max(start, int(sort_key.rsplit("_", 1)[1]) + 1)
        items, position = [], start
        while len(items) < self.per_page and 0 <= position < hi:
            position = self.shards.find(int(shard), position, hi)
            if position < 0:
                break
            items.append(_raw(self.first_day.isoformat(), position))
            position += 1
        page: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items),
                                "ResponseMetadata": {"HTTPStatusCode": 200}}
        if len(items) == self.per_page and 0 <= position < hi and self.shards.find(int(shard), position, hi) >= 0:
            last = items[-1]
            page["LastEvaluatedKey"] = {k: last[k] for k in ("PK", "SK", "GSI2PK", "GSI2SK")}
        # As botocore would have parsed DynamoDB's answer (parsing it is botocore's cost, not the export's).
        return AWSResponse("http://127.0.0.1/", 200, {}, None), page


def _memory(field: str) -> int:
    """A /proc/self/status figure of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


def child(export_id: str, first_day: str, count: int) -> dict[str, Any]:
    """Run the export's steps in this process, as the state machine chains them; what it took."""
    from tollgate import data
    from tollgate.exports import repository, service

    data.client().meta.events.register("before-call.dynamodb.Query", SyntheticDayIndex(first_day, count))
    assert repository.get(export_id) is not None  # clients made, modules loaded: the baseline
    baseline, started = _memory("VmRSS"), time.monotonic()
    state = service.start({"export_id": export_id})
    steps = 0
    while not state["done"]:
        state = service.export_part(state)
        steps += 1
    done = service.complete(state)
    return {**done, "steps": steps, "parts": state["parts"], "seconds": round(time.monotonic() - started, 2),
            "baseline_rss": baseline, "peak_rss": _memory("VmHWM")}


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
    sys.exit(0)


# -- the test -------------------------------------------------------------------------------------

@pytest.fixture
def exports_env(ddb, moto_server, monkeypatch):
    """An export bucket on the moto server; the exports function reaches it, and its workflow is recorded."""
    from tests.integration.conftest import make_client

    bucket = f"exports-{os.getpid()}-{int(time.time() * 1000)}"
    make_client(moto_server.endpoint, "s3").create_bucket(Bucket=bucket)
    monkeypatch.setenv("EXPORT_BUCKET", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint)
    set_workflow_engine(RecordingEngine())
    yield {"bucket": bucket, "ddb": ddb, "moto": moto_server}
    set_workflow_engine(None)


def _run_child(env: dict[str, Any], export_id: str, first_day: str, count: int) -> dict[str, Any]:
    variables = {key: value for key, value in os.environ.items() if key.startswith(("AWS_", "POWERTOOLS_"))}
    variables.update(PATH=os.environ.get("PATH", ""), TABLE_NAME=env["ddb"].table, EXPORT_BUCKET=env["bucket"],
                     AWS_ENDPOINT_URL_DYNAMODB=env["ddb"].endpoint, AWS_ENDPOINT_URL_S3=env["moto"].endpoint,
                     AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", POWERTOOLS_LOG_LEVEL="WARNING",
                     PYTHONPATH=os.pathsep.join(str(p) for p in (ROOT, ROOT / "layers" / "tollgate", ROOT / "local")))
    result = subprocess.run([sys.executable, "-m", "tests.integration.test_export_scale", export_id, first_day,
                             str(count)], cwd=ROOT, env=variables, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _export(env: dict[str, Any], first_day: str, count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    last_day = (dt.date.fromisoformat(first_day) + dt.timedelta(days=(count - 1) // PER_DAY)).isoformat()
    reply = invoke("exports_post_export.json", caller=ADMIN, body={"from": first_day, "to": last_day})
    assert reply.status == 202, reply
    ran = _run_child(env, reply.body["export_id"], first_day, count)
    read = invoke("exports_get_export.json", caller=ADMIN, path=f"/v1/admin/exports/{reply.body['export_id']}",
                  path_params={"export_id": reply.body["export_id"]})
    assert read.status == 200, read
    return ran, read.body


def _download_sums(url: str) -> tuple[int, Counter[str], list[str]]:
    assert url.startswith("http://127.0.0.1:"), url  # moto, never AWS
    sums: Counter[str] = Counter()
    rows = 0
    with urllib.request.urlopen(url, timeout=60) as answer:
        reader = csv.reader(io.TextIOWrapper(answer, encoding="utf-8", newline=""))
        header = next(reader)
        kind, amount = header.index("type"), header.index("amount")
        for row in reader:
            rows += 1
            sums[row[kind]] += int(Decimal(row[amount]) * 1000)
    return rows, sums, header


def test_an_export_of_100000_entries_keeps_memory_flat_and_adds_up(exports_env, capsys):
    small, small_view = _export(exports_env, "2025-01-01", 10_000)
    large, large_view = _export(exports_env, "2025-02-01", 100_000)
    with capsys.disabled():
        for name, run in (("10k", small), ("100k", large)):
            print(f"\nexport {name}: {run['rows']} rows, {run['bytes']:,} bytes in {run['parts']} parts over "
                  f"{run['steps']} steps, {run['seconds']} s; RSS {run['baseline_rss'] / 2**20:.1f} MiB before, "
                  f"peak {run['peak_rss'] / 2**20:.1f} MiB")

    from tollgate.exports.service import PART_BYTES

    assert (small["rows"], large["rows"]) == (10_000, 100_000)
    assert (small["parts"], large["parts"]) == (1, 2)  # 1.1 MB: the last part alone; 11 MB: a full part, then the rest
    # Ten times the rows at the same rate a day: a step holds the pages of one day's shards either way. The larger
    # CSV fills a part (PART_BYTES, and its copy while it is sent), which the smaller never does; nothing else grows.
    grown = (large["peak_rss"] - large["baseline_rss"]) - (small["peak_rss"] - small["baseline_rss"])
    assert large["peak_rss"] < 1.5 * small["peak_rss"], (small, large)
    assert grown < 2 * PART_BYTES + 8 * 2**20, (small, large)

    for first_day, count, view in (("2025-01-01", 10_000, small_view), ("2025-02-01", 100_000, large_view)):
        assert (view["status"], view["rows"]) == ("completed", count), view
        rows, sums, header = _download_sums(view["url"])
        assert rows == count
        assert sums == expected_sums(first_day, count)
        assert header[:6] == ["created_at", "transaction_id", "wallet_id", "type", "amount", "balance_after"]
