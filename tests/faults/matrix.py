"""The fault tier's matrix, shared by its test modules: the faults, a path and one attempt of it,
what a retryable answer is, and the run of one (path, DynamoDB fault) case.

For every (path, fault): the first attempt is made with the fault planned; its caller gets the
right answer or a retryable refusal (HTTP: 503 ``try_again`` with ``Retry-After``; a workflow
step: an error its state in the real ``statemachines/*.asl.json`` retries; a webhook: a 5xx, so
the gateway redelivers). Then the same request again, fault cleared, completes it; the money
moved exactly once (no credit lost or created, nothing charged twice) and every ledger touched
still sums to its balance. Each case's outcome goes to ``test-output/faults/report.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.faults.conftest import record
from tests.faults.layer import DynamoFaults, FaultyGateway
from tests.functional.fake_gateway import FakeGateway
from tests.functional.fake_payouts import FakePayoutGateway, RecordingEngine
from tests.support import (
    ADMIN,
    ALICE,
    FUNCTIONS,
    LambdaContext,
    Reply,
    invoke,
    load_function,
    set_gateway,
    set_payout_gateway,
    set_workflow_engine,
)

STATEMACHINES = FUNCTIONS.parent / "statemachines"
WALLET = ALICE.wallet_id
# (name, fault, how many requests in a row it hits): once is retried away by botocore (1 + 4
# retries, CLIENT_CONFIG); five exhaust them; twelve exhaust Transaction's own conflict retries.
DYNAMO_FAULTS = [
    ("throttle once", "throttle", 1),
    ("throttle storm", "throttle", 5),
    ("5xx storm", "internal_error", 5),
    ("conflict storm", "conflict", 12),
    ("connection reset storm", "reset", 5),
    ("applied, answer lost once", "timeout_after_write", 1),
    ("applied, answer lost x5", "timeout_after_write", 5),
]
GATEWAY_FAULTS = [("gateway timeout", "timeout"), ("gateway 5xx", "server_error"),
                  ("gateway connection reset", "reset"), ("gateway acted, answer lost", "timeout_after_call")]


def _task(machine: str, step: str) -> dict[str, Any]:
    """The Task state of ``machine``'s real ``.asl.json`` that runs ``step``, its placeholders
    filled from the state machine's ``DefinitionSubstitutions`` in template.yaml (numbers; any
    other placeholder, an ARN, becomes "1")."""
    substitutions = _substitutions(machine)
    text = re.sub(r"\$\{(\w+)\}", lambda m: str(substitutions.get(m.group(1), 1)),
                  (STATEMACHINES / f"{machine}.asl.json").read_text())
    for state in json.loads(text)["States"].values():
        if state.get("Type") == "Task" and (state.get("Parameters") or {}).get("step") == step:
            return state
    raise AssertionError(f"no Task runs step {step!r} in {machine}.asl.json")


@cache
def _substitutions(machine: str) -> dict[str, int]:
    from tollgate_local import template

    for resource in template.load()["Resources"].values():
        properties = resource.get("Properties") or {}
        if str(properties.get("DefinitionUri", "")).endswith(f"/{machine}.asl.json"):
            return {k: v for k, v in (properties.get("DefinitionSubstitutions") or {}).items() if isinstance(v, int)}
    return {}


def retried_errors(machine: str, step: str) -> set[str]:
    """The errors the real state machine retries for the Task state that runs ``step``."""
    return {e for rule in _task(machine, step).get("Retry", []) for e in rule["ErrorEquals"]}


def retries(machine: str, step: str, error: str) -> int:
    """How many times the real state machine retries ``step`` after ``error`` (its rule's
    ``MaxAttempts``: the first try not counted) before its Catch takes over."""
    for rule in _task(machine, step).get("Retry", []):
        if error in rule["ErrorEquals"] or "States.ALL" in rule["ErrorEquals"]:
            return int(rule.get("MaxAttempts", 3))
    return 0


@dataclass
class Attempt:
    """One try of a path: an HTTP reply, or a workflow step's result or error."""

    status: int | None = None
    reply: Reply | None = None
    error: str | None = None
    result: Any = None  # a step's return value

    def summary(self) -> str:
        if self.error:
            return self.error
        if self.reply is None:
            return "ok"  # a workflow step that returned
        return f"{self.reply.status}" + (f" {self.reply.error_code}" if self.reply.error_code else "")


def http(reply: Reply) -> Attempt:
    return Attempt(status=reply.status, reply=reply)


def step(function: str, event: dict[str, Any]) -> Attempt:
    """One invocation of a workflow step's (or a scheduled) function, as Lambda would report it."""
    try:
        result = load_function(function).lambda_handler(event, LambdaContext())
    except Exception as exc:  # what Lambda reports as errorType: the class name
        return Attempt(error=type(exc).__name__)
    return Attempt(status=200, result=result)


