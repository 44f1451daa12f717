"""The resolver every HTTP function uses, and the edge every request crosses before it.

Handlers stay thin: they read the principal, call one service and return a schema. What
must hold for every route is decided here, before the resolver sees the request and in
this order, so a caller learns the first thing wrong with it and no input is read before
the caller is known:

1. 401 ``unauthorized`` without a principal (API Gateway's authorizers already stop those;
   checking again keeps a misrouted or direct invocation from reaching validation);
2. 403 ``forbidden`` when the function needs a role the caller lacks (except on routes whose
   service authorizes the caller itself, ``self_authorized_routes``: an org's owners manage its
   members without the admin role);
3. 413 ``payload_too_large`` for a POST, PUT or PATCH body over ``MAX_BODY_BYTES``;
4. 415 ``unsupported_media_type`` when a route that takes a JSON body gets anything else;
5. 422 ``validation_error`` for a body that is not bounded, exact JSON or does not fit the
   route's schema (the resolver's validation).

Every :class:`~tollgate.errors.TollgateError` becomes ``{"error": {"code", "message",
"request_id", ...details}}`` with its status; anything unexpected is logged and answered
500 ``internal_error`` without a stack trace. A 204 carries no body.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    _normalize_errors,
    _request_body_to_args,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import ModelField
from aws_lambda_powertools.logging.exceptions import OrphanedChildLoggerError
from pydantic import BaseModel

from tollgate.config import settings
from tollgate.data.connection import as_unavailable
from tollgate.errors import (
    PayloadTooLarge,
    TollgateError,
    UnsupportedMediaType,
    ValidationFailed,
)
from tollgate.http.body import is_json_media_type, media_type, parse_json_object
from tollgate.http.responses import ERROR_DESCRIPTIONS, early_error, error_response, problem
from tollgate.principal import Principal, from_request_context

logger = Logger(child=True)

IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")
_NO_BODY_STATUSES = (204, 304)
_PATH_PARAMETER_RE = re.compile(r"\{(\w+)\+?\}")
# What Powertools' path-parameter pattern matches besides letters and digits ("%" is left out on
# purpose: it is encoded, so an encoded value never reads as a different one).
_ROUTABLE = "-._~()'!*:@,;=+&$<>[]{}|^"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class TollgateResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver plus what the edge needs to know about this function.

    ``direct_routes`` (route keys) are called without Powertools' middleware stack: their body is
    validated by the same Powertools functions the validation middleware calls (same errors, same
    422), their handler's model is dumped as that middleware dumps it, and their errors go to the
    same exception handlers. What they skip is per-request overhead: reading path, query, header and
    cookie parameters they do not have, re-validating the handler's own output model, and the
    frames of the stack (about 0.2 ms a request; ``POST /v1/usage`` is the hot path). Only a route
    whose one parameter is its body may be direct.
    """

    def __init__(self, *, public_routes: frozenset[str] = frozenset(), required_role: str | None = None,
                 self_authorized_routes: frozenset[str] = frozenset(),
                 direct_routes: frozenset[str] = frozenset()) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=parse_json_object)
        self.direct_routes = direct_routes
        self._direct_bodies: tuple[frozenset[str], dict[int, ModelField]] | None = None
        # Route keys ("GET /v1/health") answered without a principal: health, and webhooks,
        # whose gateway signature is their authentication.
        self.public_routes = public_routes
        self.required_role = required_role
        # Route keys exempt from ``required_role``: their service decides who may (403/404 there).
        self.self_authorized_routes = self_authorized_routes
        self._json_body_routes: frozenset[str] | None = None

    def json_body_routes(self) -> frozenset[str]:
        """Route keys, as API Gateway writes them, whose handler takes a JSON body."""
        if self._json_body_routes is None:
            # Powertools keeps its routes privately; read once, after every route is registered.
            routes = [*self._static_routes, *self._dynamic_routes]
            self._json_body_routes = frozenset(
                f"{route.method} {route.openapi_path}" for route in routes if route.dependant.body_params
            )
        return self._json_body_routes

    def direct_bodies(self) -> dict[int, ModelField]:
        """The body parameter of each direct route, by ``id(route)``; raises if a direct route has other inputs."""
        if self._direct_bodies is None or self._direct_bodies[0] is not self.direct_routes:
            found: dict[int, ModelField] = {}
            for route in [*self._static_routes, *self._dynamic_routes]:
                key = f"{route.method} {route.openapi_path}"
                if key not in self.direct_routes:
                    continue
                dependant = route.dependant
                if (len(dependant.body_params) != 1 or dependant.path_params or dependant.query_params
                        or dependant.header_params or dependant.cookie_params or route.middlewares
                        or route.has_dependencies or self._router_middlewares):
                    raise TypeError(f"{key} cannot be direct: its only input must be its JSON body")
                found[id(route)] = dependant.body_params[0]
            if missing := self.direct_routes - {f"{r.method} {r.openapi_path}" for r in
                                                [*self._static_routes, *self._dynamic_routes]}:
                raise TypeError(f"direct routes not registered: {sorted(missing)}")
            self._direct_bodies = (self.direct_routes, found)
        return self._direct_bodies[1]

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder:
        body_param = self.direct_bodies().get(id(route))
        if body_param is None:
            return super()._call_route(route, route_arguments)
        try:
            values, errors = _request_body_to_args(required_params=[body_param],
                                                   received_body=_BODY_READER._get_body(self))
            if errors:
                raise RequestValidationError(_normalize_errors(errors))
            response = self._to_response(route.func(**values))
            if isinstance(response.body, BaseModel):
                # As the response middleware dumps a validated model (jsonable_encoder: JSON mode, by alias).
                response.body = response.body.model_dump(mode="json", by_alias=True)
            return self._response_builder_class(response=response, serializer=self._serializer, route=route)
        except Exception as exc:  # every exception has a handler (create_app); as Powertools does
            builder = self._call_exception_handler(exc, route)
            if builder is None:
                raise
            return builder


