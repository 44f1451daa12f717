"""make bench: what a debit costs, measured on the real engine (DynamoDB Local).

Prints, next to the budgets in DESIGN.md ("Performance budgets"):

* DynamoDB requests and consumed capacity (ReturnConsumedCapacity=INDEXES) per debit,
  replayed debit, balance read, history page and balance_after stamp;
* the deduction handler's in-process time as a ratio to a bare ``transact_write_items`` of
  an equivalent two-item transaction (medians of >= 1,000 calls each, interleaved, same run);
* each function's import time as a ratio to ``import boto3; boto3.client("dynamodb")``
  (each in a fresh subprocess, same environment, median of several runs), with the layer
  compiled to bytecode first, as ``layers/tollgate/Makefile`` ships it, and each function's
  ``app.py`` compiled at import, as Lambda does with function code;
* the AWS cost per million debits derived from those measurements and list prices.

No traffic leaves the machine: DynamoDB Local runs on 127.0.0.1 with -disableTelemetry and
is stopped by its pid at the end.
"""

from __future__ import annotations

import collections
import compileall
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = [str(ROOT), str(ROOT / "local"), str(ROOT / "layers" / "tollgate")]
for _path in reversed(PATHS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# A fake, local-only AWS environment (as the tests use), before boto3 or Powertools load.
TABLE = f"tollgate-bench-{uuid.uuid4().hex[:8]}"
os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TABLE_NAME": TABLE,
    "POWERTOOLS_SERVICE_NAME": "tollgate",
    "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "JWT_ISSUER": "https://auth.example.com/",
    "JWT_AUDIENCE": "tollgate",
})
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(_var, None)

import warnings  # noqa: E402

import boto3  # noqa: E402

from harness import Context, event, load_function  # noqa: E402 - scripts/, this script's folder

# A route that adds no metric (e.g. put_feature) makes Powertools warn at every flush.
warnings.filterwarnings("ignore", "No application metrics to publish")

EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"
FEATURE = "bench-call"  # per_call, 1 credit
WALLET = "user:alice"   # the caller of the sample events
BARE_WALLET = "user:bare"

TIMED_CALLS = 1200
WARMUP_CALLS = 150
IMPORT_RUNS = 9

# On-demand list prices (us-east-1), USD.
PRICE_WRU = 0.625 / 1e6          # per write request unit; a transactional write is 2 WRU per item
PRICE_RRU = 0.125 / 1e6          # per read request unit (strongly consistent <= 4 KB: 1 RRU)
PRICE_LAMBDA_GB_S = 0.0000133334  # arm64, per GB-second
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_HTTP_API_REQUEST = 1.00 / 1e6
DEDUCTION_MEMORY_GB = 512 / 1024   # template.yaml Globals MemorySize
AUTHORIZER_MEMORY_GB = 256 / 1024  # ApiKeyAuthorizerFunction MemorySize

# DESIGN.md budgets.
# DESIGN.md: 4 for the two transactional items + 2 for the one history index (LSI1).
BUDGET_DEBIT_TABLE_WCU = 4.0
BUDGET_DEBIT_WCU = 6.0
BUDGET_RATIO = 1.5
STREAM_BATCH = 10  # entries of one wallet in the measured stream batch


# ---------------------------------------------------------------------------------------
# Plumbing
# ---------------------------------------------------------------------------------------


def make_client(endpoint: str) -> Any:
    # The settings of tollgate.data.client(), pointed at DynamoDB Local.
    from tollgate.data.connection import CLIENT_CONFIG

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=CLIENT_CONFIG)


def call(module: ModuleType, ev: dict[str, Any], expect: int | None = None) -> dict[str, Any]:
    with contextlib.redirect_stdout(DEVNULL):
        response = module.lambda_handler(ev, Context())
    if expect is not None and response.get("statusCode") != expect:
        raise SystemExit(f"bench setup failed: expected {expect}, got {response}")
    return response


