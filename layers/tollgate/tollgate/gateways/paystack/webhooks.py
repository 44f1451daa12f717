"""Paystack's webhook signature, checked over the exact bytes received.

``x-paystack-signature`` is the hex HMAC-SHA512 of the raw request body keyed with the
secret key (Paystack has no separate signing secret and no timestamp); it is compared in
constant time. Two different values of the header are refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from tollgate.gateways.exceptions import InvalidSignature

SIGNATURE_HEADER = "x-paystack-signature"


def sign(secret_key: str, raw_body: bytes) -> str:
    """The ``x-paystack-signature`` Paystack sends with ``raw_body``."""
    return hmac.new(secret_key.encode(), raw_body, hashlib.sha512).hexdigest()


def verify(raw_body: bytes, headers: Mapping[str, str], secret_key: str) -> None:
    """Return if ``headers`` sign ``raw_body`` with ``secret_key``; else InvalidSignature."""
    values = {value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER}
    if len(values) > 1:
        raise InvalidSignature("more than one x-paystack-signature header")
    given = next(iter(values), "").strip().lower()
    if not given:
        raise InvalidSignature("missing x-paystack-signature header")
    if not hmac.compare_digest(sign(secret_key, raw_body).encode(), given.encode("ascii", "replace")):
        raise InvalidSignature("x-paystack-signature does not match the body")


__all__ = ["SIGNATURE_HEADER", "sign", "verify"]
