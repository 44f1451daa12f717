"""The append-only ledger: wallets, entries, postings, adjustments and history."""

from __future__ import annotations

from tollgate.ledger.exceptions import InsufficientCredits, InvalidCursor, WalletNotFound
from tollgate.ledger.history import history
from tollgate.ledger.schemas import ENTRY_TYPES
from tollgate.ledger.service import adjust, reconcile
from tollgate.ledger.wallets import WalletState

__all__ = [
    "ENTRY_TYPES",
    "InsufficientCredits",
    "InvalidCursor",
    "WalletNotFound",
    "WalletState",
    "adjust",
    "history",
    "reconcile",
]
