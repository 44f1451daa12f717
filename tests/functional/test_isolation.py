"""Each function has modules of its own, as separate Lambda containers have (issue 8, item 5).

This tier runs every handler in the test process (moto's mock_aws lives here), so each
function gets a private copy of its code and of the layer (tests.support, through
tollgate_local.namespaces): state one function's modules hold is invisible to every other
function and to the tests' own ``import tollgate``. (The environment is the test process's
here; each function's own environment is proven on the local stack, tests/e2e/test_isolation.py.)
"""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

from tests.support import (
    FUNCTIONS,
    LambdaContext,
    function_namespace,
    host_namespace,
    invoke,
    layer_modules,
    load_function,
    reset_layer_state,
    sample_event,
)
from tollgate_local.namespaces import PREFIX

NAMES = sorted(p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists())
HOUR_MS = 3_600_000


def _home(value: object) -> str | None:
    """The namespace a module, class or function was loaded in ("" for the tests' own)."""
    name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
    if not isinstance(name, str):
        return None
    if name.startswith(PREFIX):
        return name.partition(".")[0]
    return "" if name.partition(".")[0] == "tollgate" else None


@pytest.mark.parametrize("name", NAMES)
def test_a_handler_uses_only_its_own_copy_of_the_layer(name):
    app = load_function(name)
    root = function_namespace(name).root
    homes = {_home(value) for value in vars(app).values()} - {None}
    assert homes == {root}, f"{name} holds modules of {homes - {root}}"
    assert app.__name__ == f"{root}.app"


def test_no_two_functions_share_a_module():
    clocks = layer_modules("tollgate.clock")  # the tests' own, then one per function
    assert len(clocks) == len(NAMES) + 1
    assert len({id(clock) for clock in clocks}) == len(clocks)
    handlers = [load_function(name) for name in NAMES]
    assert len({id(app) for app in handlers}) == len(NAMES)


def test_state_set_in_one_function_is_invisible_to_the_others(aws, catalog, fund):
    fund("user:alice", "100")
    deduction_clock = function_namespace("deduction").module("tollgate.clock")
    deduction_clock.advance(HOUR_MS)  # only the deduction function's clock
    others = [function_namespace(name).module("tollgate.clock") for name in NAMES if name != "deduction"]
    host_clock = host_namespace().module("tollgate.clock")
    now = host_clock.now_ms()
    assert deduction_clock.now_ms() - now >= HOUR_MS
    assert all(clock.now_ms() - now < HOUR_MS for clock in others)
    # The handler runs on its own module's state: a hold it makes now expires an hour late.
    held = invoke("deduction_post_reservation.json", body={"feature": "ai-insight", "ttl_seconds": 60},
                  headers={"idempotency-key": "iso-1"})
    assert held.status == 201, held
    assert host_clock.parse_rfc3339(held.body["expires_at"]) - now >= HOUR_MS
    # The holds sweeper's clock did not move: for it, that hold has not expired.
    swept = load_function("holds").lambda_handler(sample_event("holds_schedule.json"), LambdaContext())
    assert swept == {"expired": 0, "already_closed": 0}


def test_a_lazy_import_at_call_time_loads_the_functions_copy(aws, monkeypatch):
    # The authorizer imports tollgate.tokens only when a bearer token arrives.
    monkeypatch.setenv("JWKS_JSON", '{"keys": []}')
    monkeypatch.delitem(sys.modules, "tollgate.tokens", raising=False)
    event = sample_event("authorizer_request.json")
    event["headers"] = {"authorization": "Bearer not-a-jwt"}
    assert load_function("authorizer").lambda_handler(event, LambdaContext()) == {"isAuthorized": False}
    assert f"{function_namespace('authorizer').root}.tollgate.tokens" in sys.modules
    assert "tollgate.tokens" not in sys.modules  # the tests' own copy was not the one imported


def test_the_clock_and_reset_helpers_reach_every_namespace():
    from tests.support import advance_clock

    try:
        advance_clock(5_000)
        assert {clock._offset_ms for clock in layer_modules("tollgate.clock")} == {5_000}
    finally:
        reset_layer_state()
    assert {clock._offset_ms for clock in layer_modules("tollgate.clock")} == {0}
