"""Server API keys in functional tests: create one as an admin, and send a sample event with the
context the real authorizer returns for it (as API Gateway passes it on)."""

from __future__ import annotations

import json
from typing import Any

from tests.support import ADMIN, LambdaContext, invoke, load_function, sample_event


def create_key(scopes: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "insight-backend", **fields}
    if scopes is not None:
        body["scopes"] = scopes
    reply = invoke("admin_post_api_key.json", caller=ADMIN, body=body)
    assert reply.status == 201, reply
    return reply.body


def authorizer_context(key: str) -> dict[str, str]:
    request = sample_event("authorizer_request.json")
    request["headers"]["x-api-key"] = key
    allowed = load_function("authorizer").lambda_handler(request, LambdaContext())
    assert allowed["isAuthorized"] is True
    return allowed["context"]


def as_key(key: str, sample: str, *, body: Any = None, path: str | None = None,
           path_params: dict[str, str] | None = None, idempotency_key: str | None = None,
           function: str = "deduction") -> tuple[int, Any, dict[str, str]]:
    """``sample`` sent with ``key``'s authorizer context: (status, body, headers)."""
    event = sample_event(sample)
    event["requestContext"]["authorizer"] = {"lambda": authorizer_context(key)}
    if body is not None:
        event["body"] = json.dumps(body)
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"] = path_params
    if idempotency_key is not None:
        event["headers"]["idempotency-key"] = idempotency_key
    response = load_function(function).lambda_handler(event, LambdaContext())
    payload = json.loads(response["body"]) if response.get("body") else None
    return response["statusCode"], payload, {k.lower(): v for k, v in (response.get("headers") or {}).items()}
