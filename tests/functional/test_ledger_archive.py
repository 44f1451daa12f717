"""The ledger archive: entries older than LEDGER_ARCHIVE_DAYS move to S3 through the real
LedgerArchiveFunction handler; history pages across the boundary as if nothing moved, and the
ledger reconciles (live entries + archived total == balance) before, during and after.

Time moves with the project's clock (``advance_clock``), never by sleeping; the wallets the
archiver visits are the ones the real ledger stream consumer marked changed.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

from tests import streams
from tests.functional.developers import spend
from tests.support import (
    ADMIN,
    ALICE,
    LambdaContext,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    load_function,
    patch_layer,
    sample_event,
)
from tollgate import clock, keys

BUCKET = "tollgate-ledger-archive-test"
DAY_MS = 86_400_000
WALLET = "user:alice"
OLD, NEW = 12, 8  # debits past the window, and within it


@pytest.fixture
def archive_bucket(aws, monkeypatch):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("LEDGER_ARCHIVE_BUCKET", BUCKET)
    return s3


@pytest.fixture
def stream(aws):
    return streams.LedgerStream(aws)


def archive_run() -> dict:
    return load_function("ledger_archive").lambda_handler(sample_event("ledger_archive_schedule.json"),
                                                          LambdaContext())


def history(limit: int, **query) -> list[dict]:
    """Every entry, page by page (``limit`` a page), and each page's size."""
    entries, cursor, pages = [], None, 0
    while True:
        params = {"limit": str(limit), **query, **({"cursor": cursor} if cursor else {})}
        reply = invoke("history_get_history.json", query=params)
        assert reply.status == 200, reply
        assert len(reply.body["data"]) <= limit
        entries += reply.body["data"]
        cursor = reply.body["next_cursor"]
        pages += 1
        assert pages < 200
        if cursor is None:
            return entries


