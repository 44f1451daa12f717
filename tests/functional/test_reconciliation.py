"""The reconciliation job: wallets and developers the stream consumers marked changed are checked
(entries = balance, holds = reserved, available = balance - reserved, grants = balance, earnings
add up), each discrepancy recorded once, ``ReconciliationFindings`` emitted once per run (0 when
clean); the checkpoint moves only over days read to their end, and wallets not changed since are
not read. Money moves through the real handlers; the table's stream (moto) is handed to the real
ledger_stream and earnings_stream handlers, as Lambda would. Terminal refunds and payouts against
their workflow's record are here; against their gateway's, in ``test_reconciliation_gateways``.
"""

from __future__ import annotations

import json
import os

import pytest

from tests import streams
from tests.functional import developers
from tests.functional.developers import CAROL, spend
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    LambdaContext,
    advance_clock,
    assert_earnings_invariant,
    assert_ledger_invariant,
    invoke,
    load_function,
    patch_layer,
    sample_event,
)
from tollgate import clock, keys
from tollgate.gateways import Refund

DAY_MS = 86_400_000


@pytest.fixture
def stream(aws):
    return streams.LedgerStream(aws)


def scheduled(capsys) -> tuple[dict, list[int]]:
    """Run the job as its schedule does; its summary and the ReconciliationFindings it emitted."""
    capsys.readouterr()
    summary = load_function("reconciliation").lambda_handler(sample_event("reconciliation_schedule.json"),
                                                              LambdaContext())
    return summary, emitted(capsys)


def manual(capsys) -> tuple[dict, list[int]]:
    capsys.readouterr()
    reply = invoke("reconciliation_post_run.json", caller=ADMIN)
    assert reply.status == 200, reply
    return reply.body, emitted(capsys)


def emitted(capsys) -> list[int]:
    values = []
    for line in capsys.readouterr().out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc and "ReconciliationFindings" in doc:
            metric = doc["_aws"]["CloudWatchMetrics"][0]
            assert metric["Namespace"] == "Tollgate"
            assert metric["Dimensions"] == [["service"]] and doc["service"] == "tollgate"
            value = doc["ReconciliationFindings"]  # Powertools writes a list of the values added
            (single,) = value if isinstance(value, list) else [value]
            assert single == int(single)
            values.append(int(single))
    return values


def findings(**query) -> list[dict]:
    reply = invoke("reconciliation_list_findings.json", caller=ADMIN, query={"from": today(), "to": today(), **query})
    assert reply.status == 200, reply
    return reply.body["data"]


def today() -> str:
    return clock.iso(clock.now_ms())[:10]


def grant(wallet_id: str, amount: str, key: str) -> None:
    reply = invoke("admin_post_grant.json", caller=ADMIN, body={"amount": amount, "reason": "recon"},
                   headers={"idempotency-key": key}, path=f"/v1/admin/wallets/{wallet_id}/grants",
                   path_params={"wallet_id": wallet_id})
    assert reply.status == 201, reply


def corrupt(aws, key: tuple[str, str], expression: str, values: dict, names: dict | None = None) -> None:
    """Change an item behind the application's back (what reconciliation exists to notice)."""
    aws.update_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": key[0]}, "SK": {"S": key[1]}},
                    UpdateExpression=expression, ExpressionAttributeValues=values,
                    **({"ExpressionAttributeNames": names} if names else {}))


def test_a_clean_run_checks_the_changed_wallets_and_developers_and_emits_zero(stream, developer_catalog, fund,
                                                                             capsys):
    fund("user:alice", "100")
    fund("user:bob", "50")
    spend(ALICE, "ai-insight", "r-1")
    spend(ALICE, "summarize", "r-2")
    grant("user:bob", "25", "r-3")
    assert stream.drain()["batchItemFailures"] == []
    developers.deliver(developers.earning_records(stream.aws))
    for wallet in ("user:alice", "user:bob"):
        assert_ledger_invariant(wallet)
    assert_earnings_invariant("dev-carol")

    summary, metric = scheduled(capsys)
    assert summary["source"] == "schedule" and summary["status"] == "completed" and summary["complete"] is True
    assert (summary["wallets_checked"], summary["developers_checked"]) == (2, 1)
    assert (summary["findings"], summary["new_findings"]) == (0, 0)
    assert metric == [0]
    assert findings() == []
    run = invoke("reconciliation_get_run.json", caller=ADMIN, path=f"/v1/admin/reconciliation/runs/{summary['run_id']}",
                 path_params={"run_id": summary["run_id"]})
    assert run.status == 200 and run.body == summary


