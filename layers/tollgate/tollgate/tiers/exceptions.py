"""What reading or changing tiers can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound


class TierNotFound(NotFound):
    pass


__all__ = ["TierNotFound"]
