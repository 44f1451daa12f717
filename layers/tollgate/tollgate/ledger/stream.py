"""Stamping ``balance_after`` from the wallet item's stream records."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data.images import image_number, image_string
from tollgate.ledger import repository


def stamp_from_record(record: dict[str, Any]) -> bool:
    """Stamp the entry a wallet update wrote; False when the record is not a balance change."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return False
    change = record.get("dynamodb") or {}
    if image_string(change.get("Keys") or {}, "SK") != keys.WALLET_SK:
        return False
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    tx = image_string(new, "last_tx")
    # Holds and their release change reserved/available but not the balance or last_tx.
    if not tx or tx == image_string(old, "last_tx"):
        return False
    wallet_id, balance = image_string(new, "wallet_id"), image_number(new, "balance")
    if wallet_id is None or balance is None:
        return False
    return repository.stamp_balance_after(wallet_id, tx, balance)
