"""Drive the local stack over HTTP as a frontend and an AI backend would."""

from __future__ import annotations

import json
import os
import select
import signal
import time
import uuid

import pytest

from tollgate_local import template


def person(stack, roles=("user",)):
    sub = f"u{uuid.uuid4().hex[:10]}"
    return sub, stack.signer.token(sub, list(roles))


def fund(api, tokens, wallet_id, amount):
    reply = api.post(f"/v1/admin/wallets/{wallet_id}/adjustments", token=tokens["admin"],
                     body={"amount": amount, "reason": "e2e funding"}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert reply.status == 201, reply
    return reply


def test_seeded_catalog_is_listed(api, tokens, catalog):
    reply = api.get("/v1/features", token=tokens["alice"])
    assert reply.status == 200
    prices = {f["feature_id"]: f["pricing"] for f in reply.body["data"]}
    assert prices["ai-insight"]["credits"] == "9"
    assert prices["ai-analysis"]["credits"] == "25"
    assert prices["ai-report"]["credits"] == "40"
    assert prices["dashboard-refresh"]["credits"] == "3"
    assert prices["plugin-generate"]["input_credits"] == "0.1"


def test_a_frontend_journey(stack, api, tokens, catalog):
    sub, token = person(stack)
    wallet = f"user:{sub}"
    fund(api, tokens, wallet, "100")

    spent = api.post("/v1/usage", token=token, body={"feature": "ai-insight"}, headers={"Idempotency-Key": "e2e-1"})
    assert spent.status == 201, spent
    assert (spent.body["cost"], spent.body["balance"]) == ("9", "91")
    replay = api.post("/v1/usage", token=token, body={"feature": "ai-insight"}, headers={"Idempotency-Key": "e2e-1"})
    assert replay.status == 201
    assert replay.body == spent.body

    held = api.post("/v1/reservations", token=token, headers={"Idempotency-Key": "e2e-hold"},
                    body={"feature": "plugin-generate", "usage": {"input_tokens": 200, "output_tokens": 100}})
    assert held.status == 201, held
    assert held.body["held"] == "40"
    rid = held.body["reservation_id"]
    settled = api.post(f"/v1/reservations/{rid}/settle", token=token,
                       body={"usage": {"input_chars": 400, "output_chars": 200}})
    assert settled.status == 200, settled
    assert settled.body["cost"] == "20"
    assert settled.body["released"] == "20"
    assert settled.body["balance"] == "71"

    poor = api.post("/v1/usage", token=token, body={"feature": "ai-report"}, headers={"Idempotency-Key": "e2e-2"})
    assert poor.status == 201
    broke = api.post("/v1/usage", token=token, body={"feature": "ai-report"}, headers={"Idempotency-Key": "e2e-3"})
    assert broke.status == 402
    assert broke.body["error"]["available"] == "31"

    wallet_view = api.get("/v1/wallet", token=token)
    assert wallet_view.status == 200
    assert (wallet_view.body["balance"], wallet_view.body["available"]) == ("31", "31")

    # The stream consumer stamps balance_after, in commit order, off the request path.
    assert stack.poller.wait_idle(15)
    assert stack.poller.wait_idle(15)
    seen, cursor = [], None
    while True:
        page = api.get("/v1/history?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert page.status == 200, page
        assert len(page.body["data"]) <= 2
        seen += page.body["data"]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert [e["amount"] for e in seen] == ["-40", "-20", "-9", "100"]
    assert [e["balance_after"] for e in seen] == ["31", "71", "91", "100"]

    # The same consumer keeps the aggregates: the user's summary, and the admins' views of every wallet.
    summary = api.get("/v1/usage/summary?days=1", token=token)
    assert summary.status == 200, summary
    assert summary.body["by_day"] == [{"date": seen[0]["created_at"][:10], "spent": "69"}]
    assert summary.body["by_feature"] == [{"feature": "ai-report", "spent": "40", "calls": 1},
                                          {"feature": "plugin-generate", "spent": "20", "calls": 1},
                                          {"feature": "ai-insight", "spent": "9", "calls": 1}]
    listed = api.get(f"/v1/admin/transactions?wallet_id={wallet}&limit=10", token=tokens["admin"])
    assert listed.status == 200, listed
    assert [(t["transaction_id"], t["wallet_id"]) for t in listed.body["data"]] == [
        (e["transaction_id"], wallet) for e in seen]
    day = seen[0]["created_at"][:10]
    figures = api.get(f"/v1/admin/analytics?from={day}&to={day}", token=tokens["admin"])
    assert figures.status == 200, figures
    assert figures.body["totals"]["debits"] >= 3
    assert api.get("/v1/admin/analytics", token=token).status == 403


def test_401_without_or_with_a_bad_token(stack, api, catalog):
    assert api.get("/v1/wallet").status == 401
    assert api.get("/v1/wallet").body == {"message": "Unauthorized"}
    expired = stack.signer.token("alice", ["user"], ttl_s=-120)
    assert api.get("/v1/wallet", token=expired).status == 401
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = jwt.encode({"sub": "alice", "iss": "https://tollgate.local/issuer", "aud": "tollgate-local",
                         "exp": 4102444800}, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        algorithm="RS256", headers={"kid": "tollgate-local-1"})
    assert api.get("/v1/wallet", token=forged).status == 401
    # Lambda-authorizer routes: no credentials -> the authorizer says no -> 403.
    assert api.post("/v1/usage", body={"feature": "ai-insight"}).status == 403


def test_403_for_a_user_on_an_admin_route(api, tokens, catalog):
    reply = api.put("/v1/admin/features/sneaky", token=tokens["bob"],
                    body={"name": "x", "pricing": {"type": "per_call", "credits": "0"}})
    assert reply.status == 403
    assert reply.error_code == "forbidden"
    assert api.get("/v1/admin/features/sneaky", token=tokens["admin"]).status == 404


def test_server_api_key_through_the_real_authorizer(stack, api, tokens, catalog):
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "10")
    created = api.post("/v1/admin/api-keys", token=tokens["admin"], body={"name": "e2e backend"})
    assert created.status == 201
    key = created.body["key"]
    reply = api.post("/v1/usage", headers={"X-Api-Key": key, "Idempotency-Key": "svc-1"},
                     body={"feature": "dashboard-refresh", "wallet_id": f"user:{sub}", "amount": "0.5"})
    assert reply.status == 201, reply
    assert reply.body["balance"] == "9.5"
    assert api.delete(f"/v1/admin/api-keys/{created.body['key_id']}", token=tokens["admin"]).status == 204
    revoked = api.post("/v1/usage", headers={"X-Api-Key": key, "Idempotency-Key": "svc-2"},
                       body={"feature": "dashboard-refresh", "wallet_id": f"user:{sub}"})
    assert revoked.status == 403
    assert api.get("/v1/wallet", token=token).body["balance"] == "9.5"


def test_a_person_bearer_token_on_a_lambda_authorizer_route(stack, api, tokens, catalog):
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "5")
    reply = api.post("/v1/usage", token=token, body={"feature": "dashboard-refresh"})
    assert reply.status == 201
    assert reply.body["wallet_id"] == f"user:{sub}"


