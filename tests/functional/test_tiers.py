"""Subscription tiers (seed 004): the admin's catalog and what everyone signed in sees."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, ALICE, SERVICE, advance_clock, assert_ledger_invariant, invoke

SEED_004 = {"explorer": ("Explorer", "400"), "growth": ("Growth", "2000"), "pro": ("Pro", "7000"),
            "enterprise": ("Enterprise", "20000")}


def put_tier(tier_id: str, body, caller=ADMIN, raw_body: str | None = None):
    return invoke("admin_put_tier.json", caller=caller, body=body, raw_body=raw_body,
                  path=f"/v1/admin/tiers/{tier_id}", path_params={"tier_id": tier_id})


def stored_tiers() -> list[tuple[str, int, bool]]:
    """Every tier item, straight from the table."""
    from tollgate.tiers import repository

    return sorted((i.tier_id, i.monthly_credits_mc, i.active) for i in repository.list_tiers())


def test_the_four_tiers_of_seed_004_are_listed_cheapest_first(aws):
    for tier_id, (name, credits) in reversed(list(SEED_004.items())):
        rollover = {"type": "none"} if tier_id == "explorer" else {"type": "cap", "credits": str(int(credits) // 2)}
        reply = put_tier(tier_id, {"name": name, "monthly_credits": credits, "rollover": rollover})
        assert reply.status == 200, reply
        assert (reply.body["tier_id"], reply.body["monthly_credits"], reply.body["rollover"]) == (
            tier_id, credits, {"type": rollover["type"], "credits": rollover.get("credits")})
    listed = invoke("history_get_tiers.json", caller=ALICE)
    assert listed.status == 200, listed
    assert [(t["tier_id"], t["name"], t["monthly_credits"]) for t in listed.body["data"]] == [
        (tier_id, name, credits) for tier_id, (name, credits) in SEED_004.items()]


def test_an_update_keeps_created_at_and_an_inactive_tier_is_listed_to_admins_only(aws):
    first = put_tier("growth", {"name": "Growth", "monthly_credits": "2000"}).body
    assert first["rollover"] == {"type": "none", "credits": None}  # the default: nothing carries over
    second = put_tier("growth", {"name": "Growth+", "monthly_credits": "2500.5", "active": False}).body
    assert (second["created_at"], second["monthly_credits"], second["active"]) == (first["created_at"], "2500.5",
                                                                                   False)
    assert invoke("history_get_tiers.json", caller=ALICE).body["data"] == []
    assert [t["tier_id"] for t in invoke("admin_list_tiers.json", caller=ADMIN).body["data"]] == ["growth"]


@pytest.mark.parametrize("body", [
    {"monthly_credits": "400"},                                              # no name
    {"name": "", "monthly_credits": "400"},
    {"name": "X", "monthly_credits": "-1"},
    {"name": "X", "monthly_credits": "1.0001"},                              # more than 3 decimals
    {"name": "X", "monthly_credits": 400.5e10},                              # past the maximum
    {"name": "X", "monthly_credits": "400", "rollover": {"type": "cap"}},      # a cap needs its credits
    {"name": "X", "monthly_credits": "400", "rollover": {"type": "cap", "credits": "0"}},
    {"name": "X", "monthly_credits": "400", "rollover": {"type": "all"}},
    {"name": "X", "monthly_credits": "400", "rollover": {"type": "none", "credits": "5"}},
    {"name": "X", "monthly_credits": "400", "extra": 1},
])
def test_a_bad_tier_is_422_and_changes_nothing(aws, body):
    before = stored_tiers()
    reply = put_tier("explorer", body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert stored_tiers() == before


@pytest.mark.parametrize("tier_id", ["Explorer", "-x", "a" * 65, "x y"])
def test_a_bad_tier_id_is_422(aws, tier_id):
    reply = put_tier(tier_id, {"name": "X", "monthly_credits": "1"})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert stored_tiers() == []


@pytest.mark.parametrize("caller", [ALICE, SERVICE])
def test_only_admins_change_tiers_before_any_body_is_read(aws, caller):
    reply = put_tier("explorer", None, caller=caller, raw_body="{not json")
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert invoke("admin_list_tiers.json", caller=caller).status == 403
    assert stored_tiers() == []


# -- subscribing a wallet: this month's allocation at once, exactly once per (wallet, month) ------

def subscribe(wallet_id: str, tier_id, caller=ADMIN):
    return invoke("admin_put_wallet_tier.json", caller=caller, body={"tier_id": tier_id},
                  path=f"/v1/admin/wallets/{wallet_id}/tier", path_params={"wallet_id": wallet_id})


def allocations(wallet_id: str) -> list[tuple[str, str]]:
    entries = invoke("history_get_history.json", caller=ADMIN, query={"wallet_id": wallet_id, "type": "allocation"})
    assert entries.status == 200, entries
    return sorted((e["amount"], e["metadata"]["period"]) for e in entries.body["data"])


@pytest.fixture
def offered(aws):
    for tier_id, (name, credits) in SEED_004.items():
        assert put_tier(tier_id, {"name": name, "monthly_credits": credits}).status == 200
    assert put_tier("retired", {"name": "Retired", "monthly_credits": "50", "active": False}).status == 200


def month_of(reply) -> str:
    return reply.body["period"]


def test_a_new_subscriber_is_allocated_this_month_at_once_and_only_once(offered):
    first = subscribe("user:dana", "explorer")
    assert first.status == 200, first
    period = month_of(first)
    assert (first.body["tier_id"], first.body["allocated"]) == ("explorer", "400")
    assert first.body["next_allocation_at"] > f"{period}-28"  # the 1st of next month, 00:00 UTC
    assert first.body["next_allocation_at"].endswith("-01T00:00:00.000Z")
    again = subscribe("user:dana", "explorer")
    assert (again.status, again.body["allocated"]) == (200, "0")
    assert allocations("user:dana") == [("400", period)]
    assert assert_ledger_invariant("user:dana")["balance"] == 400_000


def test_a_tier_changed_mid_month_takes_effect_at_the_next_allocation(offered):
    period = month_of(subscribe("user:erin", "explorer"))
    upgraded = subscribe("user:erin", "pro")
    assert (upgraded.body["tier_id"], upgraded.body["allocated"]) == ("pro", "0")
    ended = subscribe("user:erin", None)
    assert (ended.status, ended.body["tier_id"], ended.body["next_allocation_at"]) == (200, None, None)
    back = subscribe("user:erin", "enterprise")  # re-subscribing in the same month allocates nothing more
    assert back.body["allocated"] == "0"
    assert allocations("user:erin") == [("400", period)]
    assert_ledger_invariant("user:erin")


def test_the_next_month_allocates_again(offered):
    period = month_of(subscribe("org:acme", "growth"))
    advance_clock(32 * 86_400_000)  # into the next month whatever today is
    later = subscribe("org:acme", "growth")
    assert later.body["period"] != period and later.body["allocated"] == "2000"
    assert [p for _, p in allocations("org:acme")] == sorted([period, later.body["period"]])
    assert assert_ledger_invariant("org:acme")["balance"] == 4_000_000


@pytest.mark.parametrize(("tier_id", "status", "code"), [
    ("no-such-tier", 404, "not_found"), ("retired", 422, "validation_error"),
])
def test_an_unknown_or_retired_tier_subscribes_nothing(offered, tier_id, status, code):
    reply = subscribe("user:finn", tier_id)
    assert (reply.status, reply.error_code) == (status, code), reply
    assert allocations("user:finn") == []
    from tollgate.tiers import repository

    assert repository.get_subscription("user:finn") is None


@pytest.mark.parametrize("body", [{}, {"tier_id": "Explorer"}, {"tier_id": 5}, {"tier_id": "explorer", "x": 1}])
def test_a_bad_subscription_body_is_422(offered, body):
    reply = invoke("admin_put_wallet_tier.json", caller=ADMIN, body=body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert allocations("user:alice") == []


def test_only_admins_subscribe_wallets(offered):
    reply = subscribe("user:alice", "explorer", caller=ALICE)
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert allocations("user:alice") == []
