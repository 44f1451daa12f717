from __future__ import annotations

from tollgate.errors import RateLimited


class KeyRateLimited(RateLimited):
    """The key has made its requests for this second (``retry_after_seconds``: 1)."""


__all__ = ["KeyRateLimited"]