def test_a_corrupted_wallet_is_a_finding_recorded_once(aws, stream, catalog, fund, capsys):
    fund("user:alice", "100")
    spend(ALICE, "ai-insight", "c-1")  # 91 credits left
    fund("user:bob", "10")
    assert stream.drain()["batchItemFailures"] == []
    corrupt(aws, keys.wallet("user:alice"), "ADD balance :d, available :d", {":d": {"N": "5000"}})

    summary, metric = manual(capsys)
    assert summary["source"] == "manual" and summary["wallets_checked"] == 2
    assert (summary["findings"], summary["new_findings"]) == (2, 2)  # the entries, and the grants, against it
    assert metric == [2]
    found = {f["kind"]: f for f in findings()}
    assert set(found) == {"ledger_sum", "grants_sum"}
    assert found["ledger_sum"]["wallet_id"] == "user:alice"
    assert (found["ledger_sum"]["expected_mc"], found["ledger_sum"]["actual_mc"]) == (91_000, 96_000)
    assert (found["grants_sum"]["expected_mc"], found["grants_sum"]["actual_mc"]) == (96_000, 91_000)
    assert found["ledger_sum"]["run_id"] == summary["run_id"]

    # Again: the same discrepancies are seen (and counted), not recorded twice.
    again, metric = manual(capsys)
    assert (again["findings"], again["new_findings"]) == (2, 0)
    assert metric == [2]
    assert len(findings()) == 2


def test_corrupted_grant_books_and_holds_are_findings(aws, stream, catalog, fund, capsys):
    fund("user:alice", "100")
    grant("user:alice", "20", "g-1")
    assert stream.drain()["batchItemFailures"] == []
    from tollgate.grants import repository as grants

    book = grants.get_book("user:alice")
    assert book is not None and book.total() == 120_000
    grant_id = next(g for g, item in book.grants.items() if item.remaining == 20_000)
    corrupt(aws, keys.grant_book("user:alice"), "SET grants.#g.rem = :r", {":r": {"N": "19000"}}, {"#g": grant_id})
    # hold bookkeeping broken too: reserved with no hold behind it
    corrupt(aws, keys.wallet("user:alice"), "ADD reserved :d", {":d": {"N": "3000"}})

    summary, metric = manual(capsys)
    assert metric == [summary["findings"]] == [3]
    found = {f["kind"]: (f["expected_mc"], f["actual_mc"]) for f in findings()}
    assert found == {"grants_sum": (120_000, 119_000), "holds_sum": (0, 3_000), "available": (117_000, 120_000)}


def test_corrupted_earnings_are_a_finding(aws, stream, developer_catalog, fund, capsys):
    fund("user:alice", "100")
    spend(ALICE, "summarize", "e-1")
    assert stream.drain()["batchItemFailures"] == []
    developers.deliver(developers.earning_records(aws))
    state = assert_earnings_invariant("dev-carol")
    corrupt(aws, keys.developer_earnings("dev-carol"), "ADD paid :d", {":d": {"N": "7"}})

    summary, _ = manual(capsys)
    assert summary["developers_checked"] == 1
    found = sorted((f["detail"], f["expected_mc"], f["actual_mc"]) for f in findings() if f["kind"] == "earnings")
    assert found == [("paid against the earnings log", 0, 7),
                     ("pending + available + in_payout + paid against earned", state["earned"], state["earned"] + 7)]
    assert all(f["developer_id"] == "dev-carol" for f in findings())


def test_the_checkpoint_moves_and_wallets_not_changed_since_are_not_read(stream, catalog, fund, capsys):
    fund("user:alice", "100")
    assert stream.drain()["batchItemFailures"] == []
    day0 = today()
    first, _ = scheduled(capsys)
    assert first["wallets_checked"] == 1 and first["checkpoint"] < day0 and list(first["days"]) [-1] == day0

    advance_clock(DAY_MS)  # day0 is over: read again to its end, then done
    second, _ = scheduled(capsys)
    assert second["checkpoint"] == day0 and second["days"] == {day0: 1, today(): 0}

    advance_clock(DAY_MS)
    fund("user:bob", "10")
    assert stream.drain()["batchItemFailures"] == []
    third, metric = scheduled(capsys)
    assert set(third["days"]) == {clock.iso(clock.now_ms() - DAY_MS)[:10], today()}
    assert third["wallets_checked"] == 1  # bob: alice has not changed since
    assert metric == [0]


def test_a_run_past_its_bound_keeps_its_place(stream, catalog, fund, monkeypatch, capsys):
    for name in ("alice", "bob", "carol"):
        fund(f"user:{name}", "10")
    assert stream.drain()["batchItemFailures"] == []
    patch_layer(monkeypatch, "tollgate.reconciliation.service", "MANUAL_MAX_SUBJECTS", 2)
    cut, _ = manual(capsys)
    assert (cut["complete"], cut["status"], cut["wallets_checked"]) == (False, "partial", 2)
    rest, metric = manual(capsys)
    assert (rest["complete"], rest["status"], rest["wallets_checked"]) == (True, "completed", 1)
    assert metric == [0]


def test_only_admins(catalog):
    for sample in ("reconciliation_post_run.json", "reconciliation_list_findings.json",
                   "reconciliation_get_run.json"):
        for caller in (ALICE, BOB, CAROL):
            reply = invoke(sample, caller=caller)
            assert reply.status == 403, (sample, reply)
        assert invoke(sample, caller=None).status == 401


