"""Stripe's webhook signature, checked over the exact bytes received.

``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the
endpoint's signing secret>[,v1=...]`` (several ``v1`` while a secret is rolled; ``v0`` and
other schemes are ignored). A delivery verifies when any ``v1`` matches, compared in constant
time, and ``t`` is no older than the tolerance (300 s, replay protection). This is the
scheme ``stripe.WebhookSignature.verify_header`` checks, applied to the bytes rather than
to their UTF-8 decoding, so a signed body that is not text is told apart from a forged one
(422, not 400) as on Paystack, and verifying needs no Stripe SDK.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from tollgate.gateways.exceptions import InvalidSignature

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_S = 300  # a signed webhook older than this is refused
SCHEME = "v1"


def signature_header(headers: Mapping[str, str] | None) -> str:
    """The Stripe-Signature header, found in any case; InvalidSignature when missing or empty."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == SIGNATURE_HEADER), None)
    if not value:
        raise InvalidSignature("The Stripe-Signature header is missing")
    return value


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature Stripe sends with ``raw_body`` at ``timestamp``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, header: str, secret: str, *, tolerance_s: int = TOLERANCE_S,
           now: Callable[[], float] = time.time) -> None:
    """Return if ``header`` signs ``raw_body`` with ``secret`` recently enough; else InvalidSignature."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and timestamp is None:
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignature("The Stripe-Signature header has no usable timestamp") from None
        elif name == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignature("The Stripe-Signature header has no timestamp")
    if not signatures:
        raise InvalidSignature("The Stripe-Signature header has no v1 signature")
    expected = sign(raw_body, secret, timestamp).encode()
    # Compare every candidate (no early exit): the time taken does not tell which matched.
    if not sum(hmac.compare_digest(expected, s.encode("ascii", "replace")) for s in signatures):
        raise InvalidSignature("The Stripe signature does not match the body")
    if timestamp < now() - tolerance_s:
        raise InvalidSignature(f"The Stripe signature is older than {tolerance_s} seconds")


__all__ = ["SIGNATURE_HEADER", "TOLERANCE_S", "sign", "signature_header", "verify"]
