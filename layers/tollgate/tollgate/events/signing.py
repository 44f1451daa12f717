"""Signing outbound webhook deliveries: Stripe's scheme, so receivers can reuse what they know.

The header reads ``Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the MAC taken
with the endpoint's secret over ``f"{t}.{body}"``. Signing the timestamp with the body lets a
receiver refuse a replayed delivery. Receivers check it with the SDK's ``verify_webhook``
(``sdk/``): the one verification there is (it refuses a timestamp more than 5 minutes off, and
takes several ``v1`` values, any one matching, as Stripe's does).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Tollgate-Signature"
SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(24)


def mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={mac(secret, timestamp, body)}"
