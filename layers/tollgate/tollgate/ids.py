"""Identifiers: random ones, and ones derived from an idempotency key.

A derived id is what makes a replay write nothing: the ledger entry (or reservation) is
put with ``attribute_not_exists`` on a key computed from the caller's idempotency key, so
the second attempt fails its condition instead of writing twice.
"""

from __future__ import annotations

import base64
import hashlib
import secrets


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def random_id(prefix: str) -> str:
    return f"{prefix}_{_b32(secrets.token_bytes(16))}"


def derived_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return f"{prefix}_{_b32(digest)}"


def request_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()
