"""What every HTTP function shares: the resolver, the error format, the principal.

Handlers stay thin: they authorize (via :func:`principal`), call one service and return
a schema. Every :class:`~tollgate.errors.TollgateError` becomes
``{"error": {"code", "message", "request_id", ...details}}`` with its status; request
validation failures become 422 ``validation_error``; anything unexpected is logged and
answered 500 ``internal_error`` without a stack trace.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, NoReturn

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from tollgate.config import settings
from tollgate.errors import PayloadTooLarge, TollgateError, Unauthorized, ValidationFailed
from tollgate.principal import Principal, from_request_context

logger = Logger(child=True)

IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def _reject_constant(name: str) -> NoReturn:
    # json.loads accepts NaN/Infinity by default; no amount may ever be one.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def parse_json(text: str) -> Any:
    """JSON with every number exact: decimals become ``Decimal``, never ``float``."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """Every error: ``{"error": {"code", "message", "request_id", ...details}}``."""

    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    401: "unauthorized: missing or invalid credentials",
    402: "insufficient_credits: with required and available",
    403: "forbidden: the caller's role does not allow this",
    404: "not_found: no such resource, or not the caller's",
    409: "idempotency_conflict / reservation_closed",
    429: "rate_limited: too many checkouts; retry later",
    502: "gateway_error: the payment gateway refused or failed the call",
    400: "invalid_signature: the webhook's signature, secret or timestamp does not verify",
    413: "payload_too_large",
    415: "unsupported_media_type: the body must be application/json",
    422: "validation_error: with the offending fields",
}


def responses(status: int, model: type[BaseModel] | None, *errors: int) -> dict[int, Any]:
    """OpenAPI responses for a route: its success model and the error statuses it can return."""
    documented: dict[int, Any] = {
        status: {"description": "Success", **({"content": {"application/json": {"model": model}}} if model else {})}
    }
    for code in (401, 422, *errors):
        documented[code] = {"description": _ERROR_DESCRIPTIONS[code],
                            "content": {"application/json": {"model": ErrorResponse}}}
    return documented


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)

    @app.exception_handler(TollgateError)
    def _domain_error(exc: TollgateError) -> Response:
        return error_response(app, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return error_response(app, 415, "unsupported_media_type", "send the body as application/json")

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        problems = [_problem(e) for e in exc.errors()]
        message = problems[0]["message"] if problems else "invalid request"
        return error_response(app, 422, "validation_error", message, {"errors": problems})

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(app, 404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(app, 500, "internal_error", "internal error")

    return app


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
    where = ".".join(loc) or "body"
    msg = str(error.get("msg", "invalid value"))
    # pydantic prefixes messages raised by our validators with "Value error, ".
    msg = msg.removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": "body is not valid JSON", "type": "json_invalid"}
    return {"field": where, "message": f"{where}: {msg}", "type": str(error.get("type", ""))}


def request_id(app: APIGatewayHttpResolver) -> str:
    try:
        rid = app.current_event.request_context.request_id
    except Exception:  # noqa: BLE001 - an event without a request context still gets an id
        rid = None
    if rid:
        return rid
    context = getattr(app, "lambda_context", None)
    return getattr(context, "aws_request_id", "") or ""


def error_response(
    app: APIGatewayHttpResolver,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id(app)}
    for key, value in (details or {}).items():
        body.setdefault(key, value)
    return Response(status_code=status, content_type="application/json", body={"error": body})


def principal(app: APIGatewayHttpResolver) -> Principal:
    return from_request_context(app.current_event.raw_event.get("requestContext") or {}, settings().roles_claim)


def idempotency_key(app: APIGatewayHttpResolver, *, required: bool) -> str | None:
    key = app.current_event.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        key = next((v for k, v in app.current_event.headers.items() if k.lower() == IDEMPOTENCY_HEADER), None)
    if key is None or key == "":
        if required:
            raise ValidationFailed("the Idempotency-Key header is required", field="Idempotency-Key")
        return None
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 visible ASCII characters", field="Idempotency-Key"
        )
    return key


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, *,
            public_routes: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Resolve an HTTP API event: 401 without a principal and 413 for an oversized body, first.

    API Gateway's authorizers already stop unauthenticated calls; checking again here keeps a
    misrouted or direct invocation from reaching validation (which would answer 422) or a service.
    ``public_routes`` (route keys such as ``"GET /v1/health"``; webhooks, whose signature is
    their authentication) skip the first check.
    """
    if event.get("routeKey") not in public_routes:
        try:
            from_request_context(event.get("requestContext") or {}, settings().roles_claim)
        except Unauthorized as exc:
            return _early_error(event, exc)
    body = event.get("body")
    if body:
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        if size > settings().max_body_bytes:
            return _early_error(event, PayloadTooLarge(f"body is {size} bytes; the limit is {settings().max_body_bytes}"))
    return app.resolve(event, context)


def _early_error(event: dict[str, Any], exc: TollgateError) -> dict[str, Any]:
    """An error answered before the resolver runs, in the same format as every other."""
    payload = {
        "error": {
            "code": exc.code,
            "message": exc.message,
            "request_id": (event.get("requestContext") or {}).get("requestId", ""),
        }
    }
    return {
        "statusCode": exc.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload),
        "isBase64Encoded": False,
    }
