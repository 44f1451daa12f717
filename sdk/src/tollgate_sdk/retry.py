"""When and how long to wait before sending a call again.

A call is sent again after a 429, a 5xx or a failed connection (``httpx.TransportError``),
never after another 4xx. Waits grow exponentially with jitter; a ``Retry-After`` header on a
429 or 503 is honoured (up to ``max_retry_after``). Money calls carry one Idempotency-Key for
every attempt, so the API applies a call that is sent again at most once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = ["RetryPolicy", "parse_retry_after", "retryable_exception", "retryable_status"]


def _jitter() -> float:
    return random.random()  # noqa: S311 - spreading retries, not a secret


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt (so ``max_retries + 1`` requests at most).

    Attempt ``n`` (0-based) waits between half and all of ``min(max_backoff, backoff * 2**n)``
    seconds, or what ``Retry-After`` asks (capped at ``max_retry_after``).
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    jitter: Callable[[], float] = field(default=_jitter, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** attempt)
        return ceiling / 2 + ceiling / 2 * self.jitter()


def retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retryable_exception(exc: BaseException) -> bool:
    """A connection that failed or dropped; not a request that could never be sent."""
    return isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After``: delta-seconds or an HTTP-date; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())
