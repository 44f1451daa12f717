"""Subscription tiers: ``CATALOG`` / ``TIER#<id>`` (in the catalog's one small partition, read whole)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import ExactMapAttribute, IntegerAttribute, TableItem


class TierItem(TableItem, discriminator="tier"):
    """Credits a month, and what of an allocation carries over to the next month."""

    tier_id = UnicodeAttribute()
    name = UnicodeAttribute()
    monthly_credits_mc = IntegerAttribute()
    rollover = ExactMapAttribute()  # {"type": "none"} | {"type": "cap", "credits_mc": n}
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
