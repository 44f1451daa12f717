"""make load: one busy wallet debited by many Lambda-like worker processes, on DynamoDB Local.

Starts its own DynamoDB Local (127.0.0.1, a free port, ``-disableTelemetry``; stopped by its
pid at the end), creates the table from template.yaml, prices a feature at 1 credit a call and
funds ONE wallet (``user:alice``, the caller of the sample events) with exactly ``--payable``
debits' worth, both through the admin handler as ``make bench`` seeds. Then ``--processes``
worker processes (each one Lambda execution environment: its own import of
``functions/deduction/app.py``, its own client, one request at a time) call the real deduction
handler in-process with ``events/deduction_post_usage.json`` until ``--debits`` debits, each
with its own idempotency key, have been made.

Every DynamoDB request a worker makes is one line of the request log (``--log``):
``{"t", "op", "writes": [{"pk", "wcu"}], "reads": [{"pk", "rcu"}], "ok", "ms"}`` plus
``"debit"`` (which debit it was made for), ``"status"`` (the HTTP status that debit got) and
``"error"`` (DynamoDB's error code, null when ok), and where there were any ``"reasons"`` (a
cancelled transaction's reason codes) and ``"retries"`` (botocore's own retries of the request,
e.g. after a read timeout: the units are those the last attempt reported). Partition keys come
from the request's parameters and units from ``ReturnConsumedCapacity="INDEXES"`` (attributed by
``scripts/capacity.py``); a cancelled transaction reports no capacity and lists its keys with 0.
``t`` is seconds since the workers were released (``time.monotonic``, one clock for every
process on Linux) when the request was made, ``ms`` its latency, botocore's retries included.

At the end it reads the wallet back (the balance through the history handler, as
``GET /v1/wallet`` answers; the entries by querying each of the wallet's partition keys that
the run wrote, the funding included, ``TX#`` items) and prints and writes a summary
(``--summary``). It exits 1 if a debit got a status other than 201 or 402, if a worker failed,
if the entries (with what the ledger archive holds) do not sum to the balance, if the balance
is not the funding less the successes' price, or if a complete run's successes are not
exactly ``--payable``.

Bounded: at most ``--debits`` debits, and no debit starts after ``--max-seconds`` (a debit
under way then finishes, so the ledger stays whole; a worker still busy a minute later is
stopped). A run stopped that way is **partial**: its summary says so, it is still reconciled,
and its successes must be at most ``--payable`` (exactly that many once a 402 was seen).

The defaults (20,000 debits from 32 processes) do not finish on a 2-core machine: measured
there, beside a CI run, DynamoDB Local and the workers served about 40 debits a second, so
the run stops at ``--max-seconds`` (300) with a partial summary (some 12,000 debits, before
the wallet, funded for 15,000, runs out: no 402 is seen). ``make load LOAD_ARGS="--debits
2000 --processes 16"`` runs to the end in about a minute and a half.

``--wallet-shards N`` shards the wallet (``PUT /v1/admin/wallets/{id}/shards``) before the run;
``--reshard 16,2`` reshards it to each count in turn while the workers debit it, evenly spaced over
the debits. The summary then also lists the reshards and checks that the shards, read at one
instant at the end, sum to the balance (exit 1 if not, or if a reshard failed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
# Workers are started by a fork server, which imports only from PYTHONPATH (set in main).
PATHS = [str(SCRIPTS), str(ROOT / "layers" / "tollgate"), str(ROOT / "local")]
for _path in reversed(PATHS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import capacity  # noqa: E402 - the request log's format, from scripts/ (put on the path just above)
from harness import Context, event  # noqa: E402
from harness import load_function as _load_function  # noqa: E402

OUTPUT = ROOT / "test-output" / "load"
WALLET = "user:alice"   # the caller of the sample events
FEATURE = "load-call"
PRICE_CREDITS = "1"     # per call
PRICE_MC = 1000
WARM_TIMEOUT_S = 180    # every worker imported and ready
GRACE_S = 60            # after --max-seconds: the debits under way finish
# Imported once in the fork server, so a worker's start is a fork, not a cold import.
PRELOAD = ["botocore.session", "botocore.client", "pydantic", "aws_lambda_powertools.event_handler",
           "aws_lambda_powertools.metrics", "aws_lambda_powertools.logging", "tollgate.usage", "tollgate.ledger",
           "tollgate.pricing", "tollgate.http", "capacity"]


# ---------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------


def wallet_shards(requested: int) -> int:
    """The shard count the wallet starts the run with (``PUT /v1/admin/wallets/{id}/shards``), 1 to 64."""
    if not 1 <= requested <= 64:
        print(f"--wallet-shards {requested}: a wallet has 1 to 64 shards", file=sys.stderr)
        raise SystemExit(2)
    return requested


class Resharder:
    """Reshards the wallet while the workers debit it: step ``i`` of ``counts`` once ``i/(len+1)`` of
    the debits have been made (through the admin handler, in this process)."""

    def __init__(self, admin: ModuleType, counts: list[int], debits: int) -> None:
        self.admin, self.counts, self.debits = admin, list(counts), debits
        self.done: list[dict[str, Any]] = []

    def tick(self, made: int, t: float) -> None:
        while self.counts and made >= (len(self.done) + 1) * self.debits // (len(self.done) + len(self.counts) + 1):
            count = self.counts.pop(0)
            reply = call(self.admin, event("admin_put_wallet_shards.json", body={"count": count},
                                           path=f"/v1/admin/wallets/{WALLET}/shards",
                                           path_params={"wallet_id": WALLET}))
            self.done.append({"to": count, "at_seconds": round(t, 3), "after_debits": made,
                              "status": reply["statusCode"]})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debits", type=int, default=20_000, help="debits in total (default 20000)")
    parser.add_argument("--processes", type=int, default=32, help="worker processes (default 32)")
    parser.add_argument("--payable", type=int, help="debits the wallet can pay (default 75%% of --debits)")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="no debit starts after this many seconds (default 300)")
    parser.add_argument("--log", type=Path, default=OUTPUT / "requests.jsonl", help="the request log")
    parser.add_argument("--summary", type=Path, default=OUTPUT / "summary.json", help="the summary (JSON)")
    parser.add_argument("--wallet-shards", type=int, default=1, help="the wallet's shard count to start with (1-64)")
    parser.add_argument("--reshard", default="", help="shard counts to reshard to while the load runs, evenly "
                        "spaced over its debits, e.g. 16,2")
    args = parser.parse_args(argv)
    if args.payable is None:
        args.payable = args.debits * 3 // 4
    if args.debits < 1 or args.processes < 1 or args.max_seconds <= 0:
        parser.error("--debits, --processes and --max-seconds must be positive")
    if not 1 <= args.payable <= args.debits:
        parser.error("--payable must be within 1..--debits")
    args.wallet_shards = wallet_shards(args.wallet_shards)
    args.reshard = [wallet_shards(int(c)) for c in args.reshard.split(",") if c.strip()]
    return args


def set_environment(table: str) -> None:
    """A fake, local-only AWS environment (as the tests use), inherited by the workers."""
    os.environ.update({
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": table, "POWERTOOLS_SERVICE_NAME": "tollgate", "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
        "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "1",
        "JWT_ISSUER": "https://auth.example.com/", "JWT_AUDIENCE": "tollgate",
        "PYTHONPATH": os.pathsep.join(PATHS + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
    })
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(var, None)


# ---------------------------------------------------------------------------------------
# Handlers, events, clients (as scripts/bench.py drives them)
# ---------------------------------------------------------------------------------------


def load_function(name: str) -> ModuleType:
    return _load_function(name, "tollgate_load")


def usage_event(run_id: str, n: int) -> dict[str, Any]:
    return event("deduction_post_usage.json", body={"feature": FEATURE}, headers={"idempotency-key": f"load-{run_id}-{n}"})


def make_client(endpoint: str, *, patient: bool = False) -> Any:
    """A client with the settings of ``tollgate.data.client()``, pointed at DynamoDB Local.

    ``patient``: a 60 s read timeout, for setting up and reading back. DynamoDB Local's first
    requests can take longer than the functions' 5 s, and a CreateTable retried after a timeout
    fails on the table the first attempt made.
    """
    import botocore.session
    from botocore.config import Config

    from tollgate.data.connection import CLIENT_CONFIG

    config = CLIENT_CONFIG.merge(Config(read_timeout=60)) if patient else CLIENT_CONFIG
    return botocore.session.get_session().create_client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=config)


def bind_layer(client: Any) -> None:
    """The layer as a cold start has it, its DynamoDB client ``client``."""
    from tollgate import data
    from tollgate.config import settings
    from tollgate.pricing import reset_cache

    settings.cache_clear()
    data.set_client(client)
    reset_cache()


def call(module: ModuleType, ev: dict[str, Any]) -> dict[str, Any]:
    with contextlib.redirect_stdout(DEVNULL):  # the handlers print one EMF metrics line per call
        return module.lambda_handler(ev, Context("load"))


def expect(reply: dict[str, Any], status: int, what: str) -> dict[str, Any]:
    if reply.get("statusCode") != status:
        raise SystemExit(f"load setup failed: {what}: expected {status}, got {reply}")
    return json.loads(reply.get("body") or "{}")


DEVNULL = open(os.devnull, "w")  # for the whole run, as scripts/bench.py


# ---------------------------------------------------------------------------------------
# Recording every DynamoDB request
# ---------------------------------------------------------------------------------------


class RequestLog:
    """Every DynamoDB request made through ``client``, as request-log records.

    botocore hooks: ``before-parameter-build`` reads the partition keys from the parameters and
    asks for ``ReturnConsumedCapacity="INDEXES"``; ``after-call`` (any answer, errors included)
    and ``after-call-error`` (no answer) finish the record. Records of one debit are held until
    its status is known (:meth:`end_debit`) and then written to ``out``.
    """

    def __init__(self, client: Any, schema: capacity.Schema, t0: float, out: TextIO | None) -> None:
        self.schema, self.t0, self.out = schema, t0, out
        self.written_pks: set[str] = set()
        self.count = 0
        self._pending: dict[int, tuple[str, list[capacity.Target], float]] = {}
        self._debit: int | None = None
        self._held: list[dict[str, Any]] = []
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)
        events.register("after-call-error.dynamodb", self._failed)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"  # the index split is what attributes units to keys
        found = capacity.targets(model.name, params, self.schema)
        self._pending[threading.get_ident()] = (model.name, found, time.monotonic())

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        error = (parsed.get("Error") or {}).get("Code")
        reasons = [r.get("Code") for r in parsed.get("CancellationReasons") or []]
        retries = int((parsed.get("ResponseMetadata") or {}).get("RetryAttempts", 0))
        self._finish(model, None if error else parsed.get("ConsumedCapacity"), error, reasons, retries)

    def _failed(self, model: Any, exception: BaseException | None = None, **_: Any) -> None:
        self._finish(model, None, type(exception).__name__ if exception else "Error", [], 0)

    def _finish(self, model: Any, consumed: Any, error: str | None, reasons: list[str | None], retries: int) -> None:
        pending = self._pending.pop(threading.get_ident(), None)
        if pending is None:
            return
        op, found, started = pending
        units = capacity.attribute(op, found, consumed, self.schema)
        if op in capacity.WRITE_OPS:
            self.written_pks.update(units)
        now = time.monotonic()
        record = capacity.make_record(started - self.t0, op, units, error is None, (now - started) * 1000,
                                      error=error, **({"reasons": reasons} if reasons else {}),
                                      **({"retries": retries} if retries else {}))
        self.count += 1
        if self._debit is not None:
            self._held.append(record)
        elif self.out is not None:
            self.out.write(json.dumps(record) + "\n")

    def start(self, t0: float) -> None:
        self.t0 = t0

    def begin_debit(self, n: int) -> None:
        self._debit, self._held = n, []

    def end_debit(self, status: int) -> None:
        for record in self._held:
            record.update(debit=self._debit, status=status)
            if self.out is not None:
                self.out.write(json.dumps(record) + "\n")
        self._debit, self._held = None, []


# ---------------------------------------------------------------------------------------
# Workers: one Lambda execution environment each
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerPlan:
    index: int
    endpoint: str
    table: str
    run_id: str
    debits: int
    max_seconds: float
    part: str          # this worker's part of the request log
    schema: capacity.Schema


def _claim(counter: Any, total: int) -> int | None:
    """The next debit's number, or None when every debit has been claimed."""
    with counter.get_lock():
        n = counter.value
        if n >= total:
            return None
        counter.value = n + 1
        return n


