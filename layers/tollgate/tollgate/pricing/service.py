"""The feature catalog: admin upserts, the public list, and a cached lookup for charging.

The deduction path must not read before its write, so it prices from an in-memory copy
of the catalog (one query for the whole partition), kept per function container:

* a hit (an id cached as active) is served from memory; the copy is refreshed when it is
  older than ``CATALOG_CACHE_SECONDS``, so price edits and deactivations arrive within
  that time;
* a miss (an id unknown *or cached as inactive*) refreshes the copy at once, so a feature
  is priceable the moment it is saved or re-activated, in every container;
* a per-id negative cache bounds a client hammering one unknown id to one refresh a
  second; other ids' misses are not held back by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tollgate import clock
from tollgate.config import settings
from tollgate.pricing import repository
from tollgate.pricing.exceptions import FeatureNotFound, UnknownFeature
from tollgate.pricing.models import FeatureItem
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
    def from_item(cls, item: FeatureItem) -> Feature:
        return cls(
            feature_id=item.feature_id,
            name=item.name,
            pricing=PricingRule.from_item(item.pricing),
            active=item.active,
            developer_id=item.developer_id,
            revenue_share_bps=item.revenue_share_bps,
            description=item.description,
            created_at=item.created_at,
            updated_at=item.updated_at,
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
        self.missed_ms: dict[str, int] = {}  # id -> when a miss for it last refreshed

    def refresh(self, now_ms: int) -> None:
        self.features = {f.feature_id: f for f in (Feature.from_item(i) for i in repository.list_features())}
        self.loaded_ms = now_ms

    def get(self, feature_id: str) -> Feature | None:
        """The active feature, or None if it is unknown or inactive even after a refresh."""
        now = clock.now_ms()
        if self.loaded_ms < 0 or now - self.loaded_ms > settings().catalog_cache_seconds * 1000:
            self.refresh(now)
        found = self.features.get(feature_id)
        if found is not None and found.active:
            return found
        last_miss = self.missed_ms.get(feature_id)
        if (last_miss is None or now - last_miss >= _MISS_REFRESH_MS) and self.loaded_ms != now:
            if len(self.missed_ms) > _MAX_MISSES:
                self.missed_ms.clear()  # bounded: a flood of distinct ids cannot grow it forever
            self.missed_ms[feature_id] = now
            self.refresh(now)
            found = self.features.get(feature_id)
        return found if found is not None and found.active else None


_MAX_MISSES = 10_000
_cache = _CatalogCache()


def reset_cache() -> None:
    """Forget this container's copy, as a cold start would (tests, between cases).

    It reaches only the process it runs in: other functions' containers see a change
    through the miss and age rules above, never through this.
    """
    global _cache
    _cache = _CatalogCache()


def feature_for_charging(feature_id: str) -> Feature:
    """The active feature to price a usage or reservation with (cached; 422 if unknown)."""
    feature = _cache.get(feature_id)
    if feature is None:
        raise UnknownFeature(f"unknown or inactive feature '{feature_id}'", field="feature")
    return feature


def put_feature(feature_id: str, body: FeatureIn, *, actor: str) -> Feature:
    """Create or replace a feature, recorded in the audit trail (``feature.put``) in the same transaction."""
    from tollgate import audit  # the debit path prices from this module: it never loads the audit trail

    def change() -> Feature:
        now = clock.iso(clock.now_ms())
        existing = repository.get_feature(feature_id)
        item = repository.new_feature(
            feature_id=feature_id,
            name=body.name,
            description=body.description,
            pricing=rule_from_schema(body.pricing).to_item(),
            developer_id=body.developer_id,
            revenue_share_bps=body.revenue_share_bps,
            active=body.active,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        feature = Feature.from_item(item)
        before = Feature.from_item(existing).view(internal=True) if existing else None
        repository.save_feature(item, existing, audit.Change(
            actor=actor, action="feature.put", target=f"feature:{feature_id}", before=audit.view(before),
            after=audit.view(feature.view(internal=True)), at=now))
        return feature

    return audit.apply(change)


def get_feature(feature_id: str) -> Feature:
    item = repository.get_feature(feature_id)
    if item is None:
        raise FeatureNotFound(f"feature '{feature_id}' not found")
    return Feature.from_item(item)


def list_features(*, include_inactive: bool = False) -> list[Feature]:
    features = [Feature.from_item(i) for i in repository.list_features()]
    return [f for f in features if include_inactive or f.active]