def objects(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture
def old_and_new(catalog, fund, stream, archive_bucket):
    """Alice funded and 12 debits on day 0; 8 more 150 days on; now 403 days after day 0, so day 0's
    13 entries are past the 400-day window and the 8 are not."""
    fund(WALLET, "1000")
    for i in range(OLD):
        spend(ALICE, "ai-insight", f"old-{i}")
    assert stream.drain()["batchItemFailures"] == []
    advance_clock(150 * DAY_MS)
    for i in range(NEW):
        spend(ALICE, "ai-analysis", f"new-{i}")
    assert stream.drain()["batchItemFailures"] == []
    advance_clock(253 * DAY_MS)
    return history(limit=7)


def test_a_wallet_pages_through_entries_on_both_sides_of_the_boundary_in_order(old_and_new, archive_bucket):
    before = old_and_new
    assert len(before) == 1 + OLD + NEW
    state = assert_ledger_invariant(WALLET)

    report = archive_run()
    assert (report["entries"], report["wallets"]) == (1 + OLD, 1), report
    after = ledger_state(WALLET)
    assert len(after["entries"]) == NEW  # only the newer entries are left in the table
    assert after["archived"] == 1000_000 - OLD * 9_000 and after["balance"] == state["balance"]
    assert_ledger_invariant(WALLET)  # live entries + archived == balance

    for limit in (3, 4, 8, 10, 100):  # pages that end at, cross and straddle the boundary
        assert history(limit=limit) == before
    keys_written = objects(archive_bucket)
    assert keys_written and all(k.startswith(f"ledger/wallet={WALLET}/month=") and k.endswith(".jsonl")
                                for k in keys_written)
    # Each line is DynamoDB's own JSON: every amount exact.
    body = archive_bucket.get_object(Bucket=BUCKET, Key=keys_written[0])["Body"].read().decode()
    first = json.loads(body.splitlines()[0])["Item"]
    assert first["entity"] == {"S": "ledger_entry"} and "N" in first["amount"]

    reconciliation = invoke("admin_get_reconciliation.json", caller=ADMIN,
                            path=f"/v1/admin/wallets/{WALLET}/reconciliation", path_params={"wallet_id": WALLET})
    assert reconciliation.status == 200, reconciliation
    assert reconciliation.body["consistent"] is True
    assert (reconciliation.body["entries"], reconciliation.body["archived_entries"]) == (1 + OLD + NEW, 1 + OLD)
    assert reconciliation.body["archived_sum"] == str(1000 - OLD * 9)


def test_filters_apply_across_the_boundary(old_and_new):
    archive_run()
    newest_old = [e for e in old_and_new if e["created_at"] < clock.iso(clock.now_ms() - 400 * DAY_MS)]
    assert history(limit=2, type="adjustment") == [e for e in old_and_new if e["type"] == "adjustment"]
    assert history(limit=3, type="usage") == [e for e in old_and_new if e["type"] == "usage"]
    until = newest_old[5]["created_at"]
    assert history(limit=3, until=until) == [e for e in old_and_new if e["created_at"] <= until]


def test_a_second_run_archives_nothing_and_a_run_cut_short_after_writing_s3_loses_nothing(
        old_and_new, archive_bucket, monkeypatch):
    from tollgate.data import StoreUnavailable

    def unavailable(*_args, **_kwargs):
        raise StoreUnavailable("InternalServerError")

    # The page's object is written, then DynamoDB fails the transaction: the run fails, nothing moves.
    patch_layer(monkeypatch, "tollgate.ledger.archiver", "_move", unavailable)
    with pytest.raises(Exception) as raised:  # the function's own copy of StoreUnavailable
        archive_run()
    assert type(raised.value).__name__ == "StoreUnavailable"
    orphans = objects(archive_bucket)
    assert orphans
    assert len(ledger_state(WALLET)["entries"]) == 1 + OLD + NEW and ledger_state(WALLET)["archived"] == 0
    assert history(limit=10) == old_and_new
    monkeypatch.undo()
    os.environ["LEDGER_ARCHIVE_BUCKET"] = BUCKET

    assert archive_run()["entries"] == 1 + OLD  # the retry writes the same objects, then moves the entries once
    assert set(orphans) <= set(objects(archive_bucket))
    written = objects(archive_bucket)
    assert archive_run()["entries"] == 0
    assert objects(archive_bucket) == written
    state = assert_ledger_invariant(WALLET)
    assert len(state["entries"]) == NEW
    assert history(limit=9) == old_and_new


def test_the_reconciliation_job_counts_the_archive_and_finds_a_corrupted_total(aws, old_and_new, stream, capsys):
    archive_run()
    spend(ALICE, "ai-insight", "after-archive")  # changes the wallet today: the job checks it
    assert stream.drain()["batchItemFailures"] == []
    job = load_function("reconciliation").lambda_handler
    summary = job(sample_event("reconciliation_schedule.json"), LambdaContext())
    assert summary["wallets_checked"] >= 1 and summary["findings"] == 0, summary

    aws.update_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": keys.wallet_pk(WALLET)}, "SK": {"S": "ARCHIVE"}},
                    UpdateExpression="ADD archived_total :one", ExpressionAttributeValues={":one": {"N": "1"}})
    spend(ALICE, "ai-insight", "after-corruption")
    assert stream.drain()["batchItemFailures"] == []
    summary = job(sample_event("reconciliation_schedule.json"), LambdaContext())
    assert summary["findings"] == 1, summary
    reply = invoke("reconciliation_list_findings.json", caller=ADMIN,
                   query={"from": clock.iso(clock.now_ms())[:10], "to": clock.iso(clock.now_ms())[:10]})
    (finding,) = [f for f in reply.body["data"] if f["wallet_id"] == WALLET]
    assert finding["kind"] == "ledger_sum" and "archived" in finding["detail"]


def test_a_cursor_into_another_wallets_archive_is_422(old_and_new):
    import base64

    archive_run()
    fake = {"k": {"archive_object": "ledger/wallet=user:bob/month=2025-01/ff.jsonl", "archive_line": "0"}, "s": "x"}
    cursor = base64.urlsafe_b64encode(json.dumps(fake).encode()).decode().rstrip("=")
    reply = invoke("history_get_history.json", query={"limit": "5", "cursor": cursor})
    assert reply.status == 422 and reply.error_code == "validation_error"


