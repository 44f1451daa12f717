"""A balance change as attribution needs it, from its ledger entry (``Change``)."""

from __future__ import annotations

import logging

from tollgate import clock
from tollgate.grants.attribution import Change
from tollgate.ledger.models import LedgerEntryItem

logger = logging.getLogger(__name__)


def created_ms(entry: LedgerEntryItem | None) -> int:
    if entry is not None and entry.created_at:
        try:
            return clock.parse_rfc3339(entry.created_at)
        except ValueError:
            pass
    return clock.now_ms()


def change_of(wallet_id: str, tx: str, entry: LedgerEntryItem | None, delta: int) -> Change:
    if entry is None:
        # The wallet names an entry that is not there (it always is, but for hand-made records):
        # the balance's own change is attributed as an entry of no known type.
        logger.warning("wallet %s: no ledger entry %s; attributing the balance change alone", wallet_id, tx)
        return Change(transaction_id=tx, entry_type="unknown", amount=delta, created_ms=clock.now_ms(),
                      wallet_id=wallet_id)
    return Change(transaction_id=tx, entry_type=entry.type, amount=entry.amount, created_ms=created_ms(entry),
                  wallet_id=wallet_id, reference=entry.reference, metadata=dict(entry.metadata or {}))


__all__ = ["change_of", "created_ms"]
