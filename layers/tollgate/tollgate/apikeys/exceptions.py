from __future__ import annotations

from tollgate.errors import NotFound, TollgateError


class ApiKeyNotFound(NotFound):
    pass


class ApiKeyRevoked(TollgateError):
    """A revoked key cannot be changed (create a new one)."""

    status = 409
    code = "api_key_revoked"


__all__ = ["ApiKeyNotFound", "ApiKeyRevoked"]
