from __future__ import annotations

from tollgate.errors import NotFound, ValidationFailed


class FeatureNotFound(NotFound):
    """An admin route named a feature that does not exist."""


class UnknownFeature(ValidationFailed):
    """A usage or reservation named a feature that is missing or inactive (bad input: 422)."""


class InvalidUsage(ValidationFailed):
    """The measurement does not fit the feature's pricing rule."""
