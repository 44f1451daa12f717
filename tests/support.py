"""Shared test helpers: drive function handlers with events/*.json, check the ledger."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"

_modules: dict[str, ModuleType] = {}


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (each is called app.py)."""
    if name not in _modules:
        path = FUNCTIONS / name / "app.py"
        spec = importlib.util.spec_from_file_location(f"tollgate_fn_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


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

    def authorizer(self) -> dict[str, Any]:
        if self.service_key:
            return {"lambda": {"principal_type": "service", "sub": f"key:{self.service_key}", "roles": "service",
                               "key_id": self.service_key, "email": ""}}
        if self.via_lambda_authorizer:
            return {"lambda": {"principal_type": "user", "sub": self.sub, "roles": " ".join(self.roles),
                               "key_id": "", "email": self.email or ""}}
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
               "webhooks": "webhooks"}


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
    """Balance, reserved, available and every entry of a wallet, straight from the table."""
    from tollgate.ledger import posting, repository

    wallet = posting.read_wallet(wallet_id)
    return {
        "balance": wallet.balance,
        "reserved": wallet.reserved,
        "available": wallet.available,
        "holds": dict(wallet.holds),
        "entries": list(repository.iter_entry_amounts(wallet_id)),
    }


def assert_ledger_invariant(wallet_id: str) -> dict[str, Any]:
    """sum(entries) == balance, holds == reserved, available == balance - reserved >= 0."""
    from tollgate.ledger import reconcile

    report = reconcile(wallet_id)
    state = ledger_state(wallet_id)
    assert sum(state["entries"]) == state["balance"], state
    assert sum(a for a, _ in state["holds"].values()) == state["reserved"], state
    assert state["available"] == state["balance"] - state["reserved"], state
    assert state["available"] >= 0, state
    assert report.consistent, report
    return state
