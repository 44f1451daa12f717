"""Subscription tiers (``CATALOG`` / ``TIER#<id>``, in the catalog's one small partition) and each
wallet's subscription to one."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI1, ExactMapAttribute, IntegerAttribute, TableItem


class TierItem(TableItem, discriminator="tier"):
    """Credits a month, and what of an allocation carries over to the next month."""

    tier_id = UnicodeAttribute()
    name = UnicodeAttribute()
    monthly_credits_mc = IntegerAttribute()
    rollover = ExactMapAttribute()  # {"type": "none"} | {"type": "cap", "credits_mc": n}
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class SubscriptionItem(TableItem, discriminator="subscription"):
    """``WALLET#<id>`` / ``SUBSCRIPTION``: the wallet's tier; in GSI1 under ``SUBSCRIBERS#<shard>``
    (by wallet id), where the monthly allocation finds every subscriber."""

    subscribers = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    wallet_id = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    assigned_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
