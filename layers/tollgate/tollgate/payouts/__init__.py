"""Developer payouts: payout accounts, payout requests, and the steps of the payout workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy

if TYPE_CHECKING:
    from tollgate.payouts import accounts, workflow
    from tollgate.payouts.service import get_payout, list_payouts, request_payout

__getattr__ = lazy.exports(__name__, {
    "service": ("get_payout", "list_payouts", "request_payout"),
}, submodules=("accounts", "workflow"))

__all__ = ["accounts", "get_payout", "list_payouts", "request_payout", "workflow"]
