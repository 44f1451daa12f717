"""The error format, and how each route documents the responses it really gives.

Our code answers every error as ``{"error": {"code", "message", "request_id", ...details}}``.
API Gateway's own answers (a JWT authorizer's 401, a Lambda authorizer's 403, 404 for a
request no route matches, 429 when throttled) are ``{"message": "..."}`` and cannot be
reshaped on an HTTP API; ``scripts/openapi.py`` documents them per operation.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, ConfigDict, Field

from tollgate.errors import TollgateError
from tollgate.schemas import Schema


class Problem(Schema):
    field: str = Field(examples=["amount"])
    message: str
    type: str


class ErrorBody(Schema):
    # Other details ride along where useful (a reservation's status, the gateway that failed).
    model_config = ConfigDict(extra="allow")

    code: str = Field(examples=["insufficient_credits"])
    message: str
    request_id: str
    field: str | None = Field(default=None, description="validation_error: the first offending field")
    errors: list[Problem] | None = Field(default=None, description="validation_error: every offending field")
    required: str | None = Field(default=None, description="insufficient_credits: credits the call needs")
    available: str | None = Field(default=None, description="insufficient_credits: credits available")


class ErrorResponse(Schema):
    """Every error our code answers: ``{"error": {"code", "message", "request_id", ...details}}``."""

    error: ErrorBody


ERROR_DESCRIPTIONS = {
    400: "invalid_signature: the webhook's signature, secret or timestamp does not verify",
    401: "unauthorized: missing or invalid credentials",
    402: "insufficient_credits: with required and available; member_cap_exceeded (org wallets): with cap, spent, "
         "required and remaining",
    403: "forbidden: the caller's role does not allow this",
    404: "not_found: no such resource, or not the caller's",
    409: "idempotency_conflict / reservation_closed",
    413: "payload_too_large: the body is larger than the limit",
    415: "unsupported_media_type: the body must be application/json",
    422: "validation_error: with the offending fields",
    429: "rate_limited: too many requests (a server API key's per-second limit, or checkouts an hour); "
         "Retry-After says when to try again",
    502: "gateway_error: the payment gateway refused or failed the call",
    503: "gateway_unavailable / try_again: retry later (try_again: the same request again, with the same "
         "Idempotency-Key, after Retry-After)",
}


def responses(status: int, model: type[BaseModel] | None, *errors: int,
              examples: dict[int, dict[str, Any]] | None = None) -> dict[int, Any]:
    """OpenAPI responses for a route: its success (no content for a 204) and the errors its handler gives.

    What the edge answers on every route (401, 403 for a role, 413, 415, 422) and API Gateway's
    own answers are added per operation by ``scripts/openapi.py``; ``examples`` adds named
    examples to an error status.
    """
    success: dict[str, Any] = {"description": "Success"}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    documented: dict[int, Any] = {status: success}
    for code in sorted({422, *errors}):
        content: dict[str, Any] = {"model": ErrorResponse}
        if examples and code in examples:
            content["examples"] = examples[code]
        documented[code] = {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": content}}
    return documented


def request_id(app: APIGatewayHttpResolver) -> str:
    try:
        rid = app.current_event.request_context.request_id
    except Exception:  # noqa: BLE001 - an event without a request context still gets an id
        rid = None
    if rid:
        return rid
    context = getattr(app, "lambda_context", None)
    return getattr(context, "aws_request_id", "") or ""


def error_body(code: str, message: str, rid: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
    for key, value in (details or {}).items():
        body.setdefault(key, value)
    return {"error": body}


def error_response(
    app: APIGatewayHttpResolver,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> Response:
    return Response(status_code=status, content_type="application/json",
                    body=error_body(code, message, request_id(app), details), headers=retry_after(details))


def retry_after(details: dict[str, Any] | None) -> dict[str, str]:
    """``Retry-After`` for an error that says when to retry (``retry_after_seconds``: 429s, 503s)."""
    seconds = (details or {}).get("retry_after_seconds")
    return {"Retry-After": str(seconds)} if isinstance(seconds, int) and not isinstance(seconds, bool) else {}


def early_error(event: dict[str, Any], exc: TollgateError) -> dict[str, Any]:
    """An error answered before the resolver runs, in the same format as every other."""
    rid = (event.get("requestContext") or {}).get("requestId", "")
    return {
        "statusCode": exc.status,
        "headers": {"Content-Type": "application/json", **retry_after(exc.details)},
        "body": json.dumps(error_body(exc.code, exc.message, rid, exc.details), separators=(",", ":")),
        "isBase64Encoded": False,
    }


def problem(error: dict[str, Any]) -> dict[str, Any]:
    """One entry of a 422's ``errors``: which field, what is wrong with it."""
    if error.get("type") == "json_invalid":
        reason = str((error.get("ctx") or {}).get("error") or "").strip()
        # Valid JSON that is not an object says so itself ("body must be a JSON object").
        message = reason if reason.startswith("body ") else f"body is not valid JSON: {reason}" if reason \
            else "body is not valid JSON"
        return {"field": "body", "message": message, "type": "json_invalid"}
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
    where = ".".join(loc) or "body"
    # pydantic prefixes messages raised by our validators with "Value error, ".
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return {"field": where, "message": f"{where}: {msg}", "type": str(error.get("type", ""))}