def usage_event(key: str) -> dict[str, Any]:
    return event("deduction_post_usage.json", body={"feature": FEATURE}, headers={"idempotency-key": key})


class Recorder:
    """Every DynamoDB call through ``client`` while recording, with ConsumedCapacity (INDEXES)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.on = False
        self._items = 1
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._build)
        events.register("after-call.dynamodb", self._after)

    def _build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.on and "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"
        self._items = len(params.get("TransactItems") or ()) or 1

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if self.on:
            consumed = parsed.get("ConsumedCapacity")
            if isinstance(consumed, list):  # transactions report one entry per table
                consumed = consumed[0] if consumed else None
            self.calls.append({"op": model.name, "error": (parsed.get("Error") or {}).get("Code"),
                               "consumed": consumed, "items": self._items})

    @contextlib.contextmanager
    def recording(self):
        self.calls = []
        self.on = True
        try:
            yield self.calls
        finally:
            self.on = False


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
READS = {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}


def units(calls: list[dict[str, Any]], ops: set[str]) -> float:
    return sum((c["consumed"] or {}).get("CapacityUnits", 0.0) for c in calls if c["op"] in ops)


def table_units(calls: list[dict[str, Any]], ops: set[str]) -> float:
    return sum(((c["consumed"] or {}).get("Table") or {}).get("CapacityUnits", 0.0) for c in calls if c["op"] in ops)


def index_units(calls: list[dict[str, Any]], ops: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in calls:
        if c["op"] in ops:
            for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
                for name, v in ((c["consumed"] or {}).get(kind) or {}).items():
                    out[name] = out.get(name, 0.0) + v["CapacityUnits"]
    return out


def ops_text(calls: list[dict[str, Any]]) -> str:
    return ", ".join(c["op"] + ("(cancelled)" if c["error"] else "") for c in calls) or "-"


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------


def seed(fn: dict[str, ModuleType]) -> str:
    call(fn["admin"], event("admin_put_feature.json",
                            body={"name": "Bench", "pricing": {"type": "per_call", "credits": "1"}},
                            path=f"/v1/admin/features/{FEATURE}", path_params={"feature_id": FEATURE}), 200)
    call(fn["admin"], event("admin_post_adjustment.json", body={"amount": "1000000", "reason": "bench"},
                            headers={"idempotency-key": "bench-fund"}), 201)
    created = call(fn["admin"], event("admin_post_api_key.json", body={"name": "bench"}), 201)
    return json.loads(created["body"])["key"]


def stream_record(wallet_id: str, tx: str, old_tx: str, balance: int, seq: int) -> dict[str, Any]:
    """A wallet MODIFY record as the table's stream delivers it (shape of the sample event): the
    update numbered ``seq`` (every wallet update adds one) that wrote ``tx`` after ``old_tx``."""
    ev = json.loads((EVENTS / "ledger_stream_wallet_update.json").read_text())
    record = ev["Records"][0]
    change = record["dynamodb"]
    for image, last, bal, n in (("NewImage", tx, balance, seq), ("OldImage", old_tx, balance + 1000, seq - 1)):
        change[image]["PK"] = {"S": f"WALLET#{wallet_id}"}
        change[image]["wallet_id"] = {"S": wallet_id}
        change[image]["last_tx"] = {"S": last}
        change[image]["balance"] = {"N": str(bal)}
        change[image]["available"] = {"N": str(bal)}
        change[image]["seq"] = {"N": str(n)}
    change["Keys"]["PK"] = {"S": f"WALLET#{wallet_id}"}
    return ev


def measure_units(fn: dict[str, ModuleType], recorder: Recorder, api_key: str) -> dict[str, Any]:
    from tollgate.ledger import posting

    warm_txs = []
    for i in range(30):  # warm: catalog cached, history has more than a page
        warm_txs.append(json.loads(call(fn["deduction"], usage_event(f"units-warm-{i}"), 201)["body"])["transaction_id"])
    out: dict[str, Any] = {}
    with recorder.recording() as calls:
        reply = call(fn["deduction"], usage_event("units-debit"), 201)
    out["debit"] = list(calls)
    tx = json.loads(reply["body"])["transaction_id"]
    with recorder.recording() as calls:
        call(fn["deduction"], usage_event("units-debit"), 201)
    out["replay"] = list(calls)
    with recorder.recording() as calls:
        call(fn["history"], event("history_get_wallet.json"), 200)
    out["balance"] = list(calls)
    with recorder.recording() as calls:
        page = call(fn["history"], event("history_get_history.json"), 200)
    out["history"] = list(calls)
    out["history_items"] = len(json.loads(page["body"])["data"])
    # A stream batch of STREAM_BATCH entries of one wallet, chained as the stream gives them (each
    # update's old last_tx is the one before): per entry a read and a stamp (with its day-index keys),
    # per wallet a grant book read, and one transaction writing the book with the batch's aggregates.
    balance = posting.read_wallet(WALLET).balance
    chain = [*warm_txs[-(STREAM_BATCH - 1):], tx]
    records = [stream_record(WALLET, t, prev, balance + (len(chain) - 1 - n) * 1000, seq=1000 + n)["Records"][0]
               for n, (t, prev) in enumerate(zip(chain, ["tx_previous", *chain[:-1]], strict=True))]
    with recorder.recording() as calls:
        result = call(fn["ledger_stream"], {"Records": records})
    assert result == {"batchItemFailures": []}, result
    out["stamp"] = list(calls)
    stamps = [c for c in calls if c["op"] == "UpdateItem"]
    assert len(stamps) == STREAM_BATCH, f"{len(stamps)} of {STREAM_BATCH} entries stamped"
    auth_event = event("authorizer_request.json", headers={"x-api-key": api_key})
    with recorder.recording() as calls:
        with contextlib.redirect_stdout(DEVNULL):
            allowed = fn["authorizer"].lambda_handler(auth_event, Context())
    assert allowed["isAuthorized"], allowed
    out["authorizer"] = list(calls)
    return out


EARNING_USES = 100
DEVELOPER = "dev-bench"
DEVELOPER_FEATURE = "bench-dev-call"


def measure_earnings(fn: dict[str, ModuleType], recorder: Recorder) -> dict[str, Any]:
    """The earnings stream consumer on one batch of 100 usage entries of a developer's feature,
    delivered as the stream would (INSERT records of the entries), then delivered again."""
    from tollgate import keys
    from tollgate.ledger.models import LedgerEntryItem

    call(fn["admin"], event("admin_put_feature.json", body={
        "name": "Bench dev", "pricing": {"type": "per_call", "credits": "1"}, "developer_id": DEVELOPER,
        "revenue_share_bps": 3000}, path=f"/v1/admin/features/{DEVELOPER_FEATURE}",
        path_params={"feature_id": DEVELOPER_FEATURE}), 200)
    ids = []
    for i in range(EARNING_USES):
        reply = call(fn["deduction"], event("deduction_post_usage.json", body={"feature": DEVELOPER_FEATURE},
                                            headers={"idempotency-key": f"earn-{i}"}), 201)
        ids.append(json.loads(reply["body"])["transaction_id"])
    records = []
    for n, tx in enumerate(ids):
        item = LedgerEntryItem.get(*keys.entry(WALLET, tx), consistent_read=True)
        records.append({"eventID": f"bench-{n}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                        "dynamodb": {"Keys": {"PK": {"S": item.pk}, "SK": {"S": item.sk}},
                                     "NewImage": item.serialize(), "SequenceNumber": str(10**20 + n)}})
    # In the event source's batches (template.yaml), first as delivered, then all redelivered.
    size = earnings_batch_size()
    out: dict[str, Any] = {"batch_size": size}
    for name in ("first", "again"):
        with recorder.recording() as calls, contextlib.redirect_stdout(DEVNULL):
            for start in range(0, len(records), size):
                result = fn["earnings_stream"].lambda_handler({"Records": records[start:start + size]}, Context())
                assert result == {"batchItemFailures": []}, result
        out[name] = list(calls)
    return out


ORG = "bench-org"


def measure_org_debit(fn: dict[str, ModuleType], recorder: Recorder) -> dict[str, Any]:
    """A debit from an org wallet by a member (alice) with a monthly cap, and one by the same member uncapped:
    the membership read before the write, and the cap's item in the same transaction (capped only)."""
    org_wallet = f"org:{ORG}"
    call(fn["admin"], event("admin_put_org.json", body={"name": "Bench"}, path=f"/v1/admin/orgs/{ORG}",
                            path_params={"org_id": ORG}), 200)
    call(fn["admin"], event("admin_post_adjustment.json", body={"amount": "1000", "reason": "bench"},
                            headers={"idempotency-key": "bench-org-fund"}, path=f"/v1/admin/wallets/{org_wallet}/adjustments",
                            path_params={"wallet_id": org_wallet}), 201)

    def member(cap: str | None) -> None:
        body = {"role": "member"} if cap is None else {"role": "member", "monthly_cap": cap}
        call(fn["admin"], event("admin_put_org_member.json", body=body, path=f"/v1/admin/orgs/{ORG}/members/alice",
                                path_params={"org_id": ORG, "sub": "alice"}), 200)

    def debit(key: str) -> dict[str, Any]:
        return event("deduction_post_usage.json", body={"feature": FEATURE, "wallet_id": org_wallet},
                     headers={"idempotency-key": key})

    out: dict[str, Any] = {}
    for name, cap in (("uncapped", None), ("capped", "100000")):
        member(cap)
        call(fn["deduction"], debit(f"org-warm-{name}"), 201)  # the month's spend item exists (capped)
        with recorder.recording() as calls:
            call(fn["deduction"], debit(f"org-{name}"), 201)
        out[name] = list(calls)
    return out


