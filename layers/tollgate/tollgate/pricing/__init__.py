"""Pricing and the feature catalog."""

from __future__ import annotations

from tollgate.pricing.exceptions import FeatureNotFound, InvalidUsage, UnknownFeature
from tollgate.pricing.rules import Measurement, PricingRule
from tollgate.pricing.service import (
    Feature,
    feature_for_charging,
    get_feature,
    list_features,
    put_feature,
    reset_cache,
)

__all__ = [
    "Feature",
    "FeatureNotFound",
    "InvalidUsage",
    "Measurement",
    "PricingRule",
    "UnknownFeature",
    "feature_for_charging",
    "get_feature",
    "list_features",
    "put_feature",
    "reset_cache",
]