def _concrete(path: str) -> str:
    return "/".join("x" if p.startswith("{") else p for p in path.split("/"))


@pytest.mark.parametrize("route", template.http_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_every_template_route_is_reachable(api, tokens, catalog, route):
    body = {} if route.method in ("POST", "PUT") else None
    reply = api.request(route.method, _concrete(route.path), token=tokens["admin"], body=body)
    # The gateway's own 404 is {"message": "Not Found"}; the function's errors carry {"error": ...}.
    assert reply.body != {"message": "Not Found"}, route
    assert reply.status < 500, (route, reply)
    if reply.status >= 400:
        assert reply.error_code, (route, reply)


def test_unknown_route_is_the_gateways_404(api, tokens):
    reply = api.get("/v1/nope", token=tokens["alice"])
    assert (reply.status, reply.body) == (404, {"message": "Not Found"})


def test_gateway_and_direct_handler_give_the_same_response(stack, api, tokens, catalog):
    """The event the gateway built, fed straight to the function, answers the same."""
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "50")
    api.post("/v1/usage", token=token, body={"feature": "ai-insight"}, headers={"Idempotency-Key": "same-1"})
    # History shows balance_after once the stream has stamped it: let that happen before comparing.
    assert stack.poller.wait_idle(15)
    assert stack.poller.wait_idle(15)
    cases = [
        ("GET", "/v1/wallet", None, {}),
        ("GET", "/v1/history?limit=5", None, {}),
        ("GET", "/v1/features", None, {}),
        ("POST", "/v1/usage", {"feature": "ai-insight"}, {"Idempotency-Key": "same-1"}),
        ("POST", "/v1/usage", {"feature": "nope"}, {"Idempotency-Key": "same-2"}),
    ]
    routes = {(r.method, r.path): r.function for r in template.http_routes()}
    for method, path, body, headers in cases:
        through_gateway = api.request(method, path, token=token, body=body, headers=headers)
        event = stack.gateway.server.RequestHandlerClass.api.last_event
        function = routes[(method, event["routeKey"].split(" ", 1)[1])]
        direct = stack.registry.get(function).invoke(json.loads(json.dumps(event)))
        assert direct["statusCode"] == through_gateway.status, path
        assert json.loads(direct["body"]) == through_gateway.body, path


