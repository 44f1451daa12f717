"""Receiving Tollgate's webhooks: check the signature before trusting a delivery.

    from tollgate_sdk import WebhookSignatureError, verify_webhook

    try:
        event = verify_webhook(request.body, request.headers["Tollgate-Signature"], secret)
    except WebhookSignatureError:
        return 400
    if already_seen(event["id"]):  # deliveries are at least once: the id is stable
        return 200

The header reads ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, with the
endpoint's secret (``whsec_...``, shown once when the endpoint was created). Pass the raw body
as received: re-serialised JSON would not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

__all__ = ["SIGNATURE_HEADER", "WebhookSignatureError", "verify_webhook"]

SIGNATURE_HEADER = "Tollgate-Signature"


class WebhookSignatureError(ValueError):
    """The delivery is not from Tollgate (tampered, wrong secret, malformed header) or is too old."""


def verify_webhook(payload: bytes | str, header: str | None, secret: str, *, tolerance: int = 300,
                   now: float | None = None) -> dict[str, Any]:
    """The event (``id``, ``type``, ``created_at``, ``wallet_id``, ``data``) if ``header`` signs
    ``payload`` with ``secret`` and its timestamp is within ``tolerance`` seconds of ``now``
    (default: the clock); :class:`WebhookSignatureError` otherwise."""
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    if not header:
        raise WebhookSignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError("the signature header has no timestamp or no v1 signature")
    expected = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookSignatureError("no signature matches the payload and secret")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookSignatureError("the signature's timestamp is outside the tolerance (a replay?)")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookSignatureError("the signed payload is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookSignatureError("the signed payload is not an event object")
    return event
