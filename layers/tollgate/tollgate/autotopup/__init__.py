"""Auto top-up: a card saved at Stripe, charged off-session when a wallet's available falls below
its threshold (at most once per crossing, within a monthly limit).

The service loads on first use: the ledger stream needs only ``requests`` to queue a crossing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.autotopup.exceptions import CardNotSaved, NoSavedCard

if TYPE_CHECKING:
    from tollgate.autotopup.service import (
        Outcome,
        get_settings,
        made_it,
        purchase_failed,
        put_settings,
        save_card,
        start_card_setup,
        top_up,
    )

__getattr__ = lazy.exports(__name__, {
    "service": ("Outcome", "get_settings", "made_it", "purchase_failed", "put_settings", "save_card",
                "start_card_setup", "top_up"),
})

__all__ = ["CardNotSaved", "NoSavedCard", "Outcome", "get_settings", "made_it", "purchase_failed", "put_settings",
           "save_card", "start_card_setup", "top_up"]
