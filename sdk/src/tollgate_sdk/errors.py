"""Exceptions: one class per kind of answer, all deriving from :class:`TollgateError`.

Tollgate answers errors as ``{"error": {"code", "message", "request_id", ...details}}``;
API Gateway's own answers (a refused authorizer, an unknown route, throttling) are
``{"message": "..."}``. Both map to the same classes, by code first, then by status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "Forbidden",
    "IdempotencyConflict",
    "InsufficientCredits",
    "NotFound",
    "RateLimited",
    "ReservationClosed",
    "TollgateError",
    "Unauthorized",
    "ValidationError",
    "error_from_response",
]


class TollgateError(Exception):
    """Any error the SDK raises about an API call.

    ``status`` is the HTTP status (``None`` when no answer came), ``code`` Tollgate's error
    code (``None`` for API Gateway's own answers), ``details`` the rest of the error object,
    ``attempts`` how many requests were sent for this call (retries included).
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None, details: Mapping[str, Any] | None = None,
                 body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details: dict[str, Any] = dict(details or {})
        self.body = body
        self.attempts = 1

    def __str__(self) -> str:
        prefix = " ".join(str(part) for part in (self.status, self.code) if part)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return f"{text} (request_id {self.request_id})" if self.request_id else text


class APIConnectionError(TollgateError):
    """No answer: the connection failed or timed out on every attempt (the cause is chained)."""


class Unauthorized(TollgateError):
    """401: the bearer token is missing, expired or forged."""


class Forbidden(TollgateError):
    """403: not allowed (a role, another wallet's amount, or an API key the authorizer refused)."""


class NotFound(TollgateError):
    """404: the wallet, reservation, purchase or payout does not exist (or is not yours)."""


class InsufficientCredits(TollgateError):
    """402: not enough credits. ``required`` and ``available`` are the figures the API gave.

    Also raised for ``member_cap_exceeded`` (an org member's monthly cap): then ``available``
    is what the cap leaves (``remaining``), and ``cap`` and ``spent`` are set too.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.required = _credits(self.details.get("required"))
        available = self.details.get("available", self.details.get("remaining"))
        self.available = _credits(available)
        self.cap = _credits(self.details.get("cap"))
        self.spent = _credits(self.details.get("spent"))


class IdempotencyConflict(TollgateError):
    """409: the Idempotency-Key was used before with a different request."""


class ReservationClosed(TollgateError):
    """409: the hold is no longer open. ``reservation_status``: settled, released or expired."""

    def __init__(self, message: str, *, reservation_status: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        status = self.details.get("status")
        self.reservation_status: str | None = reservation_status or (status if isinstance(status, str) else None)


class RateLimited(TollgateError):
    """429 after every retry. ``retry_after``: seconds the API asked to wait, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ValidationError(TollgateError):
    """422: the input was refused. ``errors``: each offending ``field`` and why."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        errors = self.details.get("errors")
        self.errors: list[dict[str, Any]] = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        field = self.details.get("field")
        self.field: str | None = field if isinstance(field, str) else None


_BY_CODE: dict[str, type[TollgateError]] = {
    "insufficient_credits": InsufficientCredits,
    "member_cap_exceeded": InsufficientCredits,
    "idempotency_conflict": IdempotencyConflict,
    "reservation_closed": ReservationClosed,
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "validation_error": ValidationError,
    "rate_limited": RateLimited,
}
_BY_STATUS: dict[int, type[TollgateError]] = {
    401: Unauthorized,
    402: InsufficientCredits,
    403: Forbidden,
    404: NotFound,
    422: ValidationError,
    429: RateLimited,
}


def error_from_response(response: httpx.Response, *, retry_after: float | None = None) -> TollgateError:
    """The exception for an error answer (any status >= 400)."""
    status = response.status_code
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = response.text or None
    error = body.get("error") if isinstance(body, dict) else None
    code: str | None = None
    details: dict[str, Any] = {}
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = str(error.get("message") or code or f"HTTP {status}")
        details = {k: v for k, v in error.items() if k not in ("code", "message", "request_id")}
        request_id = error.get("request_id")
    elif isinstance(body, dict) and isinstance(body.get("message"), str):
        message, request_id = body["message"], None  # API Gateway's own answer
    else:
        message = (body if isinstance(body, str) else "")[:200] or response.reason_phrase or f"HTTP {status}"
        request_id = None
    if not isinstance(request_id, str):
        request_id = response.headers.get("apigw-requestid") or response.headers.get("x-request-id")
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status) or TollgateError
    kwargs: dict[str, Any] = {"status": status, "code": code, "request_id": request_id, "details": details,
                              "body": body}
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def _credits(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None
