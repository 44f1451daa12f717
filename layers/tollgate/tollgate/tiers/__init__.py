"""Subscription tiers: the catalog of monthly credit allocations (seed 004) and the monthly run."""

from __future__ import annotations

from tollgate.tiers.run import get_run as get_allocation_run
from tollgate.tiers.run import list_runs as list_allocation_runs
from tollgate.tiers.run import start_manual as start_allocation_run
from tollgate.tiers.service import assign_tier, list_tiers, put_tier

__all__ = ["assign_tier", "get_allocation_run", "list_allocation_runs", "list_tiers", "put_tier",
           "start_allocation_run"]
