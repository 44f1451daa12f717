"""A feature of the catalog: ``CATALOG`` / ``FEATURE#<id>`` (one small partition, read whole)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import ExactMapAttribute, IntegerAttribute, TableItem


class FeatureItem(TableItem, discriminator="feature"):
    feature_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    pricing = ExactMapAttribute()
    developer_id = UnicodeAttribute(null=True)
    revenue_share_bps = IntegerAttribute(default=0)
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
