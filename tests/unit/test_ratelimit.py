"""How a key's requests a second are split into shard caps (tollgate.ratelimit.plan)."""

from __future__ import annotations

import pytest

from tollgate.ratelimit import SHARD_CAPACITY, plan


@pytest.mark.parametrize("limit, caps", [(1, [1]), (100, [100]), (101, [51, 50]), (250, [84, 83, 83]),
                                         (10_000, [100] * 100)])
def test_shard_caps_add_up_to_the_limit_and_none_exceeds_a_shard(limit, caps):
    assert plan(limit) == caps


@pytest.mark.parametrize("limit", range(1, 2_001, 7))
def test_every_limit_splits_exactly(limit):
    caps = plan(limit)
    assert sum(caps) == limit
    assert max(caps) <= SHARD_CAPACITY and max(caps) - min(caps) <= 1
    assert len(caps) == -(-limit // SHARD_CAPACITY)
