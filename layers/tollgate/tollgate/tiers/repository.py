"""Tier storage: the catalog partition's ``TIER#`` items."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data import get_or_none
from tollgate.tiers.models import TierItem


def put_tier(**fields: Any) -> TierItem:
    item = TierItem(*keys.tier(fields["tier_id"]), **fields)
    item.save()
    return item


def get_tier(tier_id: str) -> TierItem | None:
    return get_or_none(TierItem, *keys.tier(tier_id))


def list_tiers() -> list[TierItem]:
    """Every tier, in one Query of the catalog partition."""
    return list(TierItem.query(keys.CATALOG_PK, TierItem.sk.startswith(keys.TIER_PREFIX), consistent_read=True))
