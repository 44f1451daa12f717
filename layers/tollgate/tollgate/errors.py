"""The one base class every domain error derives from.

Each domain's ``exceptions.py`` subclasses :class:`TollgateError`; the HTTP layer turns
any of them into ``{"error": {"code", "message", "request_id", ...details}}`` with the
status it names, so a new error never needs a new handler.
"""

from __future__ import annotations

from typing import Any


class TollgateError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(TollgateError):
    status = 422
    code = "validation_error"


class Unauthorized(TollgateError):
    status = 401
    code = "unauthorized"


class Forbidden(TollgateError):
    status = 403
    code = "forbidden"


class NotFound(TollgateError):
    status = 404
    code = "not_found"


class IdempotencyConflict(TollgateError):
    status = 409
    code = "idempotency_conflict"


class PayloadTooLarge(TollgateError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(TollgateError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(TollgateError):
    status = 429
    code = "rate_limited"
