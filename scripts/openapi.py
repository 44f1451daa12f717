"""Build the one OpenAPI document from every HTTP function's handler models.

Each function's Powertools resolver describes its own routes; this merges them, adds the
two security schemes and marks each route with the authorizer template.yaml gives it.
The result is served by HistoryFunction at GET /v1/openapi.json.

    python scripts/openapi.py --write   # regenerate (make openapi)
    python scripts/openapi.py --check   # exit 1 if the committed document is stale
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "tollgate"), str(ROOT / "local"), str(ROOT)]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tollgate")

from tollgate import __version__, http  # noqa: E402
from tollgate_local.template import http_routes, resources  # noqa: E402

OUTPUT = ROOT / "layers" / "tollgate" / "tollgate" / "openapi.json"
# Every function that serves an HTTP API route, by its folder under functions/ (from template.yaml).
HTTP_FUNCTIONS = {logical: Path(fn["Properties"]["CodeUri"]).name
                  for logical, fn in resources("AWS::Serverless::Function").items()
                  if any(e.get("Type") == "HttpApi" for e in (fn["Properties"].get("Events") or {}).values())}
# Routes that move money take an Idempotency-Key; server API keys must send one on usage and reservations.
# Routes taking an Idempotency-Key, and who must send one: "keys" (server API keys), "all", or "none".
IDEMPOTENT = {("post", "/v1/usage"): "keys", ("post", "/v1/reservations"): "keys",
              ("post", "/v1/admin/wallets/{wallet_id}/adjustments"): "none", ("post", "/v1/checkout"): "none",
              ("post", "/v1/purchases/{purchase_id}/refunds"): "none",
              ("post", "/v1/admin/transactions/{transaction_id}/reversal"): "all"}
SECURITY = {"JwtAuthorizer": [{"bearerJwt": []}], "ApiKeyAuthorizer": [{"apiKey": []}, {"bearerJwt": []}]}
SERVERS = [
    {"url": "https://{api_id}.execute-api.{region}.amazonaws.com", "description": "A deployed stack (ApiUrl output)",
     "variables": {"api_id": {"default": "abcdef1234", "description": "The HTTP API's id"},
                   "region": {"default": "us-east-1"}}},
    {"url": "http://127.0.0.1:3000", "description": "make dev"},
]
# Webhooks take the gateway's JSON exactly as sent (the handler reads the raw bytes: the signature
# covers them) and the header that signs it; anything unsigned is 400 invalid_signature.
WEBHOOKS = {
    "/v1/webhooks/stripe": ("Stripe-Signature", "t=<unix time>,v1=<HMAC-SHA256 of t.body with the endpoint's secret>"),
    "/v1/webhooks/paystack": ("x-paystack-signature", "HMAC-SHA512 of the body with the Paystack secret key, hex"),
}
# OpenAPI links: where a response's id is the next call's parameter (clients and fuzzers follow them).
LINKS = (
    ("post", "/v1/reservations", "201", "GetReservation", "get", "/v1/reservations/{reservation_id}",
     {"reservation_id": "$response.body#/reservation_id"}),
    ("post", "/v1/reservations", "201", "SettleReservation", "post", "/v1/reservations/{reservation_id}/settle",
     {"reservation_id": "$response.body#/reservation_id"}),
    ("post", "/v1/reservations", "201", "ReleaseReservation", "post", "/v1/reservations/{reservation_id}/release",
     {"reservation_id": "$response.body#/reservation_id"}),
    ("post", "/v1/checkout", "201", "GetPurchase", "get", "/v1/purchases/{purchase_id}",
     {"purchase_id": "$response.body#/purchase_id"}),
    ("post", "/v1/admin/api-keys", "201", "RevokeApiKey", "delete", "/v1/admin/api-keys/{key_id}",
     {"key_id": "$response.body#/key_id"}),
    ("get", "/v1/history", "200", "NextPage", "get", "/v1/history", {"cursor": "$response.body#/next_cursor"}),
    ("get", "/v1/purchases", "200", "NextPage", "get", "/v1/purchases", {"cursor": "$response.body#/next_cursor"}),
)
# API Gateway answers these itself, as {"message": "..."}; an HTTP API cannot reshape them.
GATEWAY_MESSAGE = {
    "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}},
    "description": 'API Gateway\'s own answer, e.g. {"message": "Unauthorized"}: not our error envelope.',
}
GATEWAY_401 = "API Gateway's JWT authorizer: {\"message\": \"Unauthorized\"} (token missing, expired or not ours)"
GATEWAY_403 = "API Gateway's Lambda authorizer: {\"message\": \"Forbidden\"} (no credentials, an unknown or " \
              "revoked X-Api-Key - even beside a valid bearer token - or an invalid bearer token)"
GATEWAY_404 = "API Gateway: {\"message\": \"Not Found\"} when a path parameter makes the path match no route"
GATEWAY_429 = "API Gateway's throttling: {\"message\": \"Too Many Requests\"}"

DESCRIPTION = """Prepaid AI credits: buy, spend atomically, reserve and settle, see history.

