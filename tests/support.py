"""Shared test helpers: drive function handlers with events/*.json, check the ledger.

Each function runs in a namespace of its own (``tollgate_local.namespaces``): its private copy
of its code and of the layer, as its own Lambda containers would have, so a cache, client or
clock offset in one function is never another's. The tests' own ``import tollgate`` is one
more namespace (the host's), used to read and check the table. A helper that changes layer
state for a test (moving the clock, binding a client, installing a fake) must reach every
namespace: use :func:`layer_modules`, :func:`advance_clock`, :func:`set_gateway` or
:func:`patch_layer` or :func:`reset_layer_state` rather than a module of the tests' own.
"""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pytest

    from tollgate_local.functions import FunctionSpec
    from tollgate_local.namespaces import FunctionNamespace, HostNamespace

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"

# functions/<name> -> (its namespace, its template entry); made for every function at once.
_functions: dict[str, tuple[FunctionNamespace, FunctionSpec]] = {}
_host: list[HostNamespace] = []

T = TypeVar("T")


def _namespaces() -> dict[str, tuple[FunctionNamespace, FunctionSpec]]:
    # Every namespace exists from the first use on (their modules load when first imported), so
    # a helper reaching "every function" never misses one: a clock moved before a function's
    # first call is already moved in that function's copy of the clock.
    if not _functions:
        from tollgate_local.functions import function_specs
        from tollgate_local.namespaces import FunctionNamespace, HostNamespace

        specs = function_specs()
        _functions.update({spec.code_dir.name: (FunctionNamespace(spec.name, [spec.code_dir, *spec.layers]), spec)
                           for spec in specs.values()})
        layer_packages = {entry.stem for spec in specs.values() for layer in spec.layers for entry in layer.iterdir()
                          if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").exists())}
        _host.append(HostNamespace(layer_packages))
    return _functions


def host_namespace() -> HostNamespace:
    """The tests' own modules, as a namespace."""
    _namespaces()
    return _host[0]


def function_namespace(name: str) -> FunctionNamespace:
    """The namespace of functions/<name>."""
    return _namespaces()[name][0]


def load_function(name: str) -> ModuleType:
    """functions/<name>'s handler module, imported in the function's own namespace."""
    namespace, spec = _namespaces()[name]
    return namespace.module(spec.handler_module)


def layer_modules(name: str) -> list[ModuleType]:
    """Module ``name`` (``"tollgate.clock"``) as the tests have it, then each function's copy."""
    return [host_namespace().module(name)] + [namespace.module(name) for namespace, _ in _namespaces().values()]


def reset_layer_state(client: Any = None) -> None:
    """The layer's state as a cold start has it, for the tests and every function: DynamoDB
    client ``client`` (None: the one the environment names), empty caches (prices, wallets' shard
    layouts, API keys' full rate-limit shards), the clock unmoved."""
    for data in layer_modules("tollgate.data"):
        data.set_client(client)
    for pricing in layer_modules("tollgate.pricing"):
        pricing.reset_cache()
    for clock in layer_modules("tollgate.clock"):
        clock.reset()
    for shards in layer_modules("tollgate.shards.service"):
        shards.reset()
    for limits in layer_modules("tollgate.ratelimit.service"):
        limits.reset()


def advance_clock(ms: int) -> None:
    """Move time forward by ``ms`` for the tests and every function (``tollgate.clock``)."""
    for clock in layer_modules("tollgate.clock"):
        clock.advance(ms)


def advance_clock_to_noon() -> None:
    """Move time forward to the next 12:00 UTC, so that a test stepping whole days from there
    stays clear of midnight: its days are consecutive calendar days whenever it runs."""
    from tollgate import clock

    day = 86_400_000
    advance_clock((day // 2 - clock.now_ms()) % day)


def set_gateway(name: str, gateway: Any) -> None:
    """Install a payment gateway fake (None: forget it) in every function, as ``tollgate.gateways.
    set_gateway`` does in one. Each function gets the fake as seen from its namespace: what it
    returns and raises is re-made of that function's classes (``except GatewayError`` works)."""
    from tollgate_local.namespaces import cross

    host = host_namespace()
    host.module("tollgate.gateways").set_gateway(name, gateway)
    for namespace, _ in _namespaces().values():
        namespace.module("tollgate.gateways").set_gateway(name, None if gateway is None else cross(gateway, host, namespace))


def set_payout_gateway(name: str, gateway: Any) -> None:
    """Install a payout gateway fake (None: forget it) in the tests and every function."""
    _install("tollgate.gateways", "set_payout_gateway", gateway, name)


def set_workflow_engine(engine: Any) -> None:
    """Run workflows on ``engine`` (None: Step Functions) in the tests and every function."""
    _install("tollgate.workflows", "set_engine", engine)


def _install(module: str, setter: str, fake: Any, *args: Any) -> None:
    from tollgate_local.namespaces import cross

    host = host_namespace()
    getattr(host.module(module), setter)(*args, fake)
    for namespace, _ in _namespaces().values():
        getattr(namespace.module(module), setter)(*args, None if fake is None else cross(fake, host, namespace))


def patch_layer(monkeypatch: pytest.MonkeyPatch, module: str, name: str, value: Any) -> None:
    """``monkeypatch.setattr`` on ``module`` in the tests' namespace and every function's;
    a callable crosses into each as :func:`set_gateway`'s fakes do."""
    from tollgate_local.namespaces import cross

    host = host_namespace()
    monkeypatch.setattr(host.module(module), name, value)
    for namespace, _ in _namespaces().values():
        monkeypatch.setattr(namespace.module(module), name, cross(value, host, namespace) if callable(value) else value)


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass(frozen=True)
class Caller:
    """Who a test request is from, as either authorizer would pass it on."""

    sub: str
    roles: tuple[str, ...] = ("user",)
    service_key: str | None = None
    via_lambda_authorizer: bool = False
    email: str | None = None
    scopes: tuple[str, ...] = ("reservations", "reversal", "usage")  # a server key's

    def authorizer(self) -> dict[str, Any]:
        if self.service_key:
            return {"lambda": {"principal_type": "service", "sub": f"key:{self.service_key}", "roles": "service",
                               "key_id": self.service_key, "email": "", "scopes": " ".join(self.scopes)}}
        if self.via_lambda_authorizer:
            return {"lambda": {"principal_type": "user", "sub": self.sub, "roles": " ".join(self.roles),
                               "key_id": "", "email": self.email or "", "scopes": ""}}
        # The HTTP API JWT authorizer flattens array claims into "[a b]".
        claims = {"sub": self.sub, "roles": "[" + " ".join(self.roles) + "]",
                  "iss": "https://auth.example.com/", "aud": "tollgate"}
        if self.email:
            claims["email"] = self.email
        return {"jwt": {"claims": claims, "scopes": None}}

    @property
    def wallet_id(self) -> str:
        return f"user:{self.sub}"


ALICE = Caller("alice", email="alice@example.com")
BOB = Caller("bob", email="bob@example.com")
ADMIN = Caller("root", roles=("admin", "user"))
SERVICE = Caller("svc", service_key="aaaaaaaaaaaaaaaa")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str | None:
        return (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None


# Which function serves which sample event, by the file-name prefix.
_FUNCTION_OF = {"deduction": "deduction", "history": "history", "admin": "admin", "checkout": "checkout",
               "webhooks": "webhooks", "payouts": "payouts", "analytics": "analytics", "exports": "exports",
               "reconciliation": "reconciliation", "notifications": "notifications"}


def invoke(sample: str, *, caller: Caller | None = ALICE, body: Any = ..., raw_body: str | None = None,
           headers: dict[str, str] | None = None, drop_headers: tuple[str, ...] = (),
           query: dict[str, str] | None = None, path: str | None = None,
           path_params: dict[str, str] | None = None) -> Reply:
    """Send a copy of ``events/<sample>`` to its function's handler with the given changes."""
    event = copy.deepcopy(sample_event(sample))
    fn = load_function(_FUNCTION_OF[sample.split("_", 1)[0]])
    if caller is None:
        event["requestContext"].pop("authorizer", None)
    else:
        # Routes on the Lambda authorizer get its context; the rest get JWT claims.
        uses_lambda = "lambda" in (event["requestContext"].get("authorizer") or {})
        c = caller if not uses_lambda or caller.service_key else Caller(caller.sub, caller.roles,
                                                                           via_lambda_authorizer=True,
                                                                           email=caller.email)
        event["requestContext"]["authorizer"] = c.authorizer()
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not ...:
        event["body"] = None if body is None else json.dumps(body)
    hdrs = {k: v for k, v in event["headers"].items() if k not in drop_headers}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    event["headers"] = hdrs
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if path_params is not None:
        event["pathParameters"] = path_params
    if path is not None:
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
    response = fn.lambda_handler(event, LambdaContext())
    raw = response.get("body")
    parsed = json.loads(raw) if raw else None
    return Reply(status=response["statusCode"], body=parsed, headers=response.get("headers") or {})


def ledger_state(wallet_id: str) -> dict[str, Any]:
    """Balance, reserved, available, every entry of a wallet and its archived total, straight from the table."""
    from tollgate.ledger import archive, posting, repository

    wallet = posting.read_wallet(wallet_id)
    return {
        "balance": wallet.balance,
        "reserved": wallet.reserved,
        "available": wallet.available,
        "holds": dict(wallet.holds),
        "entries": list(repository.iter_entry_amounts(wallet_id)),
        "archived": archive.archived(wallet_id)[0],
    }


def assert_ledger_invariant(wallet_id: str) -> dict[str, Any]:
    """sum(entries) + archived == balance, holds == reserved, available == balance - reserved >= 0."""
    from tollgate.ledger import reconcile

    report = reconcile(wallet_id)
    state = ledger_state(wallet_id)
    assert sum(state["entries"]) + state["archived"] == state["balance"], state
    assert sum(a for a, _ in state["holds"].values()) == state["reserved"], state
    assert state["available"] == state["balance"] - state["reserved"], state
    assert state["available"] >= 0, state
    assert report.consistent, report
    return state


BALANCE_FIELDS = ("earned", "pending", "available", "in_payout", "paid")


def earnings_state(developer_id: str) -> dict[str, int]:
    """A developer's stored earnings balance (zeros when there is none)."""
    from tollgate.earnings import repository

    balance = repository.get_balance(developer_id)
    return {name: getattr(balance, name) if balance else 0 for name in BALANCE_FIELDS}


def assert_earnings_invariant(developer_id: str) -> dict[str, int]:
    """earned = pending + available + in_payout + paid; the earnings log sums to the balance;
    the earnings, the day sums and the feature sums each add up to ``earned``."""
    from tollgate.earnings import repository
    from tollgate.earnings.models import EarningItem

    state = earnings_state(developer_id)
    assert state["earned"] == state["pending"] + state["available"] + state["in_payout"] + state["paid"], state
    logged = dict.fromkeys(BALANCE_FIELDS, 0)
    for log in repository.logs(developer_id):
        for name, delta in log.deltas.items():
            logged[name] += delta
    assert logged == state, (logged, state)
    # Test-only scan: earnings live beside their usage entries, in the customers' partitions.
    earnings = list(EarningItem.scan(EarningItem.developer_id == developer_id))
    assert sum(e.amount_mc - e.reversed_mc for e in earnings) == state["earned"], state
    days = repository.days(developer_id, "0001-01-01", "9999-12-31")
    assert sum(d.earned for d in days) == state["earned"], state
    assert sum(f.earned for f in repository.features(developer_id)) == state["earned"], state
    return state


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """Poll ``probe`` until it gives something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # a polling interval, not a stand-in for synchronisation


def restore_environment(saved: dict[str, str]) -> None:
    """A local stack points the process at its own endpoints: put everything back afterwards."""
    from tollgate import config, data

    os.environ.clear()
    os.environ.update(saved)
    data.set_client(None)
    config.settings.cache_clear()


@contextmanager
def running_stack(config: Any) -> Iterator[Any]:
    """A ``LocalStack`` (make dev's) started for a tier and stopped after it, the environment put back."""
    from tollgate_local.stack import LocalStack

    saved = dict(os.environ)
    local = LocalStack(config)
    local.start()
    try:
        yield local
    finally:
        local.stop()
        restore_environment(saved)
