"""The local runtime: schedules, stream filters, route matching, claim flattening, and the
functions' containers (one worker process each, with its own modules and environment)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tollgate_local.gateway import compile_route
from tollgate_local.schedules import Schedule
from tollgate_local.streams import matches
from tollgate_local.template import Route
from tollgate_local.tokens import flatten_claims

NOW = datetime(2026, 11, 21, 6, 30, 15, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", datetime(2026, 11, 21, 6, 35, 15, tzinfo=UTC)),
        ("rate(1 hour)", datetime(2026, 11, 21, 7, 30, 15, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 11, 22, 6, 30, 15, tzinfo=UTC)),
        ("cron(0 0 1 * ? *)", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),  # monthly allocations
        ("cron(*/15 * * * ? *)", datetime(2026, 11, 21, 6, 45, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),  # next weekday is Monday
        ("cron(30 6,18 * * ? *)", datetime(2026, 11, 21, 18, 30, tzinfo=UTC)),
        ("cron(0 0 ? * 1 *)", datetime(2026, 11, 22, 0, 0, tzinfo=UTC)),  # AWS day 1 is Sunday
    ],
)
def test_next_fire_time(expression, expected):
    assert Schedule("F", "E", expression).next_after(NOW) == expected


def test_unsupported_schedule_is_refused():
    with pytest.raises(ValueError):
        Schedule("F", "E", "every tuesday").next_after(NOW)


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {"Keys": {"SK": {"S": "WALLET"}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {"Keys": {"SK": {"S": "TX#1"}}}}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "REMOVE"}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "MODIFY"}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {}}, False),
        ({"d": {"dev": {"S": [{"exists": True}]}}}, {"d": {"dev": {"S": "alice"}}}, True),
        ({"d": {"dev": [{"exists": True}]}}, {"d": {"other": {"S": "x"}}}, False),
        ({"d": {"dev": [{"exists": False}]}}, {"d": {"other": {"S": "x"}}}, True),
        ({"d": {"dev": [{"exists": False}]}}, {"d": {"dev": {"S": "x"}}}, False),
        ({"d": {"t": {"S": ["usage", "reversal"]}}}, {"d": {"t": {"S": "reversal"}}}, True),
    ],
)
def test_stream_filter_patterns(pattern, record, expected):
    assert matches(pattern, record) is expected


def test_routes_match_parameters_and_prefer_literals():
    settle = compile_route(Route("F", "E", "POST", "/v1/reservations/{reservation_id}/settle", None))
    match = settle.pattern.fullmatch("/v1/reservations/rsv_1/settle")
    assert match and dict(zip(settle.params, match.groups(), strict=True)) == {"reservation_id": "rsv_1"}
    assert settle.pattern.fullmatch("/v1/reservations/rsv_1/settle/extra") is None
    literal = compile_route(Route("F", "E", "GET", "/v1/admin/features", None))
    param = compile_route(Route("F", "E", "GET", "/v1/admin/{thing}", None))
    assert literal.specificity > param.specificity


def test_claims_flatten_as_api_gateway_passes_them():
    flat = flatten_claims({"sub": "a", "roles": ["admin", "user"], "exp": 1795242600, "email_verified": True,
                           "address": {"country": "NG"}})
    assert flat == {"sub": "a", "roles": "[admin user]", "exp": "1795242600", "email_verified": "true",
                    "address": '{"country":"NG"}'}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "HEAD", "PROPFIND", "PATCH"])
def test_a_method_no_route_has_is_api_gateways_404(method):
    from tollgate_local.gateway import LocalApi

    # No function is reached, so the gateway needs no registry or signer to answer.
    api = LocalApi(None, None, issuer="", audience="")  # type: ignore[arg-type]
    status, headers, cookies, body = api.handle(method, "/v1/wallet", {}, b"", "127.0.0.1")
    assert (status, headers, cookies, body) == (404, {"content-type": "application/json"}, [],
                                                 b'{"message":"Not Found"}')


def test_the_gateway_handler_serves_every_method_name():
    from tollgate_local.gateway import _Handler

    handler = _Handler.__new__(_Handler)  # no socket: only method dispatch is looked at
    for method in ("GET", "TRACE", "CONNECT", "PROPFIND", "BREW"):
        assert getattr(handler, f"do_{method}") == handler._serve
    with pytest.raises(AttributeError):
        handler.not_a_method  # the lookup itself is what is tested


# -- each function in a container of its own (tollgate_local.functions / worker) ----------------

HANDLER = """
import os, sys, time
calls = 0

