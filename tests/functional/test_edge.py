"""The HTTP edge at the handler: what every route answers before, or instead of, its handler.

No request may make Tollgate answer 500: a body that is not JSON (415 after 401/403), JSON
that no parser should recurse into or convert (422), a 204 with stray bytes. Each case also
shows that nothing changed.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.support import ADMIN, ALICE, EVENTS, SERVICE, LambdaContext, invoke, ledger_state, load_function

WALLET = "user:alice"
FUNCTIONS = ("admin", "checkout", "deduction", "exports", "history", "notifications", "webhooks")


def _json_body_samples() -> dict[str, str]:
    """Each route that takes a JSON body -> the events/*.json sample that drives it."""
    routes = set().union(*(load_function(name).app.json_body_routes() for name in FUNCTIONS))
    samples = {}
    for path in sorted(EVENTS.glob("*.json")):
        route_key = json.loads(path.read_text()).get("routeKey")
        if route_key in routes and path.name.split("_", 1)[0] in FUNCTIONS:
            samples.setdefault(route_key, path.name)
    assert set(samples) == routes, routes - set(samples)
    return samples


JSON_ROUTES = _json_body_samples()


def _caller_for(route_key: str):
    return ADMIN if "/v1/admin/" in route_key else ALICE


def test_every_body_taking_route_is_covered():
    # The edge knows which routes read JSON; the document says 415 for exactly those.
    assert {"POST /v1/usage", "POST /v1/reservations", "POST /v1/reservations/{reservation_id}/settle",
            "POST /v1/checkout", "PUT /v1/admin/features/{feature_id}", "POST /v1/admin/api-keys",
            "PATCH /v1/admin/api-keys/{key_id}",
            "POST /v1/admin/wallets/{wallet_id}/adjustments", "POST /v1/admin/wallets/{wallet_id}/grants",
            "PUT /v1/admin/packages/{package_id}",
            "PUT /v1/admin/settings", "POST /v1/admin/transactions/{transaction_id}/reversal",
            "POST /v1/purchases/{purchase_id}/refunds", "POST /v1/admin/refunds/{refund_id}/approve",
            "POST /v1/admin/refunds/{refund_id}/reject", "PUT /v1/admin/tiers/{tier_id}",
            "PUT /v1/admin/wallets/{wallet_id}/tier", "PUT /v1/admin/wallets/{wallet_id}/shards",
            "PUT /v1/admin/orgs/{org_id}",
            "PUT /v1/admin/orgs/{org_id}/members/{sub}", "POST /v1/admin/allocations/run",
            "POST /v1/admin/exports", "POST /v1/admin/webhook-endpoints",
            "PATCH /v1/admin/webhook-endpoints/{endpoint_id}", "PUT /v1/wallet/alerts",
            "PUT /v1/wallet/payment-method", "PUT /v1/wallet/auto-top-up"} == set(JSON_ROUTES)


@pytest.mark.parametrize("route_key", JSON_ROUTES)
def test_multipart_without_a_boundary_is_415(aws, fund, route_key):
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    reply = invoke(JSON_ROUTES[route_key], caller=_caller_for(route_key),
                   headers={"content-type": "multipart/form-data"}, raw_body='{"name": "x"}')
    assert (reply.status, reply.error_code) == (415, "unsupported_media_type"), reply
    assert reply.body["error"]["request_id"]
    assert ledger_state(WALLET) == before


# An org's members are managed by its owners too: their service authorizes them (tests/functional/test_orgs.py).
@pytest.mark.parametrize("route_key", [r for r in JSON_ROUTES if "/v1/admin/" in r
                                       and r not in load_function("admin").ORG_MEMBER_ROUTES])
def test_a_user_is_refused_403_before_the_media_type_is_read(aws, route_key):
    reply = invoke(JSON_ROUTES[route_key], caller=ALICE, headers={"content-type": "multipart/form-data"},
                   raw_body="--x\r\n")
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply


@pytest.mark.parametrize("route_key", JSON_ROUTES)
def test_no_principal_is_401_before_anything_else(aws, route_key):
    reply = invoke(JSON_ROUTES[route_key], caller=None, headers={"content-type": "multipart/form-data"},
                   raw_body="x" * 100_000)
    assert (reply.status, reply.error_code) == (401, "unauthorized"), reply


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain", "application/xml",
    "application/jsonp", "application/merge-patch+json",
])
def test_other_media_types_are_415(aws, fund, content_type):
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    reply = invoke("deduction_post_usage.json", headers={"content-type": content_type},
                   raw_body='{"feature": "ai-insight"}')
    assert (reply.status, reply.error_code) == (415, "unsupported_media_type"), reply
    assert ledger_state(WALLET) == before


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=UTF-8", ""])
def test_json_in_any_spelling_is_read(aws, catalog, fund, content_type):
    fund(WALLET, "50")
    reply = invoke("deduction_post_usage.json", headers={"content-type": content_type, "idempotency-key": "k"},
                   raw_body='{"feature": "ai-insight"}')
    assert reply.status == 201, reply
    assert ledger_state(WALLET)["balance"] == 41_000


UNPARSEABLE = {
    "4,301-digit quantity": '{"feature": "ai-insight", "quantity": ' + "9" * 4301 + "}",
    "4,300-digit quantity": '{"feature": "ai-insight", "quantity": ' + "9" * 4300 + "}",
    "huge integer in metadata": '{"feature": "ai-insight", "metadata": {"n": -' + "1" * 5000 + "}}",
    "huge decimal": '{"feature": "ai-insight", "metadata": {"n": 1.' + "5" * 5000 + "}}",
    "exponent past Decimal": '{"feature": "ai-insight", "metadata": {"n": 1e99999999999999999999999}}',
    "1,000 levels deep": '{"feature": "ai-insight", "metadata": {"a": ' + "[" * 1000 + "]" * 1000 + "}}",
    "7,000 levels deep": "[" * 7000 + "]" * 7000,
    "unclosed 7,000 levels": "{" * 7000,
    "unpaired surrogate": '{"feature": "ai-insight", "metadata": {"note": "\\ud800"}}',
}


@pytest.mark.parametrize("name", UNPARSEABLE)
def test_json_no_parser_should_take_is_422(aws, catalog, fund, name):
    raw_body = UNPARSEABLE[name]
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    reply = invoke("deduction_post_usage.json", raw_body=raw_body, headers={"idempotency-key": f"edge-{name}"})
    assert (reply.status, reply.error_code) == (422, "validation_error"), (name, reply)
    assert reply.body["error"]["message"].startswith("body is not valid JSON"), reply
    assert ledger_state(WALLET) == before


def test_brackets_inside_strings_do_not_count_as_nesting(aws, catalog, fund):
    fund(WALLET, "50")
    body = {"feature": "ai-insight", "metadata": {"note": "[" * 500 + "{" * 500}}
    reply = invoke("deduction_post_usage.json", body=body, headers={"idempotency-key": "brackets"})
    assert reply.status == 201, reply


def test_a_base64_body_that_is_not_utf8_is_422(aws, catalog, fund):
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    event_body = base64.b64encode(b'{"feature": "\xff\xfe"}').decode()
    fn = load_function("deduction")
    event = json.loads((EVENTS / "deduction_post_usage.json").read_text())
    event.update(body=event_body, isBase64Encoded=True)
    event["requestContext"]["authorizer"] = {"lambda": {"principal_type": "user", "sub": "alice", "roles": "user"}}
    response = fn.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 422, response
    assert json.loads(response["body"])["error"]["code"] == "validation_error"
    assert ledger_state(WALLET) == before


def test_revoking_a_key_is_a_204_without_a_body(aws):
    created = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "edge"})
    assert created.status == 201
    key_id = created.body["key_id"]
    fn = load_function("admin")
    event = json.loads((EVENTS / "admin_delete_api_key.json").read_text())
    event["pathParameters"] = {"key_id": key_id}
    event["rawPath"] = f"/v1/admin/api-keys/{key_id}"
    event["requestContext"]["authorizer"] = ADMIN.authorizer()
    response = fn.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 204
    assert response["body"] == ""
    assert not any(k.lower() == "content-type" for k in response.get("headers") or {})
    again = fn.lambda_handler(event, LambdaContext())  # revoking is idempotent
    assert (again["statusCode"], again["body"]) == (204, "")
    event["pathParameters"] = {"key_id": "nosuchkey"}
    event["rawPath"] = "/v1/admin/api-keys/nosuchkey"
    assert fn.lambda_handler(event, LambdaContext())["statusCode"] == 404


def test_an_empty_idempotency_key_is_422_not_absent(aws, catalog, fund):
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    reply = invoke("deduction_post_usage.json", body={"feature": "ai-insight"}, headers={"idempotency-key": ""})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["field"] == "Idempotency-Key"
    assert ledger_state(WALLET) == before


def test_a_server_key_without_an_idempotency_key_is_422(aws, catalog, fund):
    fund(WALLET, "50")
    before = ledger_state(WALLET)
    reply = invoke("deduction_post_usage_api_key.json", caller=SERVICE, drop_headers=("idempotency-key",),
                   body={"feature": "ai-insight", "wallet_id": WALLET})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"] == {**reply.body["error"], "field": "Idempotency-Key",
                                   "message": "the Idempotency-Key header is required"}
    assert ledger_state(WALLET) == before


@pytest.mark.parametrize("active", [0, 1, "true", "yes", None])
def test_booleans_are_json_booleans_only(aws, active):
    reply = invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/edge",
                   path_params={"feature_id": "edge"},
                   body={"name": "Edge", "pricing": {"type": "per_call", "credits": "1"}, "active": active})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert invoke("admin_get_feature.json", caller=ADMIN, path="/v1/admin/features/edge",
                  path_params={"feature_id": "edge"}).status == 404


def test_a_whole_json_number_is_an_integer(aws, catalog, fund):
    # JSON Schema counts 2.0 as an integer; so does the server.
    fund(WALLET, "50")
    reply = invoke("deduction_post_usage.json", raw_body='{"feature": "dashboard-refresh", "quantity": 2.0}',
                   headers={"idempotency-key": "whole"})
    assert reply.status == 201, reply
    assert reply.body["cost"] == "6"


def test_a_percent_encoded_path_parameter_is_read_decoded(aws, fund):
    fund(WALLET, "50")
    reply = invoke("admin_get_wallet.json", caller=ADMIN, path="/v1/admin/wallets/user%3Aalice",
                   path_params={"wallet_id": WALLET})
    assert reply.status == 200, reply
    assert reply.body["wallet_id"] == WALLET


@pytest.mark.parametrize("wallet_id", ["user:a/b", "user:a b", "user:\u00e9", "user:a?b", 'user:"'])
def test_a_path_parameter_the_router_cannot_take_is_422(aws, wallet_id):
    reply = invoke("admin_get_wallet.json", caller=ADMIN, path="/v1/admin/wallets/x",
                   path_params={"wallet_id": wallet_id})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply


@pytest.mark.parametrize("sample", ["deduction_post_usage.json", "history_get_wallet.json", "admin_get_wallet.json"])
def test_log_lines_carry_the_request_id_as_correlation_id(sample, catalog, fund):
    fund("user:alice", "100")
    fn = load_function(sample.split("_", 1)[0])
    rid = json.loads((EVENTS / sample).read_text())["requestContext"]["requestId"]
    fn.logger.set_correlation_id(None)
    reply = invoke(sample, caller=ADMIN if sample.startswith("admin") else ALICE)
    assert reply.status < 500
    assert fn.logger.get_correlation_id() == rid
    line = json.loads(fn.logger.registered_formatter.format(
        fn.logger._logger.makeRecord("t", 20, __file__, 1, "hello", (), None)))
    assert line["correlation_id"] == rid
