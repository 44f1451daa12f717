"""Feature catalog storage: one small partition (``CATALOG``), read whole."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data import get_or_none
from tollgate.pricing.models import FeatureItem


def put_feature(**fields: Any) -> FeatureItem:
    item = FeatureItem(*keys.feature(fields["feature_id"]), **{k: v for k, v in fields.items() if v is not None})
    item.save()
    return item


def get_feature(feature_id: str) -> FeatureItem | None:
    return get_or_none(FeatureItem, *keys.feature(feature_id))


def list_features() -> list[FeatureItem]:
    return list(FeatureItem.query(keys.CATALOG_PK, FeatureItem.sk.startswith(keys.FEATURE_PREFIX),
                                  consistent_read=True))
