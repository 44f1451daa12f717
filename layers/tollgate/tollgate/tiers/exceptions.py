"""What reading or changing tiers can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound, ValidationFailed


class TierNotFound(NotFound):
    pass


class TierNotOffered(ValidationFailed):
    """The tier exists but is inactive: no wallet can be subscribed to it."""


class AllocationRunNotFound(NotFound):
    pass


__all__ = ["AllocationRunNotFound", "TierNotFound", "TierNotOffered"]
