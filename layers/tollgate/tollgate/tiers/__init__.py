"""Subscription tiers: the catalog of monthly credit allocations (seed 004, ``service``) and the
monthly allocation run (``run``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy

if TYPE_CHECKING:
    from tollgate.tiers import run
    from tollgate.tiers.service import assign_tier, list_tiers, put_tier

__getattr__ = lazy.exports(__name__, {"service": ("assign_tier", "list_tiers", "put_tier")}, submodules=("run",))

__all__ = ["assign_tier", "list_tiers", "put_tier", "run"]
