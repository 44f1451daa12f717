"""Analytics errors: a bad date range is a 422 that names the field."""

from __future__ import annotations

from tollgate.errors import ValidationFailed


class InvalidRange(ValidationFailed):
    """``from``/``to`` malformed, reversed, or spanning more days than a call may read."""


__all__ = ["InvalidRange"]