@pytest.mark.parametrize("query", [
    {"from": "2026-13-01"}, {"to": "2026-02-30"}, {"from": "2026-11-02", "to": "2026-11-01"},
    {"from": "2024-01-01", "to": "2026-01-01"}, {"limit": "0"}, {"limit": "101"}, {"cursor": "not-a-cursor"},
])
def test_bad_findings_queries_are_422(aws, query):
    reply = invoke("reconciliation_list_findings.json", caller=ADMIN, query=query)
    assert reply.status == 422, (query, reply)
    assert reply.body["error"]["code"] == "validation_error"


def test_runs_by_id(aws):
    bad = invoke("reconciliation_get_run.json", caller=ADMIN, path="/v1/admin/reconciliation/runs/nope",
                 path_params={"run_id": "nope"})
    assert bad.status == 422
    assert invoke("reconciliation_get_run.json", caller=ADMIN).status == 404


def test_findings_are_paged_newest_first(aws, stream, catalog, fund, capsys):
    for name in ("alice", "bob", "dave"):
        fund(f"user:{name}", "10")
    assert stream.drain()["batchItemFailures"] == []
    for name in ("alice", "bob", "dave"):
        corrupt(aws, keys.wallet(f"user:{name}"), "ADD balance :d, available :d", {":d": {"N": "1"}})
    manual(capsys)
    seen, cursor = [], None
    while True:
        query = {"from": today(), "to": today(), "limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = invoke("reconciliation_list_findings.json", caller=ADMIN, query=query)
        assert reply.status == 200, reply
        seen += reply.body["data"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 == len({f["finding_id"] for f in seen})  # ledger_sum and grants_sum, each wallet
    assert [f["at"] for f in seen] == sorted((f["at"] for f in seen), reverse=True)


def test_terminal_payouts_and_refunds_their_workflow_left_incomplete_are_findings(aws, capsys):
    """Against the workflow's own record (the gateways agree with each, so nothing else is found)."""
    from tests.functional.gateway_records import found, payout_item, refund_item, run_now, stripe_fakes

    fakes = stripe_fakes()
    refunds, payouts = next(fakes)
    try:
        payout_item("po_good", transfer_id=payouts.transfer("po_good", "acct_1", 2_000, "USD").transfer_id)
        payout_item("po_unsent", transfer_id=payouts.transfer("po_unsent", "acct_1", 2_000, "USD").transfer_id,
                    transfer_attempted=False)
        payout_item("po_failed", status="failed", steps={})  # its credits never given back
        payout_item("po_flying", status="reserved")  # in flight: not terminal, not checked
        for refund_id in ("rf_good", "rf_unanswered"):
            refunds.gateway_view[f"re_{refund_id}"] = Refund(f"re_{refund_id}", 1_000, currency="USD")
        refund_item("rf_good", gateway_refund_id="re_rf_good")
        refund_item("rf_unanswered", gateway_refund_id="re_rf_unanswered", gateway_status="pending")
        refund_item("rf_no_id")  # succeeded, and no gateway refund id to show for it
        refund_item("rf_uncompensated", status="failed", steps={})

        summary, metrics = run_now(capsys)
        assert (summary["payouts_checked"], summary["refunds_checked"]) == (3, 4)
        assert metrics["ReconciliationFindings"] == [summary["findings"]] == [5]
        assert found() == [
            ("payout", "dev-carol", 200_000, 0, "payout po_failed failed: no compensate step"),
            ("payout", "dev-carol", 200_000, 0, "payout po_unsent paid: the transfer was never sent"),
            ("refund", "user:alice", 100_000, 0, "refund rf_unanswered succeeded: the gateway's answer recorded is "
                                                 "pending"),
            ("refund", "user:alice", 100_000, 0, "refund rf_uncompensated failed: no compensate step"),
            ("refund_gateway", "user:alice", 1_000, 0, "refund rf_no_id succeeded: no gateway refund id recorded "
                                                       "(1000 USD)"),
        ]
    finally:
        fakes.close()


def test_a_wallet_whose_only_change_is_a_hold_is_marked_for_the_days_run(stream, catalog, fund):
    """A hold changes no balance, so no grant book is written (the books carry the others' marks): the
    consumer marks the wallet itself, and the day's run checks its holds against what it reserved."""
    from tollgate.reconciliation import repository as reconciliation

    fund(ALICE.wallet_id, "100")
    assert stream.drain() == {"batchItemFailures": []}
    advance_clock(DAY_MS)
    day = today()
    assert ALICE.wallet_id not in reconciliation.changed(day)[0]
    held = invoke("deduction_post_reservation.json", body={"feature": "ai-insight", "max_credits": "9"},
                  headers={"idempotency-key": "hold-1"})
    assert held.status == 201, held
    assert stream.drain() == {"batchItemFailures": []}
    assert ALICE.wallet_id in reconciliation.changed(day)[0]
