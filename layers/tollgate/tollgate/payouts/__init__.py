"""Developer payouts: payout accounts, payout requests, and the steps of the payout workflow."""

from __future__ import annotations

from tollgate.payouts import accounts, workflow
from tollgate.payouts.service import get_payout, list_payouts, request_payout

__all__ = ["accounts", "get_payout", "list_payouts", "request_payout", "workflow"]
