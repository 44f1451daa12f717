"""Analytics: aggregates the ledger stream keeps (exactly once, sharded), what admins and users read
from them, and every wallet's entries by day (listings, exports)."""

from __future__ import annotations

from tollgate.analytics.service import analytics, top_developers, top_features, usage_summary
from tollgate.analytics.transactions import iter_entries, list_transactions

__all__ = [
    "analytics",
    "iter_entries",
    "list_transactions",
    "top_developers",
    "top_features",
    "usage_summary",
]