def earnings_batch_size() -> int:
    from tollgate_local import template

    fn = template.resources("AWS::Serverless::Function")["EarningsStreamFunction"]
    return int(next(e["Properties"]["BatchSize"] for e in fn["Properties"]["Events"].values()
                    if e["Type"] == "DynamoDB"))


def measure_overhead(fn: dict[str, ModuleType], client: Any, api_key: str) -> dict[str, Any]:
    """Interleaved: one handler debit, one bare transaction, ... (same backend, same client)."""
    from tollgate import clock, idempotency, keys
    from tollgate.data import Transaction
    from tollgate.ledger import posting, repository

    posting.credit(posting.new_entry(wallet_id=BARE_WALLET, transaction_id="tx_bare_fund", entry_type="adjustment",
                                     amount=10**9, now_ms=clock.now_ms(), request_hash="0" * 64,
                                     actor="user:root", reason="bench"), 10**9)

    def bare_items(i: int) -> list[dict[str, Any]]:
        # The same two items a debit writes: the entry put and the conditioned wallet update,
        # keyed as a debit keys them (an id derived from an Idempotency-Key, not a sequence).
        tx = idempotency.record_id("tx", BARE_WALLET, "usage", f"bare-{i}", located=True)
        now_ms = clock.now_ms()
        entry = posting.new_entry(wallet_id=BARE_WALLET, transaction_id=tx, entry_type="usage", amount=-1000,
                                  now_ms=now_ms, request_hash="0" * 64, actor="user:alice", feature=FEATURE,
                                  priced_by="per_call")
        bare = Transaction()
        repository.put_entry(bare, entry)
        repository.debit_wallet(bare, BARE_WALLET, 1000, tx, clock.iso(now_ms))
        return bare.request_items()

    total = WARMUP_CALLS + TIMED_CALLS
    events = [usage_event(f"timed-{i}") for i in range(total)]          # built before timing
    contexts = [Context() for _ in range(total)]
    bare = [bare_items(i) for i in range(total)]
    handler = fn["deduction"].lambda_handler
    transact, get_item = client.transact_write_items, client.get_item
    pk, sk = keys.wallet(BARE_WALLET)
    read = {"TableName": TABLE, "Key": {"PK": {"S": pk}, "SK": {"S": sk}}, "ConsistentRead": True}
    handler_ns, bare_ns, read_ns = [], [], []
    with contextlib.redirect_stdout(DEVNULL):  # the handler prints one EMF metrics line per call
        for i in range(total):
            t0 = time.perf_counter_ns()
            response = handler(events[i], contexts[i])
            t1 = time.perf_counter_ns()
            transact(TransactItems=bare[i])
            t2 = time.perf_counter_ns()
            get_item(**read)
            t3 = time.perf_counter_ns()
            if response["statusCode"] != 201:
                raise SystemExit(f"debit failed during timing: {response}")
            if i >= WARMUP_CALLS:
                handler_ns.append(t1 - t0)
                bare_ns.append(t2 - t1)
                read_ns.append(t3 - t2)

    auth_event = event("authorizer_request.json", headers={"x-api-key": api_key})
    auth_ns = []
    with contextlib.redirect_stdout(DEVNULL):
        for i in range(WARMUP_CALLS + 300):
            t0 = time.perf_counter_ns()
            fn["authorizer"].lambda_handler(auth_event, Context())
            if i >= WARMUP_CALLS:
                auth_ns.append(time.perf_counter_ns() - t0)
    return {
        "handler_ms": statistics.median(handler_ns) / 1e6,
        "bare_ms": statistics.median(bare_ns) / 1e6,
        "handler_p90_ms": statistics.quantiles(handler_ns, n=10)[-1] / 1e6,
        "bare_p90_ms": statistics.quantiles(bare_ns, n=10)[-1] / 1e6,
        "read_ms": statistics.median(read_ns) / 1e6,
        "authorizer_ms": statistics.median(auth_ns) / 1e6,
        "calls": len(handler_ns),
    }


