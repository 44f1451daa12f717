"""The audit trail of admin changes: settings, features, packages, tiers and wallets' tiers."""

from __future__ import annotations

from tollgate.audit.exceptions import ChangedMeanwhile
from tollgate.audit.service import Change, apply, commit, list_records, unchanged, view

__all__ = ["Change", "ChangedMeanwhile", "apply", "commit", "list_records", "unchanged", "view"]
