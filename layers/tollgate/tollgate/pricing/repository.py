"""Feature catalog storage: one small partition (``CATALOG``), read whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tollgate import keys
from tollgate.data import Transaction, get_or_none
from tollgate.pricing.models import FeatureItem

if TYPE_CHECKING:
    from tollgate.audit import Change

FEATURE = "feature"


def new_feature(**fields: Any) -> FeatureItem:
    return FeatureItem(*keys.feature(fields["feature_id"]), **{k: v for k, v in fields.items() if v is not None})


def save_feature(item: FeatureItem, stored: FeatureItem | None, change: Change) -> None:
    """Put the feature and its audit record in one transaction, if the feature is still as ``stored``."""
    from tollgate import audit  # not on the debit path, which reads features only

    audit.commit(Transaction().put(FEATURE, item, audit.unchanged(FeatureItem, stored)), change, guarded=FEATURE)


def get_feature(feature_id: str) -> FeatureItem | None:
    return get_or_none(FeatureItem, *keys.feature(feature_id))


def list_features() -> list[FeatureItem]:
    return list(FeatureItem.query(keys.CATALOG_PK, FeatureItem.sk.startswith(keys.FEATURE_PREFIX),
                                  consistent_read=True))
