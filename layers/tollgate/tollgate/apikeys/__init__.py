"""Server API keys for AI backends calling usage and reservations."""

from __future__ import annotations

from tollgate.apikeys.exceptions import ApiKeyNotFound, ApiKeyRevoked
from tollgate.apikeys.service import authenticate, create, list_keys, revoke, update

__all__ = ["ApiKeyNotFound", "ApiKeyRevoked", "authenticate", "create", "list_keys", "revoke", "update"]
