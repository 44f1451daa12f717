"""Tier storage: the catalog partition's ``TIER#`` items and wallets' subscriptions."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data import get_or_none
from tollgate.tiers.models import SubscriptionItem, TierItem


def put_tier(**fields: Any) -> TierItem:
    item = TierItem(*keys.tier(fields["tier_id"]), **fields)
    item.save()
    return item


def get_tier(tier_id: str) -> TierItem | None:
    return get_or_none(TierItem, *keys.tier(tier_id))


def list_tiers() -> list[TierItem]:
    """Every tier, in one Query of the catalog partition."""
    return list(TierItem.query(keys.CATALOG_PK, TierItem.sk.startswith(keys.TIER_PREFIX), consistent_read=True))


def get_subscription(wallet_id: str) -> SubscriptionItem | None:
    return get_or_none(SubscriptionItem, *keys.subscription(wallet_id))


def put_subscription(wallet_id: str, tier_id: str, actor: str, now: str) -> SubscriptionItem:
    existing = get_subscription(wallet_id)
    item = SubscriptionItem(*keys.subscription(wallet_id), gsi1pk=keys.subscribers_gsi1pk(wallet_id),
                            gsi1sk=wallet_id, wallet_id=wallet_id, tier_id=tier_id, assigned_by=actor,
                            created_at=existing.created_at if existing else now, updated_at=now)
    item.save()
    return item


def delete_subscription(wallet_id: str) -> None:
    SubscriptionItem(*keys.subscription(wallet_id)).delete()