def assert_retryable(attempt: Attempt, *, ok: int, retried: set[str] | None = None) -> None:
    if attempt.error is not None:
        assert retried is not None and attempt.error in retried, (attempt.error, retried)
        return
    if attempt.reply is None or attempt.status == ok:  # a workflow step that succeeded, or the right answer
        return
    reply = attempt.reply
    assert (reply.status, reply.error_code) == (503, "try_again"), reply
    assert reply.headers.get("Retry-After") == "1", reply.headers


def completed(attempt: Attempt, ok: int) -> bool:
    """The same request again, once DynamoDB answers, did the work (or replayed it)."""
    return attempt.error is None and attempt.status in (ok, 200, 201, 202)


@dataclass
class Path:
    name: str
    operations: tuple[str, ...]  # the DynamoDB operations the fault is planned on
    setup: Callable[[Any], Any]
    attempt: Callable[[Any], Attempt]
    done_once: Callable[[Any], None]  # the effect happened exactly once
    ok: int = 200
    retried: set[str] | None = None
    # The answer to the same request again is also right when this says so (None: only ``ok``).
    also_done: Callable[[Attempt], bool] | None = None
    faults: tuple[str, ...] | None = None  # the DYNAMO_FAULTS it runs under (None: each that fits)
    after: int = 0  # requests of each operation let through before the fault (to reach a later write)


def dynamo_cases(paths: list[Path]) -> list[Any]:
    """(path, fault) cases; a conflict is a transaction's fault: planned only on paths whose fault
    lands on one."""
    import pytest

    return [pytest.param(path, *fault, id=f"{path.name}-{fault[0]}") for path in paths for fault in DYNAMO_FAULTS
            if (fault[1] != "conflict" or "TransactWriteItems" in path.operations)
            and (path.faults is None or fault[0] in path.faults)]


def run_dynamo_case(aws: Any, faults: DynamoFaults, path: Path, fault_name: str, fault: str, times: int) -> None:
    context = path.setup(aws)
    for operation in path.operations:
        faults.plan(operation, fault, times, after=path.after)  # type: ignore[arg-type]
    first = path.attempt(context)
    hit = sum(faults.injected.values())
    faults.clear()
    assert hit >= 1, f"the fault never reached {path.name}: plan it on the operation the path makes"
    assert_retryable(first, ok=path.ok, retried=path.retried)
    second = path.attempt(context)  # the same request again (same Idempotency-Key, same step)
    assert completed(second, path.ok) or (path.also_done is not None and path.also_done(second)), second
    path.done_once(context)
    record(path.name, fault_name, f"{first.summary()} → {second.summary()}")


def run_task(machine: str, event: dict[str, Any]) -> list[Attempt]:
    """The workflow step ``event`` run as its Task state in the real ``.asl.json`` runs it: again
    after each error its Retry names (any other error fails the case), up to 1 + MaxAttempts tries.
    The tries made: the last one succeeded, or its error goes to the state's Catch."""
    tries: list[Attempt] = []
    while True:
        attempt = step(f"{machine}_workflow", event)
        tries.append(attempt)
        if attempt.error is None:
            return tries
        assert attempt.error in retried_errors(machine, event["step"]), (event, attempt)
        if len(tries) > retries(machine, event["step"], attempt.error):
            return tries


def caught(error: str, message: str) -> dict[str, str]:
    """The ``$.error`` a Task's Catch hands Compensate: the step's error name and Lambda's JSON cause."""
    return {"Error": error, "Cause": json.dumps({"errorMessage": message, "errorType": error})}


def tries_summary(tries: list[Attempt]) -> str:
    """``TransientRefundError x6 → ok``: the tries in a row, the same answers counted."""
    runs: list[list[Any]] = []
    for attempt in tries:
        if runs and runs[-1][0] == attempt.summary():
            runs[-1][1] += 1
        else:
            runs.append([attempt.summary(), 1])
    return " → ".join(f"{answer} x{n}" if n > 1 else answer for answer, n in runs)


def step_under_fault(faulty: FaultyGateway, method: str, fault: str, machine: str,
                     event: dict[str, Any]) -> tuple[Attempt, Attempt]:
    """The workflow step ``event`` with the gateway's ``method`` failing once as ``fault``: an error
    the state machine retries for that step; then the step again, which completes."""
    faulty.plan(method, fault)  # type: ignore[arg-type]
    first = step(f"{machine}_workflow", event)
    assert first.error in retried_errors(machine, event["step"]), (fault, first)
    second = step(f"{machine}_workflow", event)
    assert second.error is None, second
    return first, second


# -- setups shared by the modules ---------------------------------------------------------------


def fund(wallet: str, amount: str) -> None:
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "fault tier"},
                   headers={"idempotency-key": f"fund-{wallet}"}, path=f"/v1/admin/wallets/{wallet}/adjustments",
                   path_params={"wallet_id": wallet})
    assert reply.status == 201, reply


