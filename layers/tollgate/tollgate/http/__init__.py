"""What every HTTP function shares: the resolver and its edge, the error format, the principal.

Handlers stay thin: they read the principal (:func:`principal`), call one service and
return a schema; :func:`resolve` checks what holds for every route before that (see
:mod:`tollgate.http.app`), and :func:`responses` documents what each route answers.
"""

from __future__ import annotations

from tollgate.http.app import (
    IDEMPOTENCY_HEADER,
    TollgateResolver,
    create_app,
    edge_responses,
    idempotency_key,
    principal,
    resolve,
)
from tollgate.http.body import MAX_DEPTH, MAX_NUMBER_CHARS, is_json_media_type, parse_json, parse_json_object
from tollgate.http.responses import ErrorResponse, error_response, problem, responses

__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "ErrorResponse",
    "TollgateResolver",
    "create_app",
    "edge_responses",
    "error_response",
    "idempotency_key",
    "is_json_media_type",
    "parse_json",
    "parse_json_object",
    "principal",
    "problem",
    "resolve",
    "responses",
]
