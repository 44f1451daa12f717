"""The append-only ledger: wallets, entries, postings, adjustments and history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.ledger.exceptions import InsufficientCredits, InvalidCursor, WalletNotFound

if TYPE_CHECKING:
    from tollgate.ledger.history import wallet_history
    from tollgate.ledger.schemas import ENTRY_TYPES
    from tollgate.ledger.service import adjust, reconcile, set_low_balance, set_top_up_threshold
    from tollgate.ledger.wallets import WalletState

__getattr__ = lazy.exports(__name__, {
    "history": ("wallet_history",),
    "schemas": ("ENTRY_TYPES",),
    "service": ("adjust", "reconcile", "set_low_balance", "set_top_up_threshold"),
    "wallets": ("WalletState",),
})

__all__ = [
    "ENTRY_TYPES",
    "InsufficientCredits",
    "InvalidCursor",
    "WalletNotFound",
    "WalletState",
    "adjust",
    "reconcile",
    "set_low_balance",
    "set_top_up_threshold",
    "wallet_history",
]