_IMPORT_CODE = """
import sys, time, types
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def _timed_subprocess(body: str) -> float:
    code = _IMPORT_CODE.format(paths=PATHS, body=body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                         cwd=ROOT, check=True, timeout=60)
    return float(out.stdout.strip().splitlines()[-1])


def measure_imports() -> dict[str, float]:
    # The deployed layer carries its .pyc files; pip already compiled the venv's packages. Function
    # code ships as source, so app.py is compiled in every run (no cached .pyc for it is read).
    compileall.compile_dir(ROOT / "layers" / "tollgate" / "tollgate", quiet=1)
    bodies = {"boto3 + client": 'import boto3\nboto3.client("dynamodb")'}
    for app in sorted(FUNCTIONS.glob("*/app.py")):
        bodies[app.parent.name] = (
            f"path = {str(app)!r}\n"
            'module = types.ModuleType("app")\nmodule.__file__ = path\nsys.modules["app"] = module\n'
            'exec(compile(open(path).read(), path, "exec"), module.__dict__)'
        )
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(IMPORT_RUNS):  # round-robin, so drift hits every figure alike
        for name, body in bodies.items():
            samples[name].append(_timed_subprocess(body))
    return {name: statistics.median(v) * 1000 for name, v in samples.items()}


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "OVER"


def report(u: dict[str, Any], t: dict[str, Any], imports: dict[str, float], elapsed: float) -> None:
    rows: list[tuple[str, str, str, str]] = []

    def row(metric: str, measured: str, target: str = "", result: str = "") -> None:
        rows.append((metric, measured, target, result))

    debit = u["debit"]
    write_at = [i for i, c in enumerate(debit) if c["op"] in WRITES]
    reads_before = [c for c in debit[: write_at[0] if write_at else len(debit)] if c["op"] in READS]
    reads_after = [c for c in debit[(write_at[-1] + 1) if write_at else 0:] if c["op"] in READS]
    debit_wcu, debit_table_wcu = units(debit, WRITES), table_units(debit, WRITES)
    debit_rcu = units(debit, READS)
    lsi = index_units(debit, WRITES)
    row("debit: requests", ops_text(debit))
    row("debit: write requests", str(len(write_at)), "= 1", verdict(len(write_at) == 1))
    row("debit: reads before / after the write", f"{len(reads_before)} / {len(reads_after)}", "0 / <= 1",
        verdict(not reads_before and len(reads_after) <= 1))
    row("debit: WCU, total reported", f"{debit_wcu:g}", f"<= {BUDGET_DEBIT_WCU:g}",
        verdict(debit_wcu <= BUDGET_DEBIT_WCU))
    row("  of which table / LSIs", f"{debit_table_wcu:g} / "
        + (", ".join(f"{k} {v:g}" for k, v in sorted(lsi.items())) or "0"),
        f"table <= {BUDGET_DEBIT_TABLE_WCU:g}", verdict(debit_table_wcu <= BUDGET_DEBIT_TABLE_WCU))
    row("debit: RCU", f"{debit_rcu:g}")
    replay = u["replay"]
    new_writes = [c for c in replay if c["op"] in WRITES and not c["error"]]
    row("replayed debit: requests", ops_text(replay))
    row("replayed debit: new writes", str(len(new_writes)), "0", verdict(not new_writes))
    row("replayed debit: WCU / RCU", f"{units(replay, WRITES):g} (cancelled: none reported) / "
        f"{units(replay, READS):g}")
    balance = u["balance"]
    row("balance read: requests", ops_text(balance), "1 read",
        verdict(len(balance) == 1 and balance[0]["op"] in READS))
    row("balance read: RCU", f"{units(balance, READS):g}")
    history = u["history"]
    row("history page: requests", ops_text(history), "1 query",
        verdict(len(history) == 1 and history[0]["op"] == "Query"))
    row(f"history page ({u['history_items']} entries): RCU", f"{units(history, READS):g}")
    stamp = u["stamp"]
    entry_writes = [c for c in stamp if c["op"] == "UpdateItem"]  # each entry's stamp
    book_writes = [c for c in stamp if c["op"] in WRITES and c["op"] != "UpdateItem"]  # the book's (+ aggregates)
    counted = collections.Counter(c["op"] for c in stamp)
    row(f"stream batch ({STREAM_BATCH} entries, 1 wallet): requests",
        ", ".join(f"{n} {op}" for op, n in counted.items()))
    row("  stamp balance_after (+ grants, day index): writes / entry", f"{len(entry_writes) / STREAM_BATCH:g}", "<= 1 write",
        verdict(len(entry_writes) <= STREAM_BATCH))
    row("  grant book + aggregates: writes / wallet / batch", str(len(book_writes)), "1 (departure)",
        verdict(len(book_writes) <= 1))
    row("  WCU / entry, total (table / LSIs)", f"{units(stamp, WRITES) / STREAM_BATCH:g} "
        f"({table_units(stamp, WRITES) / STREAM_BATCH:g} / {sum(index_units(stamp, WRITES).values()) / STREAM_BATCH:g})")
    row("  RCU / entry", f"{units(stamp, READS) / STREAM_BATCH:g}")
    auth = u["authorizer"]
    row("authorizer (API key): requests / RCU", f"{ops_text(auth)} / {units(auth, READS):g}")
    first, again, size = u["earnings"]["first"], u["earnings"]["again"], u["earnings"]["batch_size"]
    writes = [c for c in first if c["op"] in WRITES]
    items = sum(c["items"] for c in writes)
    batches = -(-EARNING_USES // size)
    row(f"earnings: requests per {EARNING_USES} usage entries ({batches} batches of <= {size})", ops_text(first))
    row("earnings: write requests per batch (1 developer)", f"{len(writes) / batches:g}", "1 per developer",
        verdict(len(writes) == batches))
    # DynamoDB Local under-reports a transaction of many actions of one kind: AWS bills 2 WCU per item (< 1 KB).
    row("earnings: items written / WCU (AWS rule: 2 per transactional item)", f"{items} / {2 * items}")
    row("earnings: the same batch redelivered", ops_text(again), "no new write",
        verdict(not [c for c in again if c["op"] in WRITES and not c["error"]]))

    for name, calls in u["org"].items():
        writes_at = [i for i, c in enumerate(calls) if c["op"] in WRITES]
        before = [c for c in calls[: writes_at[0] if writes_at else len(calls)] if c["op"] in READS]
        items = sum(c["items"] for c in calls if c["op"] in WRITES)
        lsi_wcu = sum(index_units(calls, WRITES).values())
        row(f"org wallet debit, {name} member: requests", ops_text(calls))
        row(f"org wallet debit, {name} member: write requests / items", f"{len(writes_at)} / {items}", "= 1",
            verdict(len(writes_at) == 1))
        row(f"org wallet debit, {name} member: reads before (membership)", str(len(before)), "1",
            verdict(len(before) == 1))
        # DynamoDB Local under-reports a transaction of several Updates: AWS bills 2 WCU per transactional item.
        row(f"org wallet debit, {name} member: WCU reported / AWS rule", f"{units(calls, WRITES):g} / "
            f"{2 * items + lsi_wcu:g} ({2 * items} for {items} items + {lsi_wcu:g} LSI1)")

    ratio = t["handler_ms"] / t["bare_ms"]
    row(f"handler in-process, median of {t['calls']}", f"{t['handler_ms']:.2f} ms (p90 {t['handler_p90_ms']:.2f})")
    row(f"bare transact_write_items, median of {t['calls']}", f"{t['bare_ms']:.2f} ms (p90 {t['bare_p90_ms']:.2f})")
    row("handler / bare transaction", f"{ratio:.2f}x", f"<= {BUDGET_RATIO}x", verdict(ratio <= BUDGET_RATIO))
    floor = t["bare_ms"] + t["read_ms"]
    row("  bare GetItem (the read after), median", f"{t['read_ms']:.2f} ms")
    row("  handler / (bare transaction + bare GetItem)", f"{t['handler_ms'] / floor:.2f}x "
        f"(+{t['handler_ms'] - floor:.2f} ms in Python)")
    row("authorizer in-process, median (API key)", f"{t['authorizer_ms']:.2f} ms")

    base = imports["boto3 + client"]
    row(f"import boto3 + client, median of {IMPORT_RUNS}", f"{base:.0f} ms")
    for name, ms in imports.items():
        if name != "boto3 + client":
            r = ms / base
            row(f"import functions/{name}/app.py", f"{ms:.0f} ms = {r:.2f}x", f"<= {BUDGET_RATIO}x",
                verdict(r <= BUDGET_RATIO))

    # Cost per million debits.
    billed_s = math.ceil(t["handler_ms"]) / 1000  # Lambda bills duration in 1 ms steps
    auth_billed_s = math.ceil(t["authorizer_ms"]) / 1000
    million = 1e6
    cost = {
        "DynamoDB writes": debit_wcu * PRICE_WRU * million,
        "DynamoDB reads": debit_rcu * PRICE_RRU * million,
        "Lambda (deduction)": (billed_s * DEDUCTION_MEMORY_GB * PRICE_LAMBDA_GB_S + PRICE_LAMBDA_REQUEST) * million,
        "HTTP API": PRICE_HTTP_API_REQUEST * million,
    }
    request_path = sum(cost.values())
    stamp_cost = (units(stamp, WRITES) * PRICE_WRU + units(stamp, READS) * PRICE_RRU) / STREAM_BATCH * million
    auth_cost = (auth_billed_s * AUTHORIZER_MEMORY_GB * PRICE_LAMBDA_GB_S + PRICE_LAMBDA_REQUEST
                 + units(auth, READS) * PRICE_RRU) * million
    for name, usd in cost.items():
        row(f"cost / 1M debits: {name}", f"${usd:.2f}")
    row("cost / 1M debits: request path", f"${request_path:.2f}", "computed", "-")
    row("  + balance_after stamps and grant attribution (stream, off path)", f"${stamp_cost:.2f}")
    row("  + Lambda authorizer (API key, uncached)", f"${auth_cost:.2f}")
    row("cost / 1M debits: with stamps + authorizer", f"${request_path + stamp_cost + auth_cost:.2f}", "computed", "-")

    header = ("metric", "measured", "target", "verdict")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print()
    print(f"Tollgate bench - DynamoDB Local (real engine), {time.strftime('%Y-%m-%d %H:%M:%S')}, "
          f"{elapsed:.0f} s")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print(line)
    print("Prices (on-demand list, USD): DynamoDB $0.625 per million WRU (a transactional write is 2 WRU per item;")
    print("  DynamoDB Local's consumed capacity already counts it so), $0.125 per million RRU; Lambda arm64")
    print(f"  $0.0000133334 per GB-s at {DEDUCTION_MEMORY_GB * 1024:.0f} MB (authorizer {AUTHORIZER_MEMORY_GB * 1024:.0f} MB)"
          " + $0.20 per million requests,")
    print("  duration = measured in-process median rounded up to 1 ms; HTTP API $1.00 per million requests.")
    print("Notes: LSI writes are billed like table writes, so the WCU line counts them. A cancelled transaction")
    print("  reports no capacity. The stream consumer's own invocations (batches of up to 100 records) are not")
    print("  included. Person callers' JWTs are verified in the authorizer without DynamoDB reads.")
    over = [r for r in rows if r[3] == "OVER"]
    print(f"{len(over)} figure(s) over budget." if over else "All budgets met.")


DEVNULL = open(os.devnull, "w")  # for the whole run


def main() -> int:
    from tollgate import data
    from tollgate.config import settings
    from tollgate.pricing import reset_cache
    from tollgate_local.dynamodb_local import DynamoDBLocal
    from tollgate_local.template import create_table

    started = time.perf_counter()
    print("starting DynamoDB Local on 127.0.0.1 ...", flush=True)
    with DynamoDBLocal() as ddb:
        client = make_client(ddb.endpoint)
        create_table(client, "TollgateTable", TABLE)
        settings.cache_clear()
        data.set_client(client)
        reset_cache()
        fn = {name: load_function(name, "tollgate_bench")
              for name in ("admin", "deduction", "history", "ledger_stream", "earnings_stream", "authorizer")}
        api_key = seed(fn)
        print("measuring requests and capacity ...", flush=True)
        recorder = Recorder(client)
        measured_units = measure_units(fn, recorder, api_key)
        print(f"timing {WARMUP_CALLS + TIMED_CALLS} handler debits and as many bare transactions ...", flush=True)
        timing = measure_overhead(fn, client, api_key)
        print("measuring the earnings stream consumer ...", flush=True)
        measured_units["earnings"] = measure_earnings(fn, recorder)
        print("measuring org wallet debits (a member with and without a monthly cap) ...", flush=True)
        measured_units["org"] = measure_org_debit(fn, recorder)
        data.set_client(None)
    print(f"timing imports ({IMPORT_RUNS} fresh subprocesses each) ...", flush=True)
    imports = measure_imports()
    report(measured_units, timing, imports, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
