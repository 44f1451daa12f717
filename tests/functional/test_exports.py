"""Ledger exports: the routes (202, 422s, 403, 404, 503) and the workflow's steps writing the CSV.

The export as a whole (``statemachines/export.asl.json`` executed, its loop of parts, the failure
path) is tested in tests/workflow/test_export_workflow.py, and 100,000 entries with flat memory in
tests/integration/test_export_scale.py; here each piece is driven through its handler against moto,
with a recording workflow engine, and the steps run in-process as the state machine chains them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.functional.fake_payouts import RecordingEngine
from tests.support import ADMIN, ALICE, Caller, LambdaContext, advance_clock, invoke, load_function, set_workflow_engine

BUCKET = "tollgate-exports-test"
DEVELOPER = Caller("dev-carol", roles=("developer", "user"))


@pytest.fixture
def bucket(aws, monkeypatch):
    import boto3

    monkeypatch.setenv("EXPORT_BUCKET", BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture
def engine(bucket):
    recording = RecordingEngine()
    set_workflow_engine(recording)
    yield recording
    set_workflow_engine(None)


def post(body: Any, caller: Caller = ADMIN):
    return invoke("exports_post_export.json", caller=caller, body=body)


def get(export_id: str, caller: Caller = ADMIN):
    return invoke("exports_get_export.json", caller=caller, path=f"/v1/admin/exports/{export_id}",
                  path_params={"export_id": export_id})


def listing(caller: Caller = ADMIN, **query: str):
    return invoke("exports_list_exports.json", caller=caller, query=query)


def step(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("export_workflow").lambda_handler(event, LambdaContext())


def run(export_id: str) -> tuple[dict[str, Any], int]:
    """The workflow's steps as the state machine chains them: its final output and how many parts steps ran."""
    state = step({"step": "start", "export_id": export_id})
    loops = 0
    while True:
        state = step({**state, "step": "export_part"})
        loops += 1
        if state["done"]:
            return step({**state, "step": "complete"}), loops


def seed(created_at: str, tx: str, wallet_id: str, entry_type: str, amount: int, **fields: Any) -> None:
    """An entry as the ledger stream leaves it: listed in the day index."""
    from tollgate import keys
    from tollgate.ledger.models import LedgerEntryItem

    item = LedgerEntryItem.new(wallet_id=wallet_id, transaction_id=tx, created_at=created_at, type=entry_type,
                               amount=amount, request_hash="h", actor=fields.pop("actor", "user:root"), **fields)
    item.gsi2pk, item.gsi2sk = keys.ledger_day_gsi2pk(created_at, tx), keys.entry_lsi1sk(created_at, tx)
    item.save()


