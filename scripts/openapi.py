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

from tollgate import __version__  # noqa: E402
from tollgate_local.template import http_routes  # noqa: E402

OUTPUT = ROOT / "layers" / "tollgate" / "tollgate" / "openapi.json"
HTTP_FUNCTIONS = {"DeductionFunction": "deduction", "HistoryFunction": "history", "AdminFunction": "admin",
                  "CheckoutFunction": "checkout", "WebhooksFunction": "webhooks"}
# Routes that move money take an Idempotency-Key (required for server API keys on usage/reservations).
IDEMPOTENT = {("post", "/v1/usage"), ("post", "/v1/reservations"), ("post", "/v1/admin/wallets/{wallet_id}/adjustments"),
              ("post", "/v1/checkout")}
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "1-255 visible ASCII characters. A replay returns the first result; reuse with a different body is 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
SECURITY = {"JwtAuthorizer": [{"bearerJwt": []}], "ApiKeyAuthorizer": [{"apiKey": []}, {"bearerJwt": []}]}

DESCRIPTION = """Prepaid AI credits: buy, spend atomically, reserve and settle, see history.

Credit amounts are decimal strings with at most 3 fractional digits ("12.5"); requests
accept a string or a number. Errors are `{"error": {"code", "message", "request_id"}}`.
Money-moving POSTs take an `Idempotency-Key` header: a replay returns the first result,
the same key with a different body is 409 `idempotency_conflict`."""


def _load(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"tollgate_fn_{name}", ROOT / "functions" / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build() -> dict:
    document: dict = {}
    for folder in HTTP_FUNCTIONS.values():
        schema = json.loads(_load(folder).app.get_openapi_json_schema(title="Tollgate API", version=__version__))
        paths, schemas = schema.pop("paths", {}), schema.pop("components", {}).get("schemas", {})
        document = document or {**schema, "paths": {}, "components": {"schemas": {}}}
        document["paths"].update(paths)
        document["components"]["schemas"].update(schemas)
    document["info"]["description"] = DESCRIPTION
    document["components"]["securitySchemes"] = {
        "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                      "description": "A person's token from the configured OIDC issuer."},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                   "description": "A server API key (admin-issued, shown once)."},
    }
    for route in http_routes():
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is not None:
            # Webhooks carry no credentials: their gateway signature is checked instead.
            operation["security"] = SECURITY[route.authorizer] if route.authorizer else []
    for method, path in IDEMPOTENT:
        document["paths"][path][method].setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
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