def _status(reply: Any) -> tuple[int, str | None]:
    """A reply's HTTP status and error code (0 and the exception's name for a handler that raised)."""
    status = int(reply.get("statusCode", 0)) if isinstance(reply, dict) else 0
    code = None
    if status not in {201, 402}:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            code = json.loads(reply.get("body") or "{}").get("error", {}).get("code")
    return status, code


def _debit(handler: Any, run_id: str, n: int) -> tuple[int, str | None]:
    try:
        return _status(handler(usage_event(run_id, n), Context("load")))
    except Exception as exc:  # noqa: BLE001 - a handler that raises is a result to count, not a crash of the run
        return 0, type(exc).__name__


def worker(plan: WorkerPlan, counter: Any, barrier: Any, start: Any, t0_value: Any, results: Any) -> None:
    """Import the handler, wait for every other worker, then debit until the debits or the time run out."""
    sys.stdout = DEVNULL  # the handlers print one EMF metrics line per request, as in Lambda
    warnings.filterwarnings("ignore", "No application metrics to publish")
    outcomes: list[tuple[int, float, int, str | None]] = []
    try:
        os.environ["TABLE_NAME"] = plan.table  # the layer reads it on every call
        client = make_client(plan.endpoint)
        bind_layer(client)
        with open(plan.part, "w") as out:
            log = RequestLog(client, plan.schema, 0.0, out)
            handler = load_function("deduction").lambda_handler
            barrier.wait(timeout=WARM_TIMEOUT_S)
            start.wait(timeout=WARM_TIMEOUT_S)
            t0 = t0_value.value
            log.start(t0)
            while time.monotonic() - t0 < plan.max_seconds:
                n = _claim(counter, plan.debits)
                if n is None:
                    break
                log.begin_debit(n)
                status, code = _debit(handler, plan.run_id, n)
                log.end_debit(status)
                outcomes.append((n, time.monotonic() - t0, status, code))
        results.put({"index": plan.index, "outcomes": outcomes, "requests": log.count})
    except BaseException:  # noqa: BLE001 - the parent must hear from every worker, whatever happened here
        results.put({"index": plan.index, "outcomes": outcomes, "error": traceback.format_exc()})


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


