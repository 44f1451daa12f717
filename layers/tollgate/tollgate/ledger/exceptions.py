from __future__ import annotations

from tollgate.cursors import InvalidCursor
from tollgate.errors import NotFound, TollgateError


class InsufficientCredits(TollgateError):
    status = 402
    code = "insufficient_credits"


class WalletNotFound(NotFound):
    pass


__all__ = [
    "InsufficientCredits",
    "InvalidCursor",
    "WalletNotFound",
]
