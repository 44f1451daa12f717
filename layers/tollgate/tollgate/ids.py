"""Identifiers: random ones, and ones derived from an idempotency key.

A derived id is what makes a replay write nothing: the ledger entry (or reservation) is
put with ``attribute_not_exists`` on a key computed from the caller's idempotency key, so
the second attempt fails its condition instead of writing twice.

A *located* id also names its wallet's locator: ``<prefix>_<locator><18 chars>``, where the
locator is the first 8 base32 characters of ``sha256(wallet_id)``. Every ledger entry carries
a located transaction id, so an entry can be found from its id alone (the wallet locator item
lists the wallets behind a locator) without an index entry per debit: a usage reversal names
only the usage's transaction id. A located id has the same length and alphabet as any other:
26 characters after the prefix.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

LOCATOR_CHARS = 8
_ID_CHARS = 26  # base32 of 16 bytes, unpadded
_LOCATED_TAIL = _ID_CHARS - LOCATOR_CHARS
_BODY_RE = re.compile(rf"[a-z2-7]{{{_ID_CHARS}}}")


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _digest(parts: tuple[str, ...]) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]


def random_id(prefix: str) -> str:
    return f"{prefix}_{_b32(secrets.token_bytes(16))}"


def derived_id(prefix: str, *parts: str) -> str:
    return f"{prefix}_{_b32(_digest(parts))}"


def locator(wallet_id: str) -> str:
    """The wallet's locator: 8 base32 characters (40 bits) of ``sha256(wallet_id)``; wallets may share one."""
    return _b32(hashlib.sha256(wallet_id.encode()).digest()[:5])


def located_id(prefix: str, wallet_id: str, *parts: str) -> str:
    """An id derived from ``wallet_id`` and ``parts`` that starts with the wallet's locator."""
    return f"{prefix}_{locator(wallet_id)}{_b32(_digest((wallet_id, *parts)))[:_LOCATED_TAIL]}"


def random_located_id(prefix: str, wallet_id: str) -> str:
    """A random id that starts with the wallet's locator."""
    return f"{prefix}_{locator(wallet_id)}{_b32(secrets.token_bytes(16))[:_LOCATED_TAIL]}"


def locator_of(identifier: str, prefix: str = "tx") -> str | None:
    """The locator a located id would carry; None when ``identifier`` has not an id's shape.

    Ids minted before located ids existed have the same shape: what reads as their locator is
    random, and (but for a 1 in 2**40 chance) not their wallet's, so a lookup by it finds nothing.
    """
    head, sep, body = identifier.partition("_")
    if head != prefix or not sep or not _BODY_RE.fullmatch(body):
        return None
    return body[:LOCATOR_CHARS]


def request_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()
