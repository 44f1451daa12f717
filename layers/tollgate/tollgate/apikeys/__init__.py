"""Server API keys for AI backends calling usage and reservations."""

from __future__ import annotations

from tollgate.apikeys.exceptions import ApiKeyNotFound
from tollgate.apikeys.service import authenticate, create, list_keys, revoke

__all__ = ["ApiKeyNotFound", "authenticate", "create", "list_keys", "revoke"]