def test_schedules_can_be_run_now(api):
    reply = api.post("/_local/schedule/HoldsSweeperFunction")
    assert reply.status == 200
    assert set(reply.body) == {"expired", "already_closed"}
    # The ledger archiver, in its own process, against the stack's archive bucket in moto.
    archived = api.post("/_local/schedule/LedgerArchiveFunction")
    assert archived.status == 200, archived
    assert archived.body["stopped_early"] is False and archived.body["days"]
    # The reconciliation job (make schedule NAME=ReconciliationFunction): everything this stack did
    # so far, through real flows, reconciles, its refunds and payouts against localstripe and the
    # fake Paystack included.
    checked = api.post("/_local/schedule/ReconciliationFunction")
    assert checked.status == 200, checked
    assert (checked.body["source"], checked.body["findings"]) == ("schedule", 0), checked.body
    assert checked.body["status"] in ("completed", "partial"), checked.body
    assert api.post("/_local/schedule/NoSuchFunction").status == 404


def test_base64_and_cors(stack, api, tokens, catalog):
    preflight = api.request("OPTIONS", "/v1/usage", headers={"Origin": "http://localhost:5173",
                                                             "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"]
    # A binary content type arrives base64-encoded; the handler refuses it with a clear 415.
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "10")
    reply = api.post("/v1/usage", token=token, raw=json.dumps({"feature": "dashboard-refresh"}).encode(),
                     headers={"Content-Type": "application/octet-stream"})
    assert stack.gateway.server.RequestHandlerClass.api.last_event["isBase64Encoded"] is True
    assert reply.status == 415, reply
    assert reply.error_code == "unsupported_media_type"
    assert api.get("/v1/wallet", token=token).body["balance"] == "10"


def test_data_survives_a_restart_and_reset_wipes_it(tmp_path, own_stack_env):
    """make dev keeps DynamoDB Local's files under the state folder; make reset removes them."""
    from tests.e2e.conftest import Client
    from tollgate_local.dynamodb_local import free_port
    from tollgate_local.stack import LocalStack, StackConfig, reset

    def config():
        return StackConfig(state_dir=tmp_path, gateway_port=free_port(), dynamodb_port=free_port(),
                           moto_port=free_port(), stripe=False, schedules=False, persist=True)

    with LocalStack(config()) as first:
        admin = first.signer.token("admin", ["admin"])
        fund(Client(first.url), {"admin": admin}, "user:keeper", "7")
    with LocalStack(config()) as second:
        token = second.signer.token("keeper", ["user"])
        assert Client(second.url).get("/v1/wallet", token=token).body["balance"] == "7"
    reset(tmp_path)
    assert not (tmp_path / "dynamodb").exists()
    with LocalStack(config()) as third:
        token = third.signer.token("keeper", ["user"])
        assert Client(third.url).get("/v1/wallet", token=token).body["balance"] == "0"


