"""Sharded wallets (issue 16), through the real handlers against moto: resharding, debits spread
over shards with rebalancing, 402 only when the wallet as a whole cannot pay, replays, holds,
history in order and the ledger invariant, across reshards up and down."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, ALICE, assert_ledger_invariant, invoke
from tollgate import keys

WALLET = ALICE.wallet_id


@pytest.fixture
def shop(aws):
    reply = invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/ten",
                   path_params={"feature_id": "ten"}, body={"name": "ten", "pricing": {"type": "per_call", "credits": "10"}})
    assert reply.status == 200, reply


def fund(amount: str, key: str) -> None:
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, headers={"idempotency-key": key},
                   path=f"/v1/admin/wallets/{WALLET}/adjustments", path_params={"wallet_id": WALLET},
                   body={"amount": amount, "reason": "test"})
    assert reply.status == 201, reply


def reshard(count, wallet_id: str = WALLET):
    return invoke("admin_put_wallet_shards.json", caller=ADMIN, body={"count": count},
                  path=f"/v1/admin/wallets/{wallet_id}/shards", path_params={"wallet_id": wallet_id})


def shards_view() -> dict:
    reply = invoke("admin_get_wallet_shards.json", caller=ADMIN)
    assert reply.status == 200, reply
    return reply.body


def spend(key: str):
    return invoke("deduction_post_usage.json", caller=ALICE, body={"feature": "ten"}, headers={"idempotency-key": key})


def wallet() -> dict:
    reply = invoke("admin_get_wallet.json", caller=ADMIN)
    assert reply.status == 200, reply
    return reply.body


def test_a_sharded_wallet_pays_exactly_its_credits_then_402_and_reconciles(shop):
    fund("100", "f-1")
    reply = reshard(4)
    assert reply.status == 200, reply
    assert (reply.body["count"], reply.body["balance"], [s["available"] for s in reply.body["shards"]]) == (
        4, "100", ["100", "0", "0", "0"])

    for n in range(10):  # each lands on its home shard, refilled from the others when short
        reply = spend(f"s-{n}")
        assert reply.status == 201, reply
        assert reply.body["balance"] == str(100 - 10 * (n + 1)), reply  # the wallet's, all shards summed
    refused = spend("s-10")
    assert (refused.status, refused.body["error"]["code"]) == (402, "insufficient_credits"), refused
    view = shards_view()
    assert (view["balance"], view["available"]) == ("0", "0")
    assert wallet()["balance"] == "0"
    state = assert_ledger_invariant(WALLET)
    assert sorted(state["entries"]) == sorted([100_000] + [-10_000] * 10)


def test_a_replay_on_a_sharded_wallet_charges_once_whatever_the_shard_count_by_then(shop):
    fund("100", "f-1")
    assert reshard(4).status == 200
    first = spend("k-1")
    assert first.status == 201, first
    assert reshard(16).status == 200  # its home shard changes: its entry's slot does not
    again = spend("k-1")
    assert (again.status, again.body["transaction_id"]) == (201, first.body["transaction_id"]), again
    assert wallet()["balance"] == "90"
    assert_ledger_invariant(WALLET)


def test_a_key_used_before_the_first_sharding_is_still_a_replay_after_it(shop):
    fund("100", "f-1")
    before = spend("k-1")
    assert before.status == 201
    assert reshard(8).status == 200
    again = spend("k-1")
    assert (again.status, again.body["transaction_id"]) == (201, before.body["transaction_id"]), again
    assert wallet()["balance"] == "90"
    assert_ledger_invariant(WALLET)


def test_resharding_up_and_down_moves_credits_and_loses_nothing(shop):
    fund("1000", "f-1")
    # (moto copies its tables in every transaction: a few debits per layout keep this test short;
    # the load tier runs thousands on DynamoDB Local)
    for count, keys_ in ((4, range(0, 4)), (16, range(4, 8)), (2, range(8, 12)), (1, range(12, 14))):
        assert reshard(count).status == 200
        for n in keys_:
            assert spend(f"s-{n}").status == 201
        view = shards_view()
        assert view["count"] == count and len(view["shards"]) == count
        assert view["balance"] == str(1000 - 10 * (keys_.stop)), view
        assert_ledger_invariant(WALLET)
    assert [s["shard"] for s in shards_view()["shards"]] == [0]


def test_history_is_one_view_newest_first_and_pages_cover_every_entry_once(shop):
    fund("1000", "f-1")
    spend("before")  # in the wallet's own partition, before it was sharded
    assert reshard(8).status == 200
    for n in range(6):
        assert spend(f"s-{n}").status == 201
    seen, cursor = [], None
    while True:
        reply = invoke("history_get_history.json", caller=ALICE, query={"limit": "3", **(
            {"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply
        seen += reply.body["data"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8 and len({e["transaction_id"] for e in seen}) == 8
    stamps = [(e["created_at"], e["transaction_id"]) for e in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert [e["type"] for e in seen].count("usage") == 7


def test_a_hold_on_a_sharded_wallet_draws_shard_0_up_from_the_others(shop):
    fund("100", "f-1")
    assert reshard(4).status == 200
    for n in range(6):
        assert spend(f"s-{n}").status == 201  # shard 0 is drawn down as the others are refilled from it
    held = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "h-1"},
                  body={"feature": "ten", "max_credits": "40"})
    assert held.status == 201, held
    assert (wallet()["reserved"], wallet()["available"]) == ("40", "0")
    too_much = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "h-2"},
                      body={"feature": "ten", "max_credits": "1"})
    assert too_much.status == 402, too_much
    assert_ledger_invariant(WALLET)


@pytest.mark.parametrize("count", [0, 65, "4", None, 2.5])
def test_a_bad_shard_count_is_422_and_changes_nothing(shop, count):
    fund("100", "f-1")
    reply = reshard(count)
    assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error"), reply
    assert shards_view()["count"] == 1


def test_a_count_written_as_a_whole_json_number_is_an_integer(shop):
    fund("100", "f-1")
    reply = reshard(4.0)  # JSON Schema's integer: 4.0 is one
    assert (reply.status, reply.body["count"]) == (200, 4), reply


def test_an_unknown_wallet_is_404(shop):
    reply = reshard(4, "user:nobody")
    assert (reply.status, reply.body["error"]["code"]) == (404, "not_found"), reply


def test_an_unsharded_wallets_debit_is_unchanged(shop):
    fund("100", "f-1")
    assert spend("s-1").status == 201
    from tollgate.data import get_or_none
    from tollgate.ledger.models import LedgerEntryItem

    entries = list(LedgerEntryItem.query(keys.wallet_pk(WALLET), LedgerEntryItem.sk.startswith(keys.ENTRY_PREFIX)))
    assert sorted(e.type for e in entries) == ["adjustment", "usage"]  # both in the wallet's own partition
    assert get_or_none(LedgerEntryItem, *keys.wallet_sharded(WALLET)) is None


def test_a_sharded_wallets_usage_is_reversed_once_from_its_slot(shop):
    fund("100", "f-1")
    assert reshard(4).status == 200
    spent = spend("s-1")
    assert spent.status == 201, spent
    tx = spent.body["transaction_id"]

    def reverse(key: str):
        return invoke("deduction_post_reversal.json", caller=ADMIN, headers={"idempotency-key": key},
                      path=f"/v1/admin/transactions/{tx}/reversal", path_params={"transaction_id": tx},
                      body={"reason": "the model call failed"})

    first = reverse("r-1")
    assert first.status == 201, first
    assert reverse("r-1").body["transaction_id"] == first.body["transaction_id"]  # a replay
    again = reverse("r-2")
    assert (again.status, again.body["error"]["remaining"]) == (422, "0"), again  # nothing left to give back
    assert wallet()["balance"] == "100"
    from tollgate.ledger import posting

    assert posting.get_entry(WALLET, tx).reversed_mc == 10_000  # counted on the entry in its slot
    assert_ledger_invariant(WALLET)


def test_a_hold_on_a_sharded_wallet_frees_expired_holds_before_refusing(shop):
    from tests.support import advance_clock

    fund("100", "f-1")
    assert reshard(4).status == 200
    first = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "h-1"},
                   body={"feature": "ten", "max_credits": "70", "ttl_seconds": 2})
    assert first.status == 201, first
    advance_clock(2_500)  # expired, not yet swept
    second = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "h-2"},
                    body={"feature": "ten", "max_credits": "90"})
    assert second.status == 201, second
    assert (wallet()["reserved"], wallet()["available"]) == ("90", "10")
    assert_ledger_invariant(WALLET)
