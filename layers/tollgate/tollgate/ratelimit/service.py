"""A server API key's requests per second, counted without a hot item.

A key allowed ``limit`` requests a second has ``ceil(limit / SHARD_CAPACITY)`` counters per second
(shards), each allowed its share of the limit. A request counts itself in a random shard (one
conditional ``UpdateItem``); when that shard is full it tries the others in turn, and only when every
shard is full is it refused: 429 ``rate_limited`` with ``Retry-After: 1``. So a key gets exactly its
limit each second, and no counter takes more than :data:`SHARD_CAPACITY` writes a second (a DynamoDB
item takes up to 1,000). The window is the clock's second: a burst can take a limit at the end of one
second and another at the start of the next.

A shard found full stays full for the rest of its second, so the process remembers it (per key,
for the current second only) and tries it no more: once a key's every shard has refused it, the
refusals after it cost no write at all, and a key far over its limit costs at most one failed
write per shard and second in each container.

People (bearer tokens) are not counted here: API Gateway's stage throttling bounds them.
"""

from __future__ import annotations

import random

from tollgate import clock
from tollgate.principal import Principal
from tollgate.ratelimit import repository
from tollgate.ratelimit.exceptions import KeyRateLimited

SHARD_CAPACITY = 100
DEFAULT_PER_SECOND = 100
MAX_PER_SECOND = 10_000


_full: dict[str, set[int]] = {}  # key id -> its shards found full in _second (this process)
_second = 0


def _full_this_second(key_id: str, second: int) -> set[int]:
    global _second
    if second != _second:  # a new window: every shard has room again
        _full.clear()
        _second = second
    return _full.setdefault(key_id, set())


def reset() -> None:
    """Forget the shards found full (a cold start's state)."""
    global _second
    _full.clear()
    _second = 0


def plan(limit: int) -> list[int]:
    """Each shard's cap: ``ceil(limit / SHARD_CAPACITY)`` shards whose caps add up to ``limit``."""
    shards = -(-limit // SHARD_CAPACITY)
    base, extra = divmod(limit, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


def admit(principal: Principal) -> None:
    """Count one request of a server API key; raise :class:`KeyRateLimited` over its limit."""
    if not principal.is_service or principal.key_id is None:
        return
    limit = principal.rate_limit or DEFAULT_PER_SECOND
    caps = plan(limit)
    second = clock.now_ms() // 1000
    full = _full_this_second(principal.key_id, second)
    first = random.randrange(len(caps))  # noqa: S311 - spreading load, not a secret
    for i in range(len(caps)):
        shard = (first + i) % len(caps)
        if shard in full:
            continue
        if repository.take(principal.key_id, shard, second, caps[shard]):
            return
        full.add(shard)
    raise KeyRateLimited(f"this API key is limited to {limit} requests a second; retry in a second",
                         retry_after_seconds=1, limit_per_second=limit)
