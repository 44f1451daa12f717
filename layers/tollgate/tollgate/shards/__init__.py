"""Sharded wallets: one wallet's credits over N items, so one busy wallet's debits spread over N
partitions (README: "Sharded wallets")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.shards.exceptions import ShardCountInvalid

if TYPE_CHECKING:
    from tollgate.shards.service import reshard, set_shards, view

__getattr__ = lazy.exports(__name__, {
    "service": ("reshard", "set_shards", "view"),
})

__all__ = ["ShardCountInvalid", "reshard", "set_shards", "view"]
