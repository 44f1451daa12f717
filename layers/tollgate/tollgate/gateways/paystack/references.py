"""Paystack transaction references for Tollgate's purchases.

Paystack allows only alphanumerics and ``- . =`` in a merchant-chosen reference. Purchase ids
are ``<prefix>_<base32>``, so :func:`reference_for` turns ``_`` into ``-`` (``pur_abc`` ->
``pur-abc``). The reference is also the payment's idempotency key: Paystack refuses a second
initialize with the same one ("Duplicate Transaction Reference").
"""

from __future__ import annotations

import re

# Paystack: "Only -, ., = and alphanumeric characters allowed" in a transaction reference.
_REFERENCE_OK = re.compile(r"^[A-Za-z0-9.=-]+$")
# What reference_for makes of an id shaped like tollgate.ids' (<prefix>_<base32>).
_OWN_REFERENCE = re.compile(r"^([a-z0-9]+)-([a-z2-7]+)$")


def reference_for(purchase_id: str) -> str:
    """The Paystack transaction reference for a purchase id (``pur_abc`` -> ``pur-abc``)."""
    reference = purchase_id.replace("_", "-")
    if not _REFERENCE_OK.fullmatch(reference):
        raise ValueError(f"purchase id {purchase_id!r} cannot be a Paystack reference")
    return reference


def purchase_id_for(reference: str) -> str:
    """Best effort inverse of :func:`reference_for` (webhooks without our metadata)."""
    match = _OWN_REFERENCE.fullmatch(reference)
    return f"{match.group(1)}_{match.group(2)}" if match else reference


__all__ = ["purchase_id_for", "reference_for"]