def handler(event, context):
    global calls
    calls += 1
    if event.get("raise"):
        raise ValueError("nope")
    if event.get("crash"):
        os._exit(3)
    if event.get("sleep"):
        time.sleep(event["sleep"])  # the function under test overrunning its Timeout
    if event.get("unserialisable"):
        return {1, 2}
    return {"calls": calls, "pid": os.getpid(), "name": context.function_name,
            "only_here": os.environ.get("ONLY_HERE"), "parent": os.environ.get("TOLLGATE_TEST_PARENT_ONLY"),
            "path_has_local": any(p.endswith("local") for p in sys.path)}
"""


@pytest.fixture
def container(tmp_path):
    """``container(name, env=..., timeout=..., code=...)``: a started LocalFunction, stopped afterwards."""
    from tollgate_local.functions import FunctionSpec, LocalFunction

    made = []

    def make(name="Fn", *, env=None, timeout=5, code=HANDLER):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "app.py").write_text(code)
        spec = FunctionSpec(name, {"CodeUri": str(folder), "Handler": "app.handler", "Timeout": timeout})
        function = LocalFunction(spec, {"PATH": os.environ.get("PATH", ""), **(env or {})}).start()
        made.append(function)
        return function

    yield make
    for function in made:
        function.stop()


def test_each_function_has_its_own_process_modules_and_environment(container, monkeypatch):
    monkeypatch.setenv("TOLLGATE_TEST_PARENT_ONLY", "1")  # this process's own: never passed on
    first, second = container("First", env={"ONLY_HERE": "first"}), container("Second")
    a1, a2, b1 = first.invoke({}), first.invoke({}), second.invoke({})
    assert (a1["calls"], a2["calls"], b1["calls"]) == (1, 2, 1)  # warm: module state kept, per function
    assert a1["pid"] == a2["pid"] == first.pid
    assert len({a1["pid"], b1["pid"], os.getpid()}) == 3
    assert (a1["only_here"], b1["only_here"]) == ("first", None)
    assert a1["parent"] is None and b1["parent"] is None
    assert a1["name"] == "First"
    assert not a1["path_has_local"]  # python -I: nothing of this process's sys.path


def test_a_handler_error_comes_back_as_lambda_reports_it_and_the_container_lives_on(container):
    from tollgate_local.functions import FunctionError

    function = container()
    first = function.invoke({})
    with pytest.raises(FunctionError) as raised:
        function.invoke({"raise": True})
    assert (raised.value.error_type, raised.value.message) == ("ValueError", "nope")
    assert any("nope" in line for line in raised.value.stack_trace)
    again = function.invoke({})
    assert (again["pid"], again["calls"]) == (first["pid"], 3)


def test_a_container_that_dies_is_replaced_by_a_fresh_one(container):
    from tollgate_local.functions import FunctionError

    function = container()
    first = function.invoke({})
    with pytest.raises(FunctionError) as raised:
        function.invoke({"crash": True})
    assert raised.value.error_type == "Runtime.ExitError"
    with pytest.raises(ProcessLookupError):
        os.kill(first["pid"], 0)  # gone, and reaped
    fresh = function.invoke({})
    assert fresh["pid"] != first["pid"]
    assert fresh["calls"] == 1  # a cold start


def test_a_handler_that_overruns_its_timeout_is_stopped(container):
    from tollgate_local.functions import FunctionError

    function = container(timeout=0.5)
    first = function.invoke({})
    with pytest.raises(FunctionError) as raised:
        function.invoke({"sleep": 30})
    assert raised.value.error_type == "Sandbox.Timedout"
    assert function.invoke({})["pid"] != first["pid"]


def test_a_result_json_cannot_carry_is_a_marshal_error(container):
    from tollgate_local.functions import FunctionError

    with pytest.raises(FunctionError) as raised:
        container().invoke({"unserialisable": True})
    assert raised.value.error_type == "Runtime.MarshalError"


def test_an_import_error_fails_every_invocation(container):
    from tollgate_local.functions import FunctionError

    function = container(code="raise RuntimeError('broken at import')\n")
    for _ in range(2):
        with pytest.raises(FunctionError) as raised:
            function.invoke({})
        assert raised.value.error_type == "Runtime.ImportModuleError"
        assert "broken at import" in raised.value.message


def test_module_globals_can_be_read_and_set_inside_one_container_only(container):
    first, second = container("First"), container("Second")
    assert first.write_global("app", "calls", 41) == 41
    assert first.invoke({})["calls"] == 42
    assert second.read_global("app", "calls") == 0
    assert first.read_global("os", "environ")["PATH"] == os.environ.get("PATH", "")


def test_stop_ends_the_process(container):
    from tollgate_local.functions import FunctionError

    function = container()
    pid = function.invoke({})["pid"]
    function.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(FunctionError):
        function.invoke({})  # a stopped stack starts no container


def test_each_function_gets_the_variables_the_template_gives_it_and_no_others(monkeypatch):
    from tollgate_local.functions import FunctionRegistry
    from tollgate_local.stack import parameters, resource_names

    monkeypatch.setenv("TOLLGATE_TEST_PARENT_ONLY", "1")
    registry = FunctionRegistry(parameters(), resource_names())  # no container is started
    account = {"AWS_ACCESS_KEY_ID": "local", "AWS_ENDPOINT_URL": "http://127.0.0.1:5050"}
    secrets = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    env = {name: registry.environment(name, account, secrets, {"EXTRA": "1"}) for name in registry.functions}
    for name, variables in env.items():
        assert variables["AWS_LAMBDA_FUNCTION_NAME"] == name
        assert variables["TABLE_NAME"] == "tollgate-local-TollgateTable"  # Globals
        assert variables["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5050"
        assert variables["EXTRA"] == "1"
        assert "TOLLGATE_TEST_PARENT_ONLY" not in variables
    assert env["DeductionFunction"]["CATALOG_CACHE_SECONDS"] == "30"
    assert "CATALOG_CACHE_SECONDS" not in env["AdminFunction"]
    assert "JWT_ISSUER" in env["ApiKeyAuthorizerFunction"]
    assert "JWT_ISSUER" not in env["DeductionFunction"]
    assert env["ApiKeyAuthorizerFunction"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    # A local secret goes only where the template names its parameter, as SSM access would.
    assert env["WebhooksFunction"]["STRIPE_WEBHOOK_SECRET"] == "whsec_x"
    assert env["CheckoutFunction"]["STRIPE_SECRET_KEY"] == "sk_test_x"
    assert "STRIPE_WEBHOOK_SECRET" not in env["CheckoutFunction"]
    assert "STRIPE_SECRET_KEY" not in env["DeductionFunction"]


def test_globals_merge_as_sam_merges_them():
    from tollgate_local.functions import _merge_globals

    merged = _merge_globals(
        {"Timeout": 10, "Layers": ["a"], "Environment": {"Variables": {"A": "1", "B": "1"}}},
        {"Timeout": 60, "Layers": ["b"], "Environment": {"Variables": {"B": "2", "C": "2"}}},
    )
    assert merged == {"Timeout": 60, "Layers": ["a", "b"], "Environment": {"Variables": {"A": "1", "B": "2", "C": "2"}}}


def test_a_failing_function_is_the_http_apis_500():
    from tollgate_local.functions import FunctionError
    from tollgate_local.gateway import LocalApi

    class Failing:
        def invoke(self, event):
            raise FunctionError("HistoryFunction", "Runtime.ExitError", "the container exited with status 3")

    class Registry:
        def get(self, name):
            return Failing()

    api = LocalApi(Registry(), None, issuer="", audience="")  # type: ignore[arg-type]
    status, _, _, body = api.handle("GET", "/v1/health", {}, b"", "127.0.0.1")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
