"""A sharded wallet's items: shards 1..N-1 (shard 0 is the wallet item) and the history marker."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import IntegerAttribute, TableItem
from tollgate.ledger.models import HistoryRow


class WalletShardItem(TableItem, discriminator="wallet_shard"):
    """``WALLET#<id>#S<k>`` / ``SHARD``: part of a wallet's credits, in a partition of its own.
    Debits only (holds and credits go to shard 0), so ``balance`` and ``available`` move together."""

    wallet_id = UnicodeAttribute()
    shard = IntegerAttribute()
    shards = IntegerAttribute()  # the wallet's shard count when this shard last changed layout
    balance = IntegerAttribute(default=0)
    available = IntegerAttribute(default=0)
    last_tx = UnicodeAttribute(null=True)
    seq = IntegerAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class ShardedMarkerItem(HistoryRow, discriminator="wallet_sharded"):
    """``WALLET#<id>`` / ``SHARDED``, ``LSI1SK`` = ``~``: the wallet's debit entries are in its slots.
    Sorting after every entry, it is the first row a history query newest first meets, so that one
    query tells the history to merge the slots (an unsharded wallet's page stays one query)."""

    wallet_id = UnicodeAttribute()
    sharded_at = UnicodeAttribute()


class CrossingsItem(TableItem, discriminator="wallet_crossings"):
    """``WALLET#<id>`` / ``CROSSINGS``: which side of each threshold a sharded wallet was last seen on,
    how many times it crossed below each, and up to which crossing each was announced
    (``tollgate.shards.crossings``). Kinds: ``low`` (credits.low), ``depleted``, ``topup``."""

    wallet_id = UnicodeAttribute()
    low_below = BooleanAttribute(default=False)
    low_n = IntegerAttribute(default=0)
    low_done = IntegerAttribute(default=0)
    depleted_below = BooleanAttribute(default=False)
    depleted_n = IntegerAttribute(default=0)
    depleted_done = IntegerAttribute(default=0)
    topup_below = BooleanAttribute(default=False)
    topup_n = IntegerAttribute(default=0)
    topup_done = IntegerAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
