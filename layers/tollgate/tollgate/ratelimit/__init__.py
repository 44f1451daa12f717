"""Per-key request limits for server API keys: a counter per second, sharded so no item is hot."""

from __future__ import annotations

from tollgate.ratelimit.exceptions import KeyRateLimited
from tollgate.ratelimit.service import DEFAULT_PER_SECOND, MAX_PER_SECOND, SHARD_CAPACITY, admit, plan

__all__ = ["DEFAULT_PER_SECOND", "MAX_PER_SECOND", "SHARD_CAPACITY", "KeyRateLimited", "admit", "plan"]
