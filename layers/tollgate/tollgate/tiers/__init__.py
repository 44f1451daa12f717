"""Subscription tiers: the catalog of monthly credit allocations (seed 004)."""

from __future__ import annotations

from tollgate.tiers.service import assign_tier, list_tiers, put_tier

__all__ = ["assign_tier", "list_tiers", "put_tier"]