# Its JSON reading (json_invalid errors) is what every route's body goes through; it keeps no state.
_BODY_READER = OpenAPIRequestValidationMiddleware()


def create_app(*, public_routes: frozenset[str] = frozenset(), required_role: str | None = None,
               self_authorized_routes: frozenset[str] = frozenset(),
               direct_routes: frozenset[str] = frozenset()) -> TollgateResolver:
    app = TollgateResolver(public_routes=public_routes, required_role=required_role,
                           self_authorized_routes=self_authorized_routes, direct_routes=direct_routes)

    @app.exception_handler(TollgateError)
    def _domain_error(exc: TollgateError) -> Response:
        return error_response(app, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return error_response(app, 415, "unsupported_media_type", "send the body as application/json")

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        problems = [problem(e) for e in exc.errors()]
        message = problems[0]["message"] if problems else "invalid request"
        return error_response(app, 422, "validation_error", message, {"errors": problems})

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(app, 404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        unavailable = as_unavailable(exc)  # a raw client call (not through the data layer) that DynamoDB refused now
        if unavailable is not None:
            logger.warning("DynamoDB unavailable", extra={"reason": unavailable.details["reason"]})
            return _domain_error(unavailable)
        logger.exception("unhandled error")
        return error_response(app, 500, "internal_error", "internal error")

    return app


def resolve(app: TollgateResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Cross the edge (401, 403, 413, 415, then a readable JSON body), then resolve the route."""
    try:
        caller = _check_edge(app, event)
    except TollgateError as exc:
        return early_error(event, exc)
    _correlate(event)
    _use_decoded_path_parameters(event, event.get("routeKey") or "")
    if caller is not None:
        app.append_context(principal=caller)  # the resolver clears its context after each request
    result = app.resolve(event, context)
    if result.get("statusCode") in _NO_BODY_STATUSES:
        # No body and so no media type: a stray "null" would corrupt a keep-alive connection.
        result["body"] = ""
        result["isBase64Encoded"] = False
        result["headers"] = {k: v for k, v in (result.get("headers") or {}).items() if k.lower() != "content-type"}
    return result


def _correlate(event: dict[str, Any]) -> None:
    """Log lines carry API Gateway's request id as ``correlation_id``.

    Read directly: Powertools' ``correlation_id_path`` runs a JMESPath search on every request
    (about 85 µs, a tenth of a debit's Python).
    """
    request_id = (event.get("requestContext") or {}).get("requestId")
    if request_id:
        # The function's Logger() is this child's parent; a handler driven without one logs uncorrelated.
        with contextlib.suppress(OrphanedChildLoggerError):
            logger.set_correlation_id(request_id)


def _use_decoded_path_parameters(event: dict[str, Any], route_key: str) -> None:
    """Route the resolver on API Gateway's decoded path parameters, not on the raw, percent-encoded path.

    Powertools reads path parameters back out of ``rawPath``, so ``/v1/admin/wallets/user%3Aalice``
    would reach the handler as ``user%3Aalice``. A character Powertools' route pattern cannot take
    ("/", "?", a space, ...) stays percent-encoded, so the route still matches and the parameter's
    own pattern answers 422, as for any other invalid value.
    """
    params = event.get("pathParameters")
    _, _, template = route_key.partition(" ")
    if not params or "{" not in template:
        return
    event["rawPath"] = _PATH_PARAMETER_RE.sub(
        lambda m: quote(str(params[m.group(1)]), safe=_ROUTABLE) if m.group(1) in params else m.group(0), template)


def _header(headers: dict[str, str], name: str) -> str | None:
    """A header by its lower-case name (payload 2.0 lower-cases them; hand-made events may not)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _check_edge(app: TollgateResolver, event: dict[str, Any]) -> Principal | None:
    """Raise the first edge error; for a JSON route, hand the resolver a UTF-8 body and a canonical media type.

    Returns the caller (None on a public route).
    """
    route_key = event.get("routeKey") or ""
    limits = settings()
    caller = None
    if route_key not in app.public_routes:
        caller = from_request_context(event.get("requestContext") or {}, limits.roles_claim)
        if app.required_role is not None and route_key not in app.self_authorized_routes:
            caller.require_role(app.required_role)
    body = event.get("body")
    if body and route_key.split(" ", 1)[0] in BODY_METHODS:
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        if size > limits.max_body_bytes:
            raise PayloadTooLarge(f"body is {size} bytes; the limit is {limits.max_body_bytes}")
    if route_key not in app.json_body_routes():
        return caller  # the route reads no body (webhooks read theirs raw)
    headers = event.get("headers") or {}
    content_type = _header(headers, "content-type")
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType(f"send the body as application/json, not {media_type(content_type)!r}")
    # Media types are case-insensitive; the resolver's own check is not.
    event["headers"] = {**{k: v for k, v in headers.items() if k.lower() != "content-type"},
                        "content-type": "application/json"}
    if body and event.get("isBase64Encoded"):
        # API Gateway base64-encodes bodies it does not take for text; JSON must be UTF-8 text.
        try:
            event["body"] = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationFailed("body is not valid JSON: not UTF-8 text", field="body") from None
        event["isBase64Encoded"] = False
    return caller


def edge_responses(app: TollgateResolver, route_key: str) -> dict[int, str]:
    """What the edge can answer on a route, by status: the OpenAPI document lists these per operation."""
    statuses: dict[int, str] = {422: ERROR_DESCRIPTIONS[422]}
    if route_key not in app.public_routes:
        statuses[401] = ERROR_DESCRIPTIONS[401]
        if app.required_role is not None and route_key not in app.self_authorized_routes:
            statuses[403] = f"forbidden: this route needs the {app.required_role} role"
    if route_key.split(" ", 1)[0] in BODY_METHODS:
        statuses[413] = ERROR_DESCRIPTIONS[413]
    if route_key in app.json_body_routes():
        statuses[415] = ERROR_DESCRIPTIONS[415]
    # Any route reading or writing the table: DynamoDB throttled, failing or timing out past the
    # client's retries (tollgate.data.StoreUnavailable); a route's own 503s describe themselves.
    statuses[503] = ERROR_DESCRIPTIONS[503]
    return statuses


def principal(app: APIGatewayHttpResolver) -> Principal:
    """The caller, as the edge check read it for this request."""
    caller = app.context.get("principal")
    if caller is None:  # a resolver driven without resolve() (no edge check ran)
        caller = from_request_context(app.current_event.raw_event.get("requestContext") or {}, settings().roles_claim)
    return caller


def idempotency_key(app: APIGatewayHttpResolver, *, required: bool) -> str | None:
    """The ``Idempotency-Key`` header: absent is ``None`` (or 422 when required); present must be valid."""
    key = _header(app.current_event.headers, IDEMPOTENCY_HEADER)
    if key is None:
        if required:
            raise ValidationFailed("the Idempotency-Key header is required", field="Idempotency-Key")
        return None
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ValidationFailed("Idempotency-Key must be 1-255 visible ASCII characters", field="Idempotency-Key")
    return key