def test_without_java_it_falls_back_to_motos_dynamodb(tmp_path, own_stack_env):
    from tests.e2e.conftest import Client
    from tollgate_local.stack import LocalStack, StackConfig

    config = StackConfig.ephemeral(tmp_path)
    config.stripe, config.dynamodb = False, "moto"
    with LocalStack(config) as fallback:
        assert fallback.ddb is None
        assert any("moto" in note for note in fallback.notes)
        client = Client(fallback.url)
        admin = fallback.signer.token("admin", ["admin"])
        fund(client, {"admin": admin}, "user:nojava", "12")
        token = fallback.signer.token("nojava", ["user"])
        assert client.get("/v1/wallet", token=token).body["balance"] == "12"
        assert client.get("/v1/history", token=token).body["data"][0]["amount"] == "12"
        containers = [f.pid for f in fallback.registry.functions.values()]
    # Stopping the stack stops every function's process (by its PID).
    for pid in containers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_lambda_invocations_run_the_real_handlers(stack):
    """What Step Functions' Lambda tasks do: moto's Invoke API answers with the real handler."""
    import boto3

    client = boto3.client("lambda", endpoint_url=stack.moto.endpoint, region_name="us-east-1")
    result = client.invoke(FunctionName="HoldsSweeperFunction", Payload=json.dumps({}).encode())
    assert result["StatusCode"] == 200
    assert set(json.loads(result["Payload"].read())) == {"expired", "already_closed"}
    arn = client.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:HoldsSweeperFunction",
                        Payload=b"{}")
    assert arn["StatusCode"] == 200


# -- each function in a container of its own, as in Lambda -------------------------------------

HOUR_MS = 3_600_000


def test_each_function_runs_in_a_process_of_its_own(stack):
    pids = {name: function.pid for name, function in stack.registry.functions.items()}
    assert None not in pids.values()
    assert len(set(pids.values()) | {os.getpid()}) == len(pids) + 1


def test_each_function_sees_its_own_environment_and_nothing_of_this_process(stack):
    env = {name: function.read_global("os", "environ") for name, function in stack.registry.functions.items()}
    for name, variables in env.items():
        assert variables["AWS_LAMBDA_FUNCTION_NAME"] == name
        assert variables["TABLE_NAME"] == os.environ["TABLE_NAME"]  # the template's Globals
        assert "PYTEST_CURRENT_TEST" not in variables
    # Variables the template sets on one function only are that function's.
    assert "CATALOG_CACHE_SECONDS" in env["DeductionFunction"]
    assert [n for n, v in env.items() if "JWT_ISSUER" in v] == ["ApiKeyAuthorizerFunction"]
    assert "CATALOG_CACHE_SECONDS" not in env["AdminFunction"]
    # A local secret reaches only functions whose template names its parameter.
    assert "STRIPE_SECRET_KEY" in env["CheckoutFunction"]
    assert "STRIPE_SECRET_KEY" not in env["DeductionFunction"]


def test_state_set_in_one_function_is_invisible_to_another(stack, api, tokens, catalog):
    from tollgate import clock

    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "50")
    deduction, admin = stack.registry.get("DeductionFunction"), stack.registry.get("AdminFunction")
    try:
        deduction.write_global("tollgate.clock", "_offset_ms", HOUR_MS)
        assert admin.read_global("tollgate.clock", "_offset_ms") == 0
        assert stack.registry.get("HistoryFunction").read_global("tollgate.clock", "_offset_ms") == 0
        # The handler runs on its own module's state: a hold it makes now expires an hour late.
        held = api.post("/v1/reservations", token=token, headers={"Idempotency-Key": "iso-1"},
                        body={"feature": "ai-insight", "ttl_seconds": 60})
        assert held.status == 201, held
        assert clock.parse_rfc3339(held.body["expires_at"]) - time.time() * 1000 >= HOUR_MS
    finally:
        deduction.write_global("tollgate.clock", "_offset_ms", 0)


def test_a_failing_function_is_a_500_and_a_dead_container_is_replaced(stack, api, tokens, catalog):
    history = stack.registry.get("HistoryFunction")
    old = history.pid
    history.write_global("app", "app", None)  # its resolver gone: every invocation now raises
    failed = api.get("/v1/wallet", token=tokens["alice"])
    assert (failed.status, failed.body) == (500, {"message": "Internal Server Error"})
    assert api.get("/v1/packages", token=tokens["alice"]).status == 200  # other functions serve on
    watcher = os.pidfd_open(old)  # Linux, as Lambda: see the container end without reaping it
    try:
        os.kill(old, signal.SIGKILL)
        assert select.select([watcher], [], [], 10)[0], "the container did not end"
    finally:
        os.close(watcher)
    # The next request gets a fresh container (a cold start), with the real resolver again.
    assert api.get("/v1/wallet", token=tokens["alice"]).status == 200
    assert history.pid not in (None, old)
