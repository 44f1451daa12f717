"""``KEYRATE#<key_id>#<shard>`` / ``<epoch second>``: a key's requests counted in one second by one
shard, expiring a few minutes later."""

from __future__ import annotations

from tollgate.data import IntegerAttribute, TableItem


class KeyRateItem(TableItem, discriminator="key_rate"):
    n = IntegerAttribute(default=0)
    ttl_epoch = IntegerAttribute()
