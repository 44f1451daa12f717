"""Per-key request limits: a server API key makes at most its requests a second, counted in
shards so no item is hot; the next is 429 rate_limited with Retry-After and changes nothing, and
the key recovers in the next second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.api_keys import as_key, authorizer_context, create_key
from tests.support import ADMIN, assert_ledger_invariant, invoke, layer_modules

WALLET = "user:alice"


@pytest.fixture
def frozen(monkeypatch) -> Iterator[dict[str, int]]:
    """Every function's clock stopped at the start of a second (moved on by the test), so a
    burst falls in one window however slow the machine is."""
    now = {"ms": 1_800_000_000_000}
    for clock in layer_modules("tollgate.clock"):
        monkeypatch.setattr(clock, "now_ms", lambda: now["ms"])
    yield now


def debit(key: str, n: int) -> tuple[int, Any, dict[str, str]]:
    return as_key(key, "deduction_post_usage_api_key.json", idempotency_key=f"rl-{n}",
                  body={"feature": "ai-insight", "wallet_id": WALLET})


def counters(aws) -> list[dict[str, Any]]:
    from tollgate.data import table_name

    items = aws.scan(TableName=table_name())["Items"]
    return [i for i in items if i["PK"]["S"].startswith("KEYRATE#")]


def test_over_its_limit_a_key_gets_429_with_retry_after_changes_nothing_and_recovers(aws, catalog, fund, frozen):
    fund(WALLET, "100")
    key = create_key(rate_limit_per_second=2)
    assert key["rate_limit_per_second"] == 2
    assert authorizer_context(key["key"])["rate_limit"] == "2"
    assert [debit(key["key"], n)[0] for n in (1, 2)] == [201, 201]
    before = assert_ledger_invariant(WALLET)

    status, body, headers = debit(key["key"], 3)
    assert (status, body["error"]["code"], headers["retry-after"]) == (429, "rate_limited", "1"), body
    assert body["error"]["limit_per_second"] == 2
    # Any route of the key counts: a hold is refused as well, and nothing was held or charged.
    status, body, _ = as_key(key["key"], "deduction_post_reservation.json", idempotency_key="rl-hold",
                             body={"feature": "ai-plugin-generate", "max_credits": "20", "wallet_id": WALLET})
    assert status == 429, body
    assert assert_ledger_invariant(WALLET) == before

    frozen["ms"] += 1000  # the next second
    status, body, _ = debit(key["key"], 3)  # the refused call, retried with its key, now goes through
    assert status == 201, body
    assert assert_ledger_invariant(WALLET)["balance"] == before["balance"] - 9_000


def test_the_limit_is_exact_across_shards_and_no_shard_takes_more_than_its_share(aws, frozen):
    from tollgate import ratelimit
    from tollgate.principal import Principal

    key = Principal(type="service", sub="key:k1", roles=frozenset({"service"}), key_id="k1", rate_limit=250)
    for _ in range(250):
        ratelimit.admit(key)
    with pytest.raises(ratelimit.KeyRateLimited):
        ratelimit.admit(key)
    shards = {i["PK"]["S"]: int(i["n"]["N"]) for i in counters(aws)}
    assert sorted(shards) == ["KEYRATE#k1#0", "KEYRATE#k1#1", "KEYRATE#k1#2"]
    assert sorted(shards.values()) == [83, 83, 84]
    # Another key, and the next second, start from nothing.
    other = Principal(type="service", sub="key:k2", roles=frozenset({"service"}), key_id="k2", rate_limit=1)
    ratelimit.admit(other)
    frozen["ms"] += 1000
    ratelimit.admit(key)


def test_people_are_not_counted(aws, catalog, fund, frozen):
    fund(WALLET, "100")
    for n in range(3):
        reply = invoke("deduction_post_usage.json", body={"feature": "ai-insight"}, headers={"idempotency-key": f"p-{n}"})
        assert reply.status == 201, reply
    assert counters(aws) == []


@pytest.mark.parametrize("limit", [0, 10_001, "5", 2.5, None, True])
def test_a_bad_limit_is_422_and_creates_no_key(aws, limit):
    reply = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "k", "rate_limit_per_second": limit})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert invoke("admin_list_api_keys.json", caller=ADMIN).body["data"] == []


def test_once_every_shard_is_full_the_refusals_of_that_second_cost_no_write(aws, frozen, monkeypatch):
    """A full shard stays full for its second: the process tries it no more, so a key far over its
    limit costs one failed write per shard and second, not one per shard and request."""
    from tollgate import ratelimit
    from tollgate.principal import Principal
    from tollgate.ratelimit import repository

    key = Principal(type="service", sub="key:k3", roles=frozenset({"service"}), key_id="k3", rate_limit=150)
    for _ in range(150):
        ratelimit.admit(key)
    tries: list[int] = []
    real = repository.take

    def counted(key_id: str, shard: int, second: int, cap: int) -> bool:
        tries.append(shard)
        return real(key_id, shard, second, cap)

    monkeypatch.setattr(repository, "take", counted)
    with pytest.raises(ratelimit.KeyRateLimited):
        ratelimit.admit(key)
    first = len(tries)
    assert 0 < first <= 2 and set(tries) <= {0, 1}  # at most each of its 2 shards, once (some found full already)
    for _ in range(20):
        with pytest.raises(ratelimit.KeyRateLimited):
            ratelimit.admit(key)
    assert len(tries) == first  # never asked again this second
    frozen["ms"] += 1000
    ratelimit.admit(key)  # the next second: room again
    assert len(tries) == first + 1
