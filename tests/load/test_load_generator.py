"""scripts/load.py and scripts/capacity.py end to end, on small loads.

``scripts/load.py`` runs as ``make load`` runs it, a subprocess starting its own DynamoDB Local
(127.0.0.1, -disableTelemetry, stopped by its pid) and worker processes: 400 debits from 8
processes against a wallet funded for 300, then ``scripts/capacity.py`` models its request log;
600 debits against a sharded wallet funded for 450 and resharded 4 -> 16 -> 2 while they run; and
a run cut short by ``--max-seconds``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT

DEBITS, PROCESSES, PAYABLE = 400, 8, 300
PRICE_MC = 1000  # the load generator's feature: 1 credit a call
WALLET_PK = "WALLET#user:alice"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "TABLE_NAME"):
        env.pop(var, None)
    return env


def _run(script: str, *args: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class LoadRun:
    proc: subprocess.CompletedProcess[str]
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    log: Path
    out: Path


@pytest.fixture(scope="module")
def load_run(tmp_path_factory) -> LoadRun:
    out = tmp_path_factory.mktemp("load")
    log, summary = out / "requests.jsonl", out / "summary.json"
    proc = _run("load.py", "--debits", str(DEBITS), "--processes", str(PROCESSES), "--payable", str(PAYABLE),
                "--max-seconds", "120", "--log", str(log), "--summary", str(summary))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return LoadRun(proc=proc, summary=json.loads(summary.read_text()), records=records, log=log, out=out)


def test_exactly_the_payable_debits_succeed_and_the_ledger_reconciles(load_run):
    s = load_run.summary
    assert s["complete"] is True
    assert (s["attempted"], s["succeeded"], s["refused_402"], s["other_statuses"]) == (DEBITS, PAYABLE, 100, 0)
    assert s["price_mc"] == PRICE_MC
    assert s["initial_balance_mc"] == PAYABLE * PRICE_MC
    # Funded for exactly 300 debits: the balance ends at 0, and the entries (the funding and 300 debits) say so.
    assert s["balance_mc"] == s["initial_balance_mc"] - PAYABLE * PRICE_MC == 0
    assert s["entries_sum_mc"] == s["balance_mc"]
    assert s["entries"] == 1 + PAYABLE
    assert s["entries_reconcile"] is True
    assert s["wallet_partitions"] == [WALLET_PK]
    # No refusal can be answered before the wallet is empty; answers still in flight then may lag it.
    assert PAYABLE - PROCESSES < s["successes_before_first_402"] <= PAYABLE
    assert s["failures"] == []
    assert "201: 300 (payable 300)   402: 100   other: 0" in load_run.proc.stdout


def test_the_request_log_has_one_line_per_dynamodb_request(load_run):
    records, s = load_run.records, load_run.summary
    assert len(records) == s["log_lines"] == s["dynamodb_requests"]
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    by_debit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_debit[r["debit"]].append(r)
    assert sorted(by_debit) == list(range(DEBITS))
    statuses = {n: {r["status"] for r in rs} for n, rs in by_debit.items()}
    assert all(len(v) == 1 for v in statuses.values())
    assert sum(1 for v in statuses.values() if v == {201}) == PAYABLE
    for n, requests in by_debit.items():
        writes = [r for r in requests if r["op"] == "TransactWriteItems"]
        committed = [r for r in writes if r["ok"]]
        reads = [r for r in requests if r["op"] == "GetItem"]
        # A debit: one transaction (conflicts retried in more requests), then one read of the wallet if it succeeded.
        if statuses[n] == {201}:
            assert len(committed) == 1, requests
            assert len(reads) == 1, requests
            assert {w["pk"] for w in committed[0]["writes"]} == {WALLET_PK}
            assert sum(w["wcu"] for w in committed[0]["writes"]) > 0
            assert reads[0]["reads"] == [{"pk": WALLET_PK, "rcu": 1.0}]
        else:
            assert not committed and not reads, requests
            refusal = writes[-1]
            assert "ConditionalCheckFailed" in refusal["reasons"]
            assert refusal["writes"] == [{"pk": WALLET_PK, "wcu": 0.0}]  # a cancelled transaction reports none
        assert all(r["op"] in {"TransactWriteItems", "GetItem", "Query"} for r in requests)
    # Each worker reads the catalog on its first debit, then again each time its 30 s cache has expired.
    catalog = [r for r in records if r["op"] == "Query"]
    assert 1 <= len(catalog) <= PROCESSES * (1 + int(s["wall_seconds"] // 30))
    assert all(r["reads"][0]["pk"] == "CATALOG" for r in catalog)


def test_the_capacity_model_finds_the_wallets_partition_at_about_166_debits_a_second(load_run):
    report = load_run.out / "capacity.json"
    proc = _run("capacity.py", "--log", str(load_run.log), "--json", str(report), "--target", "100",
                "--target", "5000", timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert data["successful_debits"] == PAYABLE
    wallet = next(p for p in data["partitions"] if p["pk"] == WALLET_PK)
    assert 100 <= wallet["rate"] <= 250  # 6 WCU a debit: 1000 / 6
    assert data["hottest_partition"] == WALLET_PK
    assert data["sustainable_debits_per_second"] == wallet["rate"]
    (shards,) = data["wallets"]
    assert shards["shard_count"] == 1
    assert shards["shards_needed"]["5000"] >= 20
    slow, fast = data["replays"]
    assert slow["throttled"] == 0
    assert fast["throttled_fraction"] > 0
    assert "Sustainable rate" in proc.stdout


def test_max_seconds_stops_the_run_with_a_partial_reconciled_summary(tmp_path):
    summary = tmp_path / "summary.json"
    proc = _run("load.py", "--debits", "2000", "--processes", "2", "--payable", "1500", "--max-seconds", "2",
                "--log", str(tmp_path / "requests.jsonl"), "--summary", str(summary))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    s = json.loads(summary.read_text())
    assert s["complete"] is False
    assert "[PARTIAL]" in proc.stdout
    assert 0 < s["attempted"] < 2000
    assert s["succeeded"] == s["attempted"]  # funded for 1,500: nothing refused yet
    assert s["other_statuses"] == 0
    assert s["balance_mc"] == 1500 * PRICE_MC - s["succeeded"] * PRICE_MC
    assert s["entries_sum_mc"] == s["balance_mc"]
    assert s["entries"] == 1 + s["succeeded"]
    # No debit starts after 2 s; the last one under way then still finishes.
    assert s["wall_seconds"] < 2 + 10
    assert s["failures"] == []


def test_a_sharded_wallet_resharded_4_16_2_under_load_pays_exactly_what_it_holds(tmp_path):
    """Issue 16's exactness check, scaled to the test tier (``make load`` runs it at 20,000 debits):
    a wallet in 4 shards, resharded to 16 then 2 while 8 processes debit it, pays exactly the 450
    debits it holds, refuses the rest, loses and creates nothing."""
    log, summary = tmp_path / "requests.jsonl", tmp_path / "summary.json"
    proc = _run("load.py", "--debits", "600", "--processes", str(PROCESSES), "--payable", "450", "--wallet-shards",
                "4", "--reshard", "16,2", "--max-seconds", "120", "--log", str(log), "--summary", str(summary))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    s = json.loads(summary.read_text())
    assert (s["complete"], s["attempted"], s["succeeded"], s["refused_402"], s["other_statuses"]) == (
        True, 600, 450, 150, 0), s
    assert [(r["to"], r["status"]) for r in s["reshards"]] == [(16, 200), (2, 200)]
    assert s["shards_at_end"] == 2 and s["shards_reconcile"] is True and s["shards_sum_mc"] == s["balance_mc"] == 0
    assert s["entries_reconcile"] is True and s["entries"] == 1 + 450
    assert 450 - PROCESSES < s["successes_before_first_402"] <= 450  # no 402 while the wallet could pay
    slots = [pk for pk in s["wallet_partitions"] if pk.startswith(WALLET_PK + "#E")]
    assert len(slots) > 16  # the debits' entries spread over the slots
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    shards = {int(u["pk"].rsplit("#S", 1)[1]) for r in records for u in r["writes"] + r["reads"]
              if u["pk"].startswith(WALLET_PK + "#S")}
    assert {1, 2, 3} <= shards and max(shards) >= 4  # the first layout's shards, and the 16's
    report = tmp_path / "capacity.json"
    proc = _run("capacity.py", "--log", str(log), "--json", str(report), "--target", "100", timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(report.read_text())["successful_debits"] == 450


def test_a_shard_count_outside_1_to_64_is_refused(tmp_path):
    proc = _run("load.py", "--wallet-shards", "65", "--log", str(tmp_path / "r.jsonl"),
                "--summary", str(tmp_path / "s.json"), timeout=60)
    assert proc.returncode == 2
    assert "1 to 64 shards" in proc.stderr
    assert not (tmp_path / "r.jsonl").exists()