def test_the_changed_wallet_sets_outlive_the_archive_window(aws, catalog, fund, stream, monkeypatch):
    """The archiver reads a day's changed wallets LEDGER_ARCHIVE_DAYS later: the sets must still be there."""
    from tollgate.data import TTL_ATTRIBUTE

    monkeypatch.setenv("LEDGER_ARCHIVE_DAYS", "90")
    fund(WALLET, "10")
    assert stream.drain()["batchItemFailures"] == []
    day = clock.iso(clock.now_ms())[:10]
    items = [i for shard in range(keys.RECON_SHARDS)
             for i in aws.query(TableName=os.environ["TABLE_NAME"], KeyConditionExpression="PK = :p",
                                ExpressionAttributeValues={":p": {"S": keys.recon_changed_pk(day, shard)}})["Items"]]
    wallets = [i for i in items if i["SK"]["S"].startswith(keys.RECON_WALLETS)]
    assert wallets and all(WALLET in i["subjects"]["SS"] for i in wallets)
    for item in wallets:
        kept_days = (int(item[TTL_ATTRIBUTE]["N"]) - clock.now_ms() // 1000) / 86_400
        assert 94 < kept_days <= 95


def test_many_pages_over_several_months_archive_and_page_back_exactly(catalog, fund, stream, archive_bucket,
                                                                     monkeypatch):
    """More entries than one page (the page made 5 entries here; 99 as deployed, a transaction's 100
    items less the totals' update), over three months: several pages, one object per month of each
    page, and history still equal to what it was."""
    from tollgate.ledger import archiver

    assert archiver.PAGE + 1 <= 100  # DynamoDB's limit of items in one transaction
    patch_layer(monkeypatch, "tollgate.ledger.archiver", "PAGE", 5)
    fund(WALLET, "5000")
    for month in range(3):
        for i in range(6):
            spend(ALICE, "ai-insight", f"m{month}-{i}")
        assert stream.drain()["batchItemFailures"] == []
        advance_clock(31 * DAY_MS)
    advance_clock((403 - 31) * DAY_MS)  # the last group is now 403 days old
    before = history(limit=4)
    assert len(before) == 19
    report = archive_run()
    assert report["entries"] == 19 and report["objects"] >= 5, report  # 4 pages over 3 months
    assert ledger_state(WALLET)["entries"] == []
    assert_ledger_invariant(WALLET)
    months = {k.split("/month=")[1][:7] for k in objects(archive_bucket)}
    assert len(months) == 3
    assert history(limit=4) == before
    assert history(limit=7, type="usage") == [e for e in before if e["type"] == "usage"]


def test_a_sharded_wallet_archives_from_all_its_partitions_and_pages_back_through_them(
        catalog, fund, stream, archive_bucket):
    """Sharded on day 0: its debits are in its slots. Only sharded-wallet changes mark it changed after
    that (no grant book is written for it), so the archiver still finds it; it moves day 0's entries
    from the wallet's partition and every slot, oldest first, and the history pages on into the
    archive as an unsharded wallet's does."""
    fund(WALLET, "1000")
    assert stream.drain()["batchItemFailures"] == []
    advance_clock(DAY_MS)
    reshard = invoke("admin_put_wallet_shards.json", caller=ADMIN, body={"count": 4},
                     path=f"/v1/admin/wallets/{WALLET}/shards", path_params={"wallet_id": WALLET})
    assert reshard.status == 200, reshard
    for i in range(OLD):
        spend(ALICE, "ai-insight", f"old-{i}")
    assert stream.drain()["batchItemFailures"] == []
    advance_clock(150 * DAY_MS)
    for i in range(NEW):
        spend(ALICE, "ai-analysis", f"new-{i}")
    assert stream.drain()["batchItemFailures"] == []
    advance_clock(253 * DAY_MS)
    before = history(limit=7)
    assert len(before) == 1 + OLD + NEW
    state = assert_ledger_invariant(WALLET)
    slotted = [e for e in before if e["type"] == "usage"]
    assert len({keys.entry_slot(e["transaction_id"]) for e in slotted}) > 1  # spread over several slots

    report = archive_run()
    # Visited for each day it changed: the funding's (its book) and the sharded debits' (marked on
    # their own); the second visit finds nothing left to move.
    assert (report["entries"], report["wallets"]) == (1 + OLD, 2), report
    after = ledger_state(WALLET)
    assert len(after["entries"]) == NEW and after["balance"] == state["balance"]
    assert after["archived"] == 1000_000 - OLD * 9_000
    assert_ledger_invariant(WALLET)
    for limit in (3, 7, 8, 9, 100):  # pages that end at, cross and straddle the boundary
        assert history(limit=limit) == before
    assert archive_run()["entries"] == 0  # visited again: nothing more to move