Credit amounts are decimal strings with at most 3 fractional digits ("12.5"); requests
accept such a string or a JSON number with at most 3 fractional digits. Errors our code
answers are `{"error": {"code", "message", "request_id", ...details}}`; API Gateway's own
answers (401 from the JWT authorizer, 403 from the API-key authorizer, 404 for a path no
route matches, 429 when throttled) are `{"message": "..."}`, and each operation lists both.
Money-moving POSTs take an `Idempotency-Key` header: a replay returns the first result,
the same key with a different body is 409 `idempotency_conflict`."""


def _idempotency_header(required: str) -> dict:
    description = "1-255 visible ASCII characters. A replay returns the first result; the same key with a " \
                  "different body is 409 idempotency_conflict."
    if required == "keys":
        description += " Required for server API keys (X-Api-Key): without it they get 422 validation_error."
    return {"name": "Idempotency-Key", "in": "header", "required": required == "all", "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]{1,255}$"}}


def _document(operation: dict, status: int, description: str, schema: dict) -> None:
    """Add a response, or widen an existing one to either shape (our envelope or the gateway's)."""
    responses = operation.setdefault("responses", {})
    existing = responses.get(str(status))
    if existing is None:
        responses[str(status)] = {"description": description, "content": {"application/json": {"schema": schema}}}
        return
    content = existing.setdefault("content", {}).setdefault("application/json", {})
    current = content.get("schema")
    if current is None or current == schema:
        content["schema"] = schema
        return
    options = current["anyOf"] if "anyOf" in current else [current]
    if schema not in options:
        content["schema"] = {"anyOf": [*options, schema]}
    if description not in existing["description"]:
        existing["description"] = f"{existing['description']}; or {description}"


def _load(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"tollgate_fn_{name}", ROOT / "functions" / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build() -> dict:
    document: dict = {}
    apps = {}
    for logical, folder in HTTP_FUNCTIONS.items():
        app = _load(folder).app
        apps[logical] = app
        schema = json.loads(app.get_openapi_json_schema(title="Tollgate API", version=__version__))
        paths, schemas = schema.pop("paths", {}), schema.pop("components", {}).get("schemas", {})
        document = document or {**schema, "paths": {}, "components": {"schemas": {}}}
        for path, operations in paths.items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schemas)
    document["info"]["description"] = DESCRIPTION
    document["servers"] = SERVERS
    document["components"]["securitySchemes"] = {
        "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                      "description": "A person's token from the configured OIDC issuer."},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                   "description": "A server API key (admin-issued, shown once)."},
    }
    document["components"]["schemas"]["GatewayMessage"] = GATEWAY_MESSAGE
    envelope, gateway = {"$ref": "#/components/schemas/ErrorResponse"}, {"$ref": "#/components/schemas/GatewayMessage"}
    for route in http_routes():
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            raise SystemExit(f"{route.method} {route.path} is in template.yaml but no handler documents it")
        # Webhooks carry no credentials (their gateway signature is checked instead); health and this document neither.
        operation["security"] = SECURITY[route.authorizer] if route.authorizer else []
        edge = http.edge_responses(apps[route.function], f"{route.method} {route.path}")
        for status, description in sorted(edge.items()):
            _document(operation, status, description, envelope)
        if route.authorizer == "JwtAuthorizer":
            _document(operation, 401, GATEWAY_401, gateway)
        elif route.authorizer == "ApiKeyAuthorizer":
            _document(operation, 403, GATEWAY_403, gateway)
        if "{" in route.path:
            _document(operation, 404, GATEWAY_404, gateway)
        _document(operation, 429, GATEWAY_429, gateway)
        # Powertools describes a handler's return annotation even for a 204, which has no content.
        operation["responses"].get("204", {}).pop("content", None)
        operation["responses"] = dict(sorted(operation["responses"].items()))
    for path, (header, description) in WEBHOOKS.items():
        operation = document["paths"][path]["post"]
        operation.setdefault("parameters", []).append(
            {"name": header, "in": "header", "required": True, "description": description,
             "schema": {"type": "string", "minLength": 1}})
        operation["requestBody"] = {"required": True, "description": "The gateway's event, as it sent it",
                                    "content": {"application/json": {"schema": {"type": "object"}}}}
    for method, path, status, name, to_method, to_path, parameters in LINKS:
        target = document["paths"][to_path][to_method]["operationId"]
        response = document["paths"][path][method]["responses"][status]
        response.setdefault("links", {})[name] = {"operationId": target, "parameters": parameters}
    for (method, path), required in IDEMPOTENT.items():
        document["paths"][path][method].setdefault("parameters", []).append(_idempotency_header(required))
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text)} bytes)")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
