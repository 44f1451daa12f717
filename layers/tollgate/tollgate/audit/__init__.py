"""The audit trail of admin changes: settings, features, packages, tiers, wallets' tiers and webhook endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.audit.exceptions import ChangedMeanwhile

if TYPE_CHECKING:
    from tollgate.audit.service import Change, apply, commit, list_records, unchanged, view

__getattr__ = lazy.exports(__name__, {
    "service": ("Change", "apply", "commit", "list_records", "unchanged", "view"),
})

__all__ = ["Change", "ChangedMeanwhile", "apply", "commit", "list_records", "unchanged", "view"]
