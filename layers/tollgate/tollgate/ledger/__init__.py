"""The append-only ledger: wallets, entries, usage debits, adjustments and history."""

from __future__ import annotations

from tollgate.ledger.exceptions import InsufficientCredits, InvalidCursor, LedgerIdempotencyConflict, WalletNotFound
from tollgate.ledger.history import history
from tollgate.ledger.schemas import ENTRY_TYPES
from tollgate.ledger.service import adjust, reconcile, record_usage, wallet_view
from tollgate.ledger.wallets import WalletState

__all__ = [
    "ENTRY_TYPES",
    "InsufficientCredits",
    "InvalidCursor",
    "LedgerIdempotencyConflict",
    "WalletNotFound",
    "WalletState",
    "adjust",
    "history",
    "reconcile",
    "record_usage",
    "wallet_view",
]