@dataclass
class RunResult:
    outcomes: list[tuple[int, float, int, str | None]]
    wall_s: float
    requests: int
    errors: list[str]
    stopped_workers: int


def run_workers(plans: list[WorkerPlan], max_seconds: float, resharder: Resharder | None = None) -> RunResult:
    """Start the workers, release them together, collect what each did (resharding as they go)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    counter = ctx.Value("q", 0)
    barrier = ctx.Barrier(len(plans) + 1)
    start, t0_value, results = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(plan, counter, barrier, start, t0_value, results),
                         name=f"load-worker-{plan.index}") for plan in plans]
    try:
        for p in procs:
            p.start()
        try:
            barrier.wait(timeout=WARM_TIMEOUT_S)
        except threading.BrokenBarrierError:
            pass  # a worker failed to start: its error arrives below like any result
        t0_value.value = time.monotonic()
        t0 = t0_value.value
        start.set()
        reports, deadline = [], t0 + max_seconds + GRACE_S
        while len(reports) < len(procs) and time.monotonic() < deadline:
            if resharder is not None:
                resharder.tick(counter.value, time.monotonic() - t0)
            try:
                reports.append(results.get(timeout=0.25 if resharder is not None and resharder.counts else 1.0))
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
        with contextlib.suppress(queue.Empty):  # what the last workers sent just before they ended
            while len(reports) < len(procs):
                reports.append(results.get(timeout=0.5))
        wall = time.monotonic() - t0
    finally:
        stopped = 0
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():  # stuck past the grace period: stop it, by its own handle
                p.terminate()
                p.join(timeout=10)
                stopped += 1
        _stop_forkserver()
    outcomes = [o for r in reports for o in r["outcomes"]]
    last = max((o[1] for o in outcomes), default=wall)
    return RunResult(outcomes=outcomes, wall_s=last, requests=sum(r.get("requests", 0) for r in reports),
                     errors=[r["error"] for r in reports if "error" in r], stopped_workers=stopped)


def _stop_forkserver() -> None:
    from multiprocessing import forkserver

    # The fork server would end with this process anyway; stop the one this run started now.
    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


def merge_parts(parts: list[Path], log: Path) -> list[dict[str, Any]]:
    """The workers' parts as one log, in time order."""
    records = []
    for part in parts:
        if part.exists():
            with part.open() as f:
                records.extend(json.loads(line) for line in f if line.strip())
    records.sort(key=lambda r: r["t"])
    with log.open("w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return records


# ---------------------------------------------------------------------------------------
# Seeding and reading back
# ---------------------------------------------------------------------------------------


def seed(admin: ModuleType, payable: int) -> int:
    """Price FEATURE at PRICE_CREDITS a call and fund WALLET with ``payable`` calls' worth (as
    ``make bench`` seeds: the admin handler with the sample events); returns the funding in mc."""
    expect(call(admin, event("admin_put_feature.json",
                             body={"name": "Load", "pricing": {"type": "per_call", "credits": PRICE_CREDITS}},
                             path=f"/v1/admin/features/{FEATURE}", path_params={"feature_id": FEATURE})),
           200, "put feature")
    funding = payable * PRICE_MC
    expect(call(admin, event("admin_post_adjustment.json",
                             body={"amount": str(funding // PRICE_MC), "reason": "load"},
                             path=f"/v1/admin/wallets/{WALLET}/adjustments", path_params={"wallet_id": WALLET},
                             headers={"idempotency-key": "load-fund"})), 201, "fund the wallet")
    return funding


def wallet_partitions(pks: set[str]) -> list[str]:
    """The wallet's partition keys among ``pks`` (``WALLET#<id>`` and ``WALLET#<id>#...``), its base key always."""
    base = f"WALLET#{WALLET}"
    return sorted({base} | {pk for pk in pks if pk.startswith(base + "#")})


def sum_entries(client: Any, table: str, pks: list[str]) -> tuple[int, int]:
    """Σ ``amount`` of the ``TX#`` items in partitions ``pks``, and how many there are."""
    total = count = 0
    for pk in pks:
        start = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": table, "ConsistentRead": True, "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :tx)",
                "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK", "#amount": "amount"},
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":tx": {"S": "TX#"}}, "ProjectionExpression": "#amount"}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = client.query(**kwargs)
            total += sum(int(item["amount"]["N"]) for item in page["Items"])
            count += len(page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    return total, count


def archived_total(client: Any, table: str) -> int:
    """What the ledger archive holds of the wallet (0: nothing archived)."""
    item = client.get_item(TableName=table, Key={"PK": {"S": f"WALLET#{WALLET}"}, "SK": {"S": "ARCHIVE"}},
                           ConsistentRead=True).get("Item") or {}
    return int(item.get("archived_total", {}).get("N", "0"))


def read_balance(history: ModuleType) -> int:
    """The wallet's balance as ``GET /v1/wallet`` answers it, in mc."""
    from tollgate.amounts import parse_credits

    body = expect(call(history, event("history_get_wallet.json")), 200, "read the wallet")
    return parse_credits(body["balance"], allow_negative=True, allow_zero=True, field="balance")


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------


def first_refusal(outcomes: list[tuple[int, float, int, str | None]]) -> tuple[float | None, int | None]:
    """When the first 402 was answered, and how many 201s had been answered before it."""
    refusals = [t for _, t, status, _ in outcomes if status == 402]
    if not refusals:
        return None, None
    first = min(refusals)
    return first, sum(1 for _, t, status, _ in outcomes if status == 201 and t < first)


def summarise(args: argparse.Namespace, run: RunResult, funding: int, balance: int, entries: tuple[int, int],
              archived: int, partitions: list[str], log_lines: int) -> dict[str, Any]:
    statuses = Counter(status for _, _, status, _ in run.outcomes)
    succeeded, refused = statuses.get(201, 0), statuses.get(402, 0)
    others = {f"{status}{'/' + code if code else ''}": n for (status, code), n in
              Counter((s, c) for _, _, s, c in run.outcomes if s not in {201, 402}).items()}
    first_at, before_first = first_refusal(run.outcomes)
    attempted = len(run.outcomes)
    entry_sum, entry_count = entries
    return {
        "debits_requested": args.debits, "processes": args.processes, "payable": args.payable,
        "wallet_id": WALLET, "wallet_shards": args.wallet_shards, "price_mc": PRICE_MC,
        "initial_balance_mc": funding,
        "attempted": attempted, "succeeded": succeeded, "refused_402": refused,
        "other_statuses": sum(others.values()), "other_status_detail": others,
        "complete": attempted == args.debits and not run.errors and not run.stopped_workers,
        "max_seconds": args.max_seconds, "wall_seconds": round(run.wall_s, 3),
        "debits_per_second": round(attempted / run.wall_s, 1) if run.wall_s else None,
        "successful_debits_per_second": round(succeeded / run.wall_s, 1) if run.wall_s else None,
        "dynamodb_requests": run.requests, "log_lines": log_lines,
        "balance_mc": balance, "expected_balance_mc": funding - succeeded * PRICE_MC,
        "entries_sum_mc": entry_sum, "entries": entry_count, "archived_total_mc": archived,
        "entries_reconcile": entry_sum + archived == balance,
        "wallet_partitions": partitions,
        "first_402_at_seconds": None if first_at is None else round(first_at, 3),
        "successes_before_first_402": before_first,
        "first_402_short_of_payable_by": None if before_first is None else args.payable - before_first,
        "worker_errors": run.errors, "stopped_workers": run.stopped_workers,
    }


def failures(s: dict[str, Any]) -> list[str]:
    """What is wrong with a run, by the rules of the module docstring (empty: nothing)."""
    out = []
    if s["other_statuses"]:
        out.append(f"{s['other_statuses']} debit(s) got a status other than 201/402: {s['other_status_detail']}")
    if s["worker_errors"]:
        out.append(f"{len(s['worker_errors'])} worker(s) failed")
    if s["complete"] and s["succeeded"] != s["payable"]:
        out.append(f"{s['succeeded']} debits succeeded, the wallet could pay {s['payable']}")
    if not s["complete"] and (s["succeeded"] > s["payable"] or (s["refused_402"] and s["succeeded"] != s["payable"])):
        out.append(f"partial run: {s['succeeded']} successes and {s['refused_402']} refusals, payable {s['payable']}")
    if not s.get("shards_reconcile", True):
        out.append(f"the shards sum to {s['shards_sum_mc']} mc, the balance is {s['balance_mc']} mc")
    if any(r["status"] != 200 for r in s.get("reshards", ())):
        out.append(f"a reshard failed: {s['reshards']}")
    if not s["entries_reconcile"]:
        out.append(f"entries sum to {s['entries_sum_mc']} mc (+{s['archived_total_mc']} archived), "
                   f"the balance is {s['balance_mc']} mc")
    if s["balance_mc"] != s["expected_balance_mc"]:
        out.append(f"balance {s['balance_mc']} mc, expected {s['expected_balance_mc']} mc "
                   f"(funding less {s['succeeded']} successes)")
    return out


def print_summary(s: dict[str, Any]) -> None:
    print(f"Load: {s['attempted']} of {s['debits_requested']} debits from {s['processes']} processes in "
          f"{s['wall_seconds']:.1f} s ({s['debits_per_second']} debits/s, "
          f"{s['successful_debits_per_second']} successful/s){'' if s['complete'] else '  [PARTIAL]'}")
    print(f"  201: {s['succeeded']} (payable {s['payable']})   402: {s['refused_402']}   other: {s['other_statuses']}"
          + (f" {s['other_status_detail']}" if s["other_statuses"] else ""))
    print(f"  balance read back: {s['balance_mc']} mc (expected {s['expected_balance_mc']}); "
          f"Σ {s['entries']} entries: {s['entries_sum_mc']} mc over {len(s['wallet_partitions'])} partition(s); "
          f"reconciled: {s['entries_reconcile']}")
    if s["successes_before_first_402"] is not None:
        print(f"  first 402 answered at {s['first_402_at_seconds']} s, after {s['successes_before_first_402']} "
              f"successes ({s['first_402_short_of_payable_by']} short of payable)")
    print(f"  DynamoDB requests logged: {s['log_lines']}")
    if s.get("reshards"):
        steps = ", ".join(f"to {r['to']} after {r['after_debits']} debits ({r['status']})" for r in s["reshards"])
        print(f"  resharded: {steps}")
    if "shards_at_end" in s:
        print(f"  shards at the end: {s['shards_at_end']}, summing to {s['shards_sum_mc']} mc "
              f"({'=' if s['shards_reconcile'] else '!='} the balance)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    table = f"tollgate-load-{run_id}"
    set_environment(table)
    warnings.filterwarnings("ignore", "No application metrics to publish")
    from tollgate_local.dynamodb_local import DynamoDBLocal
    from tollgate_local.template import create_table, table_definitions

    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    parts_dir = args.log.parent / f".{args.log.stem}-parts-{run_id}"
    parts_dir.mkdir()
    schema = capacity.Schema.from_definition(table_definitions()["TollgateTable"])
    print(f"wallet shards: {args.wallet_shards}" + (f", resharded to {args.reshard} during the run" if args.reshard
                                                     else ""))
    print("starting DynamoDB Local on 127.0.0.1 ...", flush=True)
    try:
        with DynamoDBLocal() as ddb:
            # Every AWS client made from the environment (none should be) reaches this server, never AWS.
            os.environ["AWS_ENDPOINT_URL"] = ddb.endpoint
            client = make_client(ddb.endpoint, patient=True)
            create_table(client, "TollgateTable", table)
            bind_layer(client)
            seeding = RequestLog(client, schema, time.monotonic(), None)  # which keys the funding wrote
            admin, history = load_function("admin"), load_function("history")
            funding = seed(admin, args.payable)
            if args.wallet_shards > 1:
                expect(call(admin, event("admin_put_wallet_shards.json", body={"count": args.wallet_shards},
                                         path=f"/v1/admin/wallets/{WALLET}/shards", path_params={"wallet_id": WALLET})),
                       200, "shard the wallet")
            resharder = Resharder(admin, args.reshard, args.debits) if args.reshard else None
            print(f"funded {WALLET} with {funding} mc ({args.payable} debits at {PRICE_MC} mc); starting "
                  f"{args.processes} worker processes for {args.debits} debits (at most {args.max_seconds:g} s) ...",
                  flush=True)
            plans = [WorkerPlan(index=i, endpoint=ddb.endpoint, table=table, run_id=run_id, debits=args.debits,
                                max_seconds=args.max_seconds, part=str(parts_dir / f"requests.{i}.jsonl"), schema=schema)
                     for i in range(args.processes)]
            run = run_workers(plans, args.max_seconds, resharder)
            records = merge_parts([Path(p.part) for p in plans], args.log)
            written = {w["pk"] for r in records for w in r["writes"]} | seeding.written_pks
            partitions = wallet_partitions(written)
            balance = read_balance(history)
            shards = expect(call(admin, event("admin_get_wallet_shards.json", path=f"/v1/admin/wallets/{WALLET}/shards",
                                              path_params={"wallet_id": WALLET})), 200, "read the shards")
            entries = sum_entries(client, table, partitions)
            archived = archived_total(client, table)
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)
    summary = summarise(args, run, funding, balance, entries, archived, partitions, len(records))
    summary["reshards"] = resharder.done if resharder is not None else []
    summary["shards_at_end"] = shards["count"]
    from tollgate.amounts import parse_credits

    summary["shards_sum_mc"] = sum(parse_credits(x["balance"], allow_zero=True, field="balance")
                                   for x in shards["shards"])
    summary["shards_reconcile"] = summary["shards_sum_mc"] == balance
    problems = failures(summary)
    summary["failures"] = problems
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary)
    for error in run.errors[:3]:
        print(f"worker error:\n{error}", file=sys.stderr)
    print(f"written: {args.log}, {args.summary}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
