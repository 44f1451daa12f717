"""The feature catalog: admin upserts, the public list, and a cached lookup for charging.

The deduction path must not read before its write, so it prices from an in-memory copy
of the catalog, refreshed every ``CATALOG_CACHE_SECONDS`` (one query for the whole
partition) and at most once a second on a miss, so a new feature is usable at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollgate import clock
from tollgate.config import settings
from tollgate.dynamo import Item
from tollgate.pricing import repository
from tollgate.pricing.exceptions import FeatureNotFound, UnknownFeature
from tollgate.pricing.rules import PricingRule
from tollgate.pricing.schemas import FeatureIn, FeatureOut, PricingOut, rule_from_schema

_MISS_REFRESH_MS = 1000


@dataclass(frozen=True)
class Feature:
    feature_id: str
    name: str
    pricing: PricingRule
    active: bool
    developer_id: str | None
    revenue_share_bps: int
    description: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_item(cls, item: Item) -> Feature:
        return cls(
            feature_id=item["feature_id"],
            name=item["name"],
            pricing=PricingRule.from_item(item["pricing"]),
            active=bool(item.get("active", True)),
            developer_id=item.get("developer_id"),
            revenue_share_bps=int(item.get("revenue_share_bps", 0)),
            description=item.get("description"),
            created_at=item["created_at"],
            updated_at=item["updated_at"],
        )

    def view(self, *, internal: bool) -> FeatureOut:
        p = self.pricing
        pricing = (
            PricingOut(type=p.type, input_credits=p.input_mc, output_credits=p.output_mc)
            if p.type == "per_token"
            else PricingOut(type=p.type, credits=p.credits_mc)
        )
        return FeatureOut(
            feature_id=self.feature_id,
            name=self.name,
            description=self.description,
            pricing=pricing,
            developer_id=self.developer_id if internal else None,
            revenue_share_bps=self.revenue_share_bps if internal else None,
            active=self.active,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class _CatalogCache:
    def __init__(self) -> None:
        self.features: dict[str, Feature] = {}
        self.loaded_ms = -1
        self.last_miss_refresh_ms = -1

    def refresh(self) -> None:
        self.features = {f.feature_id: f for f in (Feature.from_item(i) for i in repository.list_features())}
        self.loaded_ms = clock.now_ms()

    def get(self, feature_id: str) -> Feature | None:
        now = clock.now_ms()
        if self.loaded_ms < 0 or now - self.loaded_ms > settings().catalog_cache_seconds * 1000:
            self.refresh()
        found = self.features.get(feature_id)
        if found is None and now - max(self.loaded_ms, self.last_miss_refresh_ms) >= _MISS_REFRESH_MS:
            self.last_miss_refresh_ms = now
            self.refresh()
            found = self.features.get(feature_id)
        return found

    def invalidate(self) -> None:
        self.loaded_ms = -1


_cache = _CatalogCache()


def invalidate_cache() -> None:
    _cache.invalidate()


def feature_for_charging(feature_id: str) -> Feature:
    """The active feature to price a usage or reservation with (cached; 422 if unknown)."""
    feature = _cache.get(feature_id)
    if feature is None or not feature.active:
        raise UnknownFeature(f"unknown or inactive feature '{feature_id}'", field="feature")
    return feature


def put_feature(feature_id: str, body: FeatureIn) -> Feature:
    now = clock.iso(clock.now_ms())
    existing = repository.get_feature(feature_id)
    item: dict[str, Any] = {
        "entity": "feature",
        "feature_id": feature_id,
        "name": body.name,
        "description": body.description,
        "pricing": rule_from_schema(body.pricing).to_item(),
        "developer_id": body.developer_id,
        "revenue_share_bps": body.revenue_share_bps,
        "active": body.active,
        "created_at": existing["created_at"] if existing else now,
        "updated_at": now,
    }
    repository.put_feature(item)
    _cache.invalidate()
    return Feature.from_item(item)


def get_feature(feature_id: str) -> Feature:
    item = repository.get_feature(feature_id)
    if item is None:
        raise FeatureNotFound(f"feature '{feature_id}' not found")
    return Feature.from_item(item)


def list_features(*, include_inactive: bool = False) -> list[Feature]:
    features = [Feature.from_item(i) for i in repository.list_features()]
    return [f for f in features if include_inactive or f.active]