def csv_of(s3, export_id: str) -> list[dict[str, str]]:
    body = s3.get_object(Bucket=BUCKET, Key=f"exports/{export_id}.csv")["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


@pytest.fixture
def ledger(aws):
    """A few entries of 2026-03-02..03 (and one each side of that range), every column exercised."""
    seed("2026-03-01T23:59:59.999Z", "tx_before", "user:alice", "usage", -1000, feature="ai-insight")
    seed("2026-03-02T08:00:00.000Z", "tx_purchase", "user:alice", "purchase", 100_000, balance_after=100_000,
         reference="purchase:pur_abc", actor="gateway:stripe",
         metadata={"gateway": "stripe", "amount": 1000, "currency": "USD", "package_id": "starter"})
    seed("2026-03-02T09:30:00.500Z", "tx_usage", "user:alice", "usage", -12_500, balance_after=87_500,
         feature="summarize", developer_id="dev-carol", metadata={"job": "a,b \"c\"", "ratio": "0.25"})
    seed("2026-03-02T10:00:00.000Z", "tx_adjust", "org:acme", "adjustment", 3, reason="=HYPERLINK(\"x\")")
    seed("2026-03-03T11:00:00.000Z", "tx_refund", "user:alice", "refund", -40_000, balance_after=47_500,
         reference="purchase:pur_abc", reason="changed my mind",
         metadata={"refund_id": "rfd_1", "refunded_minor": 400, "currency": "USD"})
    seed("2026-03-03T12:00:00.000Z", "tx_chargeback", "user:bob", "chargeback", -5_000, actor="gateway:paystack",
         reference="purchase:pur_ng", metadata={"source": "dispute:d1", "refunded_minor": 50_000, "currency": "NGN"})
    seed("2026-03-04T00:00:00.000Z", "tx_after", "user:alice", "usage", -1000, feature="ai-insight")


# -- the routes -------------------------------------------------------------------------------

def test_an_export_is_recorded_running_its_workflow_started_and_it_reads_back(engine):
    reply = post({"from": "2026-03-02", "to": "2026-03-03", "type": "usage"})
    assert reply.status == 202, reply
    export_id = reply.body["export_id"]
    assert export_id.startswith("exp_")
    assert (reply.body["status"], reply.body["from_date"], reply.body["to_date"], reply.body["type"]) == (
        "running", "2026-03-02", "2026-03-03", "usage")
    assert (reply.body["rows"], reply.body["url"], reply.body["requested_by"]) == (0, None, "user:root")
    assert (engine.started, engine.workflows) == ([export_id], ["export"])
    again = get(export_id)
    assert again.status == 200, again
    assert again.body == reply.body


@pytest.mark.parametrize("body, field", [
    ({"from": "2026-03-04", "to": "2026-03-03"}, "from"),  # from after to
    ({"from": "2025-03-01", "to": "2026-03-02"}, "to"),  # 367 days
    ({"from": "2026-02-30", "to": "2026-03-02"}, "from"),  # not a calendar date
    ({"from": "2026-3-1", "to": "2026-03-02"}, "from"),
    ({"from": "1969-12-31", "to": "2026-03-02"}, "from"),
    ({"from": "2026-03-01"}, "to"),
    ({"from": "2026-03-01", "to": "2026-03-02", "type": "bonus"}, "type"),
    ({"from": "2026-03-01", "to": "2026-03-02", "format": "xlsx"}, "format"),
    ({"from": 20260301, "to": "2026-03-02"}, "from"),
])
def test_a_bad_range_is_422_and_nothing_starts(engine, body, field):
    reply = post(body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert field in str(reply.body["error"]), reply
    assert engine.started == []


def test_a_range_of_exactly_366_days_is_taken(engine):
    assert post({"from": "2025-03-03", "to": "2026-03-03"}).status == 202


@pytest.mark.parametrize("caller", [ALICE, DEVELOPER])
def test_only_admins_export(engine, caller):
    assert (post({"from": "2026-03-02", "to": "2026-03-03"}, caller).status, engine.started) == (403, [])
    assert get("exp_whatever", caller).status == 403


def test_an_unknown_export_is_404(engine):
    reply = get("exp_nosuchexport")
    assert (reply.status, reply.error_code) == (404, "not_found"), reply


def test_a_workflow_that_cannot_start_is_503_and_the_export_reads_failed(engine):
    engine.fail_start = True
    reply = post({"from": "2026-03-02", "to": "2026-03-03"})
    assert (reply.status, reply.error_code) == (503, "try_again"), reply
    export_id = reply.body["error"]["export_id"]
    failed = get(export_id).body
    assert (failed["status"], failed["url"]) == ("failed", None)
    assert "could not start" in failed["error"]


def test_exports_list_newest_first_a_page_at_a_time(engine):
    started = []
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        started.append(post({"from": day, "to": day}).body["export_id"])
        advance_clock(1_000)
    first = listing(limit="2")
    assert first.status == 200, first
    assert [e["export_id"] for e in first.body["data"]] == started[:0:-1]
    assert first.body["data"][0] == get(started[2]).body  # each as reading it gives
    second = listing(limit="2", cursor=first.body["next_cursor"])
    assert [e["export_id"] for e in second.body["data"]] == [started[0]]
    assert second.body["next_cursor"] is None


def test_the_list_of_exports_refuses_a_foreign_cursor_and_non_admins(engine):
    post({"from": "2026-03-01", "to": "2026-03-01"})
    post({"from": "2026-03-02", "to": "2026-03-02"})
    from tollgate import cursors

    # Well-formed and of this list's scope, but pointing into another partition of the index (API keys').
    elsewhere = cursors.encode({"PK": {"S": "APIKEY#k"}, "SK": {"S": "APIKEY"}, "GSI1PK": {"S": "APIKEYS"},
                                "GSI1SK": {"S": "2026-03-01T00:00:00.000Z#k"}}, cursors.scope("exports"))
    for cursor in ("not-a-cursor", elsewhere):
        reply = listing(cursor=cursor)
        assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert listing(ALICE).status == 403
    assert listing(limit="0").status == 422


# -- the steps and the CSV --------------------------------------------------------------------

def test_the_csv_has_one_row_per_entry_of_the_range_oldest_first(engine, bucket, ledger):
    export_id = post({"from": "2026-03-02", "to": "2026-03-03"}).body["export_id"]
    done, loops = run(export_id)
    assert (done["status"], done["rows"], loops) == ("completed", 5, 1)
    rows = csv_of(bucket, export_id)
    assert [r["transaction_id"] for r in rows] == ["tx_purchase", "tx_usage", "tx_adjust", "tx_refund", "tx_chargeback"]
    purchase, usage, adjust, refund, chargeback = rows
    assert purchase == {
        "created_at": "2026-03-02T08:00:00.000Z", "transaction_id": "tx_purchase", "wallet_id": "user:alice",
        "type": "purchase", "amount": "100", "balance_after": "100", "feature": "", "developer_id": "",
        "reference": "purchase:pur_abc", "purchase_id": "pur_abc", "refund_id": "", "gateway": "stripe",
        "currency": "USD", "money_minor": "1000", "reason": "",
        "metadata": '{"amount":1000,"currency":"USD","gateway":"stripe","package_id":"starter"}'}
    assert (usage["amount"], usage["balance_after"], usage["feature"], usage["developer_id"]) == (
        "-12.5", "87.5", "summarize", "dev-carol")
    assert (usage["gateway"], usage["currency"], usage["money_minor"]) == ("", "", "")  # caller metadata is not money
    assert usage["metadata"] == '{"job":"a,b \\"c\\"","ratio":"0.25"}'
    assert (adjust["amount"], adjust["balance_after"], adjust["wallet_id"]) == ("0.003", "", "org:acme")
    assert adjust["reason"] == "'=HYPERLINK(\"x\")"  # no spreadsheet runs it as a formula
    assert (refund["refund_id"], refund["money_minor"], refund["currency"], refund["purchase_id"]) == (
        "rfd_1", "400", "USD", "pur_abc")
    assert (chargeback["gateway"], chargeback["money_minor"], chargeback["currency"]) == ("paystack", "50000", "NGN")

    reply = get(export_id).body
    assert (reply["status"], reply["rows"]) == ("completed", 5)
    body = bucket.get_object(Bucket=BUCKET, Key=f"exports/{export_id}.csv")
    assert reply["size_bytes"] == body["ContentLength"]
    assert body["ContentType"] == "text/csv; charset=utf-8"
    assert body["ServerSideEncryption"] == "AES256"
    assert reply["url"].startswith(f"https://{BUCKET}.s3.amazonaws.com/exports/{export_id}.csv?"), reply
    assert "X-Amz-Expires=900" in reply["url"]
    assert reply["url_expires_at"] > reply["completed_at"]
    assert bucket.list_multipart_uploads(Bucket=BUCKET).get("Uploads") is None


def test_a_type_filter_exports_that_type_alone(engine, bucket, ledger):
    export_id = post({"from": "2026-03-01", "to": "2026-03-04", "type": "usage"}).body["export_id"]
    assert run(export_id)[0]["rows"] == 3
    assert [r["transaction_id"] for r in csv_of(bucket, export_id)] == ["tx_before", "tx_usage", "tx_after"]


def test_an_empty_range_is_a_header_only_csv(engine, bucket, ledger):
    from tollgate.exports.service import COLUMNS

    export_id = post({"from": "2027-01-01", "to": "2027-01-02"}).body["export_id"]
    assert run(export_id)[0]["rows"] == 0
    body = bucket.get_object(Bucket=BUCKET, Key=f"exports/{export_id}.csv")["Body"].read().decode()
    assert body == ",".join(COLUMNS) + "\r\n"
    assert get(export_id).body["url"] is not None


def test_a_retried_part_step_sends_the_same_part_again(engine, bucket, ledger):
    export_id = post({"from": "2026-03-02", "to": "2026-03-03"}).body["export_id"]
    state = step({"step": "start", "export_id": export_id})
    assert step({"step": "start", "export_id": export_id})["upload_id"] == state["upload_id"]  # retried: one upload
    first = step({**state, "step": "export_part"})
    assert step({**state, "step": "export_part"}) == first
    step({**first, "step": "complete"})
    assert step({**first, "step": "complete"})["status"] == "completed"  # retried after completing: still completed
    assert len(csv_of(bucket, export_id)) == 5


def test_a_failure_aborts_the_upload_and_marks_the_export_failed(engine, bucket, ledger):
    export_id = post({"from": "2026-03-02", "to": "2026-03-03"}).body["export_id"]
    state = step({"step": "start", "export_id": export_id})
    assert len(bucket.list_multipart_uploads(Bucket=BUCKET)["Uploads"]) == 1
    step({**state, "step": "record_failure", "error": {"Error": "States.Timeout", "Cause": "the step timed out"}})
    assert bucket.list_multipart_uploads(Bucket=BUCKET).get("Uploads") is None
    failed = get(export_id).body
    assert (failed["status"], failed["error"], failed["url"]) == ("failed", "States.Timeout: the step timed out", None)
    assert step({"step": "record_failure", "export_id": export_id, "error": {}})["status"] == "failed"  # again: no-op


def test_an_export_expires_with_its_csv(engine):
    from tollgate.exports import repository

    reply = post({"from": "2026-03-02", "to": "2026-03-03"})
    item = repository.get(reply.body["export_id"])
    assert item is not None
    from tollgate import clock

    created_s = clock.parse_rfc3339(item.created_at) // 1000
    assert item.ttl_epoch == created_s + 8 * 86_400
