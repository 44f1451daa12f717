"""Stamping ``balance_after`` from the wallet item's stream records."""

from __future__ import annotations

from typing import Any

from tollgate import dynamo, keys
from tollgate.ledger import repository


def stamp_from_record(record: dict[str, Any]) -> bool:
    """Stamp the entry a wallet update wrote; False when the record is not a balance change."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return False
    change = record.get("dynamodb") or {}
    key = dynamo.from_item(change.get("Keys")) or {}
    if key.get("SK") != keys.WALLET_SK:
        return False
    new = dynamo.from_item(change.get("NewImage")) or {}
    old = dynamo.from_item(change.get("OldImage")) or {}
    tx = new.get("last_tx")
    # Holds and their release change reserved/available but not the balance or last_tx.
    if not tx or tx == old.get("last_tx"):
        return False
    return repository.stamp_balance_after(new["wallet_id"], tx, int(new["balance"]))
