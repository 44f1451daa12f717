"""Stamping ``balance_after`` from the wallet item's stream records."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.ledger import repository


def _string(image: dict[str, Any], name: str) -> str | None:
    value = (image.get(name) or {}).get("S")
    return str(value) if value is not None else None


def _number(image: dict[str, Any], name: str) -> int | None:
    value = (image.get(name) or {}).get("N")
    return int(value) if value is not None else None


def stamp_from_record(record: dict[str, Any]) -> bool:
    """Stamp the entry a wallet update wrote; False when the record is not a balance change.

    Only the attributes needed are read from the images (some emulators render an empty
    map without its type, which a whole-image deserialisation would refuse).
    """
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return False
    change = record.get("dynamodb") or {}
    if _string(change.get("Keys") or {}, "SK") != keys.WALLET_SK:
        return False
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    tx = _string(new, "last_tx")
    # Holds and their release change reserved/available but not the balance or last_tx.
    if not tx or tx == _string(old, "last_tx"):
        return False
    wallet_id, balance = _string(new, "wallet_id"), _number(new, "balance")
    if wallet_id is None or balance is None:
        return False
    return repository.stamp_balance_after(wallet_id, tx, balance)
