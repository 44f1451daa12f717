"""The aggregate items. Their counters are named by data (``in:<type>``, ``rev:<CUR>:<gateway>``,
``spent:<feature>``), so they are top-level number attributes PynamoDB cannot declare: these
models declare what every such item has, and ``tollgate.analytics.repository`` writes the counters
with ``ADD`` (atomic increments of top-level attributes) and reads them raw."""

from __future__ import annotations

from tollgate.data import IntegerAttribute, TableItem


class AggregateItem(TableItem, discriminator="aggregate"):
    """``AGG#<yyyy>#<shard>`` / ``T#<day>`` (platform figures), ``F#<day>#<feature>`` or
    ``D#<day>#<developer>`` (``spent``, ``calls``): one shard's part of a day; readers add the shards."""


class UsageDayItem(TableItem, discriminator="usage_day"):
    """``USAGE#<wallet_id>`` / ``DAY#<day>``: a wallet's usage of one day, and per feature
    (``spent:<feature>``, ``calls:<feature>``)."""

    spent = IntegerAttribute(default=0)
    calls = IntegerAttribute(default=0)


__all__ = ["AggregateItem", "UsageDayItem"]
