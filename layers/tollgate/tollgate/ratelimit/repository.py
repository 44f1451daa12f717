"""One conditional ADD per admitted request: the shard's count for this second, below its cap."""

from __future__ import annotations

from tollgate import keys
from tollgate.data import ConditionFailed, conditional
from tollgate.ratelimit.models import KeyRateItem as K

# Kept past its second so a late retry of the same window still finds it; TTL removes it later.
KEEP_SECONDS = 300


def take(key_id: str, shard: int, second: int, cap: int) -> bool:
    """Count one request in ``shard`` for ``second``; False when the shard is full."""
    item = K(*keys.key_rate(key_id, shard, second))
    try:
        conditional(lambda: item.update([K.n.add(1), K.ttl_epoch.set(second + KEEP_SECONDS), K.entity.set(K)],
                                        condition=K.n.does_not_exist() | (K.n < cap)))
    except ConditionFailed:
        return False
    return True