def feature(feature_id: str, credits: str, **fields: Any) -> None:
    reply = invoke("admin_put_feature.json", caller=ADMIN, path=f"/v1/admin/features/{feature_id}",
                   path_params={"feature_id": feature_id},
                   body={"name": feature_id, "pricing": {"type": "per_call", "credits": credits}, **fields})
    assert reply.status == 200, reply


def shop(aws: Any) -> dict[str, FakeGateway]:
    """Both payment gateways faked, workflows recorded, the "starter" package (100 credits for 1000
    cents or 1,500,000 kobo) and the sample settings."""
    fakes = {name: FakeGateway(name) for name in ("stripe", "paystack")}
    for name, fake in fakes.items():
        set_gateway(name, fake)
    workflows()
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200
    assert invoke("admin_put_settings.json", caller=ADMIN).status == 200
    return fakes


def refund_under_way(aws: Any) -> tuple[str, FaultyGateway, FakeGateway]:
    """A refund of 40 of a purchase's 100 credits, clawed back: its id, the Stripe fake behind a fault
    layer (the gateway the refund workflow calls), and the fake itself."""
    from tests.functional.fake_refunds import ask, buy
    from tollgate.gateways import GatewayError

    fakes = shop(aws)
    faulty = FaultyGateway(fakes["stripe"], "stripe", GatewayError)
    set_gateway("stripe", faulty)
    purchase = buy()
    reply = ask(purchase["purchase_id"], {"credits": "40", "reason": "fault tier"})
    assert reply.status == 202, reply
    refund_id = reply.body["refund_id"]
    assert run_task("refund", {"step": "claw_back", "refund_id": refund_id})[-1].error is None
    return refund_id, faulty, fakes["stripe"]


def workflows() -> RecordingEngine:
    """Workflows started and task tokens answered, recorded (in the tests and every function)."""
    engine = RecordingEngine()
    set_workflow_engine(engine)
    return engine


@dataclass
class Earned:
    payout_gateways: dict[str, FakePayoutGateway]
    engine: RecordingEngine


def earned(aws: Any, gateway: str = "paystack") -> Earned:
    """dev-carol has earnings available to pay out now (one call of a feature that shares a third of
    its 600 credits with her: 199.98 credits), payout rates set, and an active account on ``gateway``."""
    from tests.functional.developers import CAROL, deliver, earning_records

    gateways = {name: FakePayoutGateway(name) for name in ("paystack", "stripe")}
    gateways["stripe"].enabled.add(f"acct_{CAROL.sub}")  # done onboarding
    for name, fake in gateways.items():
        set_payout_gateway(name, fake)
    engine = workflows()
    feature("shared", "600", developer_id=CAROL.sub, revenue_share_bps=3333)
    settings = {**invoke("admin_get_settings.json", caller=ADMIN).body, "earnings_hold_days": 0,
                "payout_rates": {"USD": "0.8", "NGN": "12.5"}, "payout_minimums": {"USD": 100, "NGN": 500}}
    settings.pop("updated_at", None)
    assert invoke("admin_put_settings.json", caller=ADMIN, body=settings).status == 200
    fund(WALLET, "1000")
    reply = invoke("deduction_post_usage.json", body={"feature": "shared"}, headers={"idempotency-key": "shared-1"})
    assert reply.status == 201, reply
    deliver(earning_records(aws))
    account = ({"gateway": "paystack", "bank_code": "058", "account_number": "0123456789", "account_name": "Carol"}
               if gateway == "paystack" else {"gateway": "stripe"})
    reply = invoke("payouts_put_payout_account.json", caller=CAROL, body=account)
    assert (reply.status, reply.body["status"]) == (200, "active"), reply
    return Earned(gateways, engine)


def paystack_checkout(aws: Any) -> tuple[dict[str, Any], dict[str, FakeGateway]]:
    """A Paystack checkout (100 credits for 1,500,000 kobo) that Paystack's verify call confirms paid."""
    from tests.functional.fake_refunds import checkout
    from tollgate.gateways import PaymentStatus

    fakes = shop(aws)
    purchase = checkout(gateway="paystack", currency="NGN")
    fakes["paystack"].verified[purchase["reference"]] = PaymentStatus(
        reference=purchase["reference"], succeeded=True, status="success", amount=purchase["amount"], currency="NGN")
    return purchase, fakes


def paystack_paid(purchase: dict[str, Any]) -> Attempt:
    """Paystack's ``charge.success`` for ``purchase`` (the same event on every delivery)."""
    from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, webhook_body

    body = webhook_body(event_id=f"charge.success:{purchase['purchase_id']}", kind="payment_succeeded",
                        raw_type="charge.success", purchase_id=purchase["purchase_id"],
                        reference=purchase["reference"], amount=purchase["amount"], currency=purchase["currency"])
    return http(invoke("webhooks_paystack.json", caller=None, raw_body=body, headers={SIGNATURE_HEADER: GOOD_SIGNATURE}))
