from __future__ import annotations

from tollgate.errors import IdempotencyConflict, NotFound, TollgateError, ValidationFailed


class InsufficientCredits(TollgateError):
    status = 402
    code = "insufficient_credits"


class WalletNotFound(NotFound):
    pass


class InvalidCursor(ValidationFailed):
    pass


class LedgerIdempotencyConflict(IdempotencyConflict):
    """The Idempotency-Key was used before with a different request."""


__all__ = [
    "InsufficientCredits",
    "InvalidCursor",
    "LedgerIdempotencyConflict",
    "WalletNotFound",
]
