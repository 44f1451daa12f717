"""Organization wallets (issue 11): orgs and members, members spending from org:<id> within a monthly cap.

The cap is one more conditional item in the debit's (or hold's) single transaction; these tests
drive it through the handlers against moto, one request at a time (the concurrent case runs on
DynamoDB Local: tests/integration/test_org_caps.py). Every money test checks the ledger invariant.
"""

from __future__ import annotations

import pytest

from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    SERVICE,
    Caller,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
)

ORG = "acme"
WALLET = f"org:{ORG}"
CAROL = Caller("carol")  # the org's owner: a plain user
MC = 1000


def put_org(org_id=ORG, body=None, caller=ADMIN, raw_body=None):
    return invoke("admin_put_org.json", caller=caller, body={"name": "Acme"} if body is None else body,
                  raw_body=raw_body, path=f"/v1/admin/orgs/{org_id}", path_params={"org_id": org_id})


def get_org(org_id=ORG, caller=ADMIN):
    return invoke("admin_get_org.json", caller=caller, path=f"/v1/admin/orgs/{org_id}",
                  path_params={"org_id": org_id})


def put_member(sub, body, org_id=ORG, caller=ADMIN, raw_body=None):
    return invoke("admin_put_org_member.json", caller=caller, body=body, raw_body=raw_body,
                  path=f"/v1/admin/orgs/{org_id}/members/{sub}", path_params={"org_id": org_id, "sub": sub})


def delete_member(sub, org_id=ORG, caller=ADMIN):
    return invoke("admin_delete_org_member.json", caller=caller, path=f"/v1/admin/orgs/{org_id}/members/{sub}",
                  path_params={"org_id": org_id, "sub": sub})


def spend(caller, key, feature="dashboard-refresh", wallet_id=WALLET):
    body = {"feature": feature} if wallet_id is None else {"feature": feature, "wallet_id": wallet_id}
    return invoke("deduction_post_usage.json", caller=caller, body=body, headers={"idempotency-key": key})


def reserve(caller, key, credits, wallet_id=WALLET):
    return invoke("deduction_post_reservation.json", caller=caller, headers={"idempotency-key": key},
                  body={"feature": "ai-insight", "max_credits": credits, "wallet_id": wallet_id})


def settle(caller, rid, body):
    return invoke("deduction_settle_reservation.json", caller=caller, body=body,
                  path=f"/v1/reservations/{rid}/settle", path_params={"reservation_id": rid})


def release(caller, rid):
    return invoke("deduction_release_reservation.json", caller=caller, path=f"/v1/reservations/{rid}/release",
                  path_params={"reservation_id": rid})


def spent(sub, org_id=ORG, period: str | None = None) -> int:
    """A member's counted spend in ``period`` (default: this month), in mc, straight from the table."""
    from tollgate import clock
    from tollgate.orgs import repository

    item = repository.get_spend(org_id, sub, period or clock.period_of(clock.now_ms()))
    return item.spent_mc if item else 0


def org_items(org_id=ORG):
    """The org's partition (the org and its members) and every spend item, straight from the table."""
    from tollgate.orgs.models import MemberItem, MemberSpendItem, OrgItem

    org = [(i.sk, i.name) for i in OrgItem.scan()]
    members = sorted((i.pk, i.sk, i.role, i.monthly_cap_mc) for i in MemberItem.scan())
    spends = sorted((i.pk, i.sk, i.spent_mc) for i in MemberSpendItem.scan())
    return org, members, spends


@pytest.fixture
def org(catalog, fund):
    """Acme: carol owns it, alice is a member capped at 10 credits a month, bob is uncapped; 100 credits."""
    assert put_org().status == 200
    assert put_member("carol", {"role": "owner"}).status == 200
    assert put_member("alice", {"role": "member", "monthly_cap": "10"}).status == 200
    assert put_member("bob", {"role": "member"}).status == 200
    fund(WALLET, "100")
    return WALLET


# -- organizations and members ----------------------------------------------------------------

def test_an_org_is_created_idempotently_and_renamed_keeping_created_at(aws):
    first = put_org()
    assert first.status == 200, first
    assert first.body | {"created_at": None, "updated_at": None} == {
        "org_id": ORG, "wallet_id": WALLET, "name": "Acme", "created_at": None, "updated_at": None}
    assert put_org().body["created_at"] == first.body["created_at"]
    advance_clock(5)
    renamed = put_org(body={"name": "Acme Corp"})
    assert (renamed.body["name"], renamed.body["created_at"]) == ("Acme Corp", first.body["created_at"])
    assert renamed.body["updated_at"] > first.body["updated_at"]
    view = get_org()
    assert (view.status, view.body["name"], view.body["members"]) == (200, "Acme Corp", [])


def test_members_are_added_changed_listed_and_removed(aws):
    assert put_org().status == 200
    added = put_member("alice", {"role": "member", "monthly_cap": "12.5"})
    assert added.status == 200, added
    assert added.body | {"created_at": None, "updated_at": None} == {
        "org_id": ORG, "sub": "alice", "role": "member", "monthly_cap": "12.5", "created_at": None,
        "updated_at": None}
    # Changing the role and dropping the cap (absent: no cap) keeps created_at.
    changed = put_member("alice", {"role": "owner"})
    assert (changed.body["role"], changed.body["monthly_cap"], changed.body["created_at"]) == (
        "owner", None, added.body["created_at"])
    assert put_member("bob", {"role": "member", "monthly_cap": 0}).body["monthly_cap"] == "0"
    assert [(m["sub"], m["role"], m["monthly_cap"]) for m in get_org().body["members"]] == [
        ("alice", "owner", None), ("bob", "member", "0")]
    removed = delete_member("bob")
    assert (removed.status, removed.body) == (204, None)
    assert [m["sub"] for m in get_org().body["members"]] == ["alice"]
    again = delete_member("bob")
    assert (again.status, again.error_code) == (404, "not_found"), again


def test_a_member_is_listed_under_memberof_in_gsi1():
    from tollgate import keys

    assert keys.member_of_gsi1pk("alice") == "MEMBEROF#alice"
    assert keys.org_member("acme", "alice") == ("ORG#acme", "MEMBER#alice")
    assert keys.member_spend("acme", "alice", "2026-11") == ("MEMBERSPEND#acme#alice", "PERIOD#2026-11")


def test_owners_manage_their_own_orgs_members_and_no_one_elses(org):
    # carol, an owner with the plain user role, manages acme's members...
    assert put_member("dave", {"role": "member", "monthly_cap": "5"}, caller=CAROL).status == 200
    assert get_org(caller=CAROL).status == 200
    assert delete_member("dave", caller=CAROL).status == 204
    # ...but creates no org, and to her another org does not exist.
    refused = put_org("globex", caller=CAROL)
    assert (refused.status, refused.error_code) == (403, "forbidden"), refused
    assert put_org("globex").status == 200
    reply = put_member("dave", {"role": "member"}, org_id="globex", caller=CAROL)
    assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert get_org("globex", caller=CAROL).status == 404
    # A plain member may not manage the org they belong to (403); a stranger learns nothing (404).
    for caller, status in ((ALICE, 403), (Caller("mallory"), 404)):
        before = org_items()
        assert put_member("alice", {"role": "owner"}, caller=caller).status == status
        assert delete_member("bob", caller=caller).status == status
        assert get_org(caller=caller).status == status
        assert org_items() == before


@pytest.mark.parametrize(("sub", "body"), [
    ("alice", {"role": "member", "monthly_cap": "-1"}),          # a negative cap
    ("alice", {"role": "member", "monthly_cap": -5}),
    ("alice", {"role": "member", "monthly_cap": "1.0001"}),      # more than 3 decimals
    ("alice", {"role": "member", "monthly_cap": "NaN"}),
    ("alice", {"role": "admin"}),                                # a bad role
    ("alice", {"role": "Owner"}),
    ("alice", {}),                                               # no role
    ("alice", {"role": "member", "extra": 1}),
    ("al ice", {"role": "member"}),                              # a bad member id
    ("a" * 129, {"role": "member"}),
])
def test_a_bad_member_is_422_and_changes_nothing(org, sub, body):
    before = org_items()
    reply = put_member(sub, body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert org_items() == before


@pytest.mark.parametrize("org_id", ["-acme", "ac me", "a" * 65, "acme.corp", "ac:me"])
def test_a_bad_org_id_is_422_and_changes_nothing(org, org_id):
    before = org_items()
    for reply in (put_org(org_id), put_member("alice", {"role": "member"}, org_id=org_id), get_org(org_id),
                  delete_member("alice", org_id=org_id)):
        assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert org_items() == before


def test_an_unknown_org_is_404_and_changes_nothing(org):
    before = org_items()
    for reply in (put_member("alice", {"role": "member"}, org_id="globex"), get_org("globex"),
                  delete_member("alice", org_id="globex")):
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert org_items() == before


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 5}, {"name": "x", "y": 1}])
def test_a_bad_org_body_is_422(aws, body):
    reply = put_org(body=body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert org_items() == ([], [], [])


def test_a_user_cannot_create_an_org_before_any_body_is_read(aws):
    reply = put_org(caller=ALICE, raw_body="{not json")
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply


# -- spending from and reading an org wallet --------------------------------------------------

def test_members_spend_from_and_read_the_org_wallet(org):
    reply = spend(BOB, "b-1", feature="ai-insight")
    assert reply.status == 201, reply
    assert (reply.body["wallet_id"], reply.body["cost"], reply.body["balance"]) == (WALLET, "9", "91")
    wallet = invoke("history_get_wallet.json", caller=ALICE, query={"wallet_id": WALLET})
    assert (wallet.status, wallet.body["wallet_id"], wallet.body["balance"]) == (200, WALLET, "91")
    history = invoke("history_get_history.json", caller=ALICE, query={"wallet_id": WALLET})
    assert history.status == 200, history
    assert [(e["type"], e["amount"]) for e in history.body["data"]] == [("usage", "-9"), ("adjustment", "100")]
    # The member who spent is the entry's actor; their own wallet is untouched.
    from tollgate.ledger import repository
    entry = repository.get_entry(WALLET, reply.body["transaction_id"])
    assert entry.actor == "user:bob"
    assert ledger_state("user:bob")["balance"] == 0
    # Admins read any org wallet; a server key spends from it (no cap: it is no member).
    assert invoke("history_get_wallet.json", caller=ADMIN, query={"wallet_id": WALLET}).status == 200
    assert spend(SERVICE, "svc-1").status == 201
    assert_ledger_invariant(WALLET)


def test_a_non_member_gets_404_for_the_org_wallet_and_nothing_changes(org):
    stranger = Caller("mallory")
    before = ledger_state(WALLET)
    for reply in (spend(stranger, "m-1"), reserve(stranger, "m-2", "5"),
                  invoke("history_get_wallet.json", caller=stranger, query={"wallet_id": WALLET}),
                  invoke("history_get_history.json", caller=stranger, query={"wallet_id": WALLET}),
                  spend(stranger, "m-3", wallet_id="org:globex"), spend(stranger, "m-4", wallet_id="org:bad.id")):
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
        assert reply.body["error"]["message"] == "wallet not found"
    # Even an admin spends from an org wallet only as a member.
    assert spend(ADMIN, "root-1").status == 404
    assert ledger_state(WALLET) == before
    assert_ledger_invariant(WALLET)


def test_a_removed_member_is_refused_from_the_next_request_on(org):
    assert spend(BOB, "b-1").status == 201
    held = reserve(BOB, "b-hold", "5")
    assert held.status == 201, held
    assert delete_member("bob", caller=CAROL).status == 204
    before = ledger_state(WALLET)
    rid = held.body["reservation_id"]
    for reply in (spend(BOB, "b-2"), invoke("history_get_wallet.json", caller=BOB, query={"wallet_id": WALLET}),
                  invoke("history_get_history.json", caller=BOB, query={"wallet_id": WALLET}),
                  settle(BOB, rid, {}), release(BOB, rid)):
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert ledger_state(WALLET) == before
    # The hold is still the org's: a server key (or its expiry) closes it.
    assert release(SERVICE, rid).status == 200
    assert_ledger_invariant(WALLET)


def test_a_member_cannot_act_on_another_members_reservation(org):
    held = reserve(BOB, "b-hold", "5")
    rid = held.body["reservation_id"]
    for reply in (settle(ALICE, rid, {}), release(ALICE, rid),
                  invoke("deduction_get_reservation.json", caller=ALICE, path=f"/v1/reservations/{rid}",
                         path_params={"reservation_id": rid})):
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert invoke("deduction_get_reservation.json", caller=BOB, path=f"/v1/reservations/{rid}",
                  path_params={"reservation_id": rid}).status == 200
    assert_ledger_invariant(WALLET)


def test_a_person_still_spends_from_their_own_wallet_as_before(org, fund):
    fund("user:alice", "20")
    reply = spend(ALICE, "own-1", wallet_id=None)
    assert (reply.status, reply.body["wallet_id"]) == (201, "user:alice")
    assert spent("alice") == 0  # the cap counts org spend only
    assert_ledger_invariant("user:alice")


# -- the monthly cap -------------------------------------------------------------------------

def test_a_capped_member_spends_up_to_the_cap_then_402(org):
    # dashboard-refresh costs 3: 3 + 3 + 3 = 9 <= 10, a fourth would be 12.
    for i in range(3):
        assert spend(ALICE, f"a-{i}").status == 201
    assert spent("alice") == 9 * MC
    before = ledger_state(WALLET)
    refused = spend(ALICE, "a-3")
    assert (refused.status, refused.error_code) == (402, "member_cap_exceeded"), refused
    error = refused.body["error"]
    assert (error["cap"], error["spent"], error["required"], error["remaining"]) == ("10", "9", "3", "1")
    assert ledger_state(WALLET) == before
    assert spent("alice") == 9 * MC
    # The org wallet is not short: an uncapped member still spends, and a cheaper call still fits.
    assert spend(BOB, "b-1").status == 201
    assert put_member("alice", {"role": "member", "monthly_cap": "12"}).status == 200  # raised: at once
    assert spend(ALICE, "a-4").status == 201
    assert spent("alice") == 12 * MC
    assert_ledger_invariant(WALLET)


def test_a_replayed_debit_does_not_count_twice(org):
    first = spend(ALICE, "same-key")
    assert first.status == 201
    again = spend(ALICE, "same-key")
    assert (again.status, again.body["transaction_id"]) == (201, first.body["transaction_id"])
    assert spent("alice") == 3 * MC
    # At the cap, a replay of an accepted request still answers its first result and counts nothing.
    assert put_member("alice", {"role": "member", "monthly_cap": "3"}).status == 200
    replay = spend(ALICE, "same-key")
    assert (replay.status, replay.body["transaction_id"]) == (201, first.body["transaction_id"])
    assert spent("alice") == 3 * MC
    state = assert_ledger_invariant(WALLET)
    assert state["entries"].count(-3 * MC) == 1


def test_two_members_using_the_same_idempotency_key_are_two_debits(org):
    alices, bobs = spend(ALICE, "shared-key"), spend(BOB, "shared-key")
    assert alices.status == bobs.status == 201
    assert alices.body["transaction_id"] != bobs.body["transaction_id"]
    assert alices.body["balance"] == "97" and bobs.body["balance"] == "94"
    held_a, held_b = reserve(ALICE, "shared-hold", "2"), reserve(BOB, "shared-hold", "2")
    assert held_a.body["reservation_id"] != held_b.body["reservation_id"]
    assert spent("alice") == 5 * MC
    assert_ledger_invariant(WALLET)


def test_a_call_costing_more_than_the_cap_is_refused(org):
    assert put_member("alice", {"role": "member", "monthly_cap": "5"}).status == 200
    reply = spend(ALICE, "big", feature="ai-insight")  # 9 > 5
    assert (reply.status, reply.error_code) == (402, "member_cap_exceeded"), reply
    assert spent("alice") == 0
    assert put_member("alice", {"role": "member", "monthly_cap": "0"}).status == 200
    assert spend(ALICE, "zero-cap").error_code == "member_cap_exceeded"
    assert_ledger_invariant(WALLET)


def test_an_empty_org_wallet_is_insufficient_credits_and_counts_nothing(org):
    assert put_member("alice", {"role": "member", "monthly_cap": "1000"}).status == 200
    assert spend(ALICE, "r", feature="ai-report").status == 201           # 40
    assert spend(ALICE, "r2", feature="ai-report").status == 201          # 80
    reply = spend(ALICE, "r3", feature="ai-report")                        # 120 > 100 in the wallet
    assert (reply.status, reply.error_code) == (402, "insufficient_credits"), reply
    assert spent("alice") == 80 * MC
    assert_ledger_invariant(WALLET)


def test_the_cap_is_per_calendar_month(org):
    from tollgate import clock

    for i in range(3):
        assert spend(ALICE, f"m1-{i}").status == 201
    assert spend(ALICE, "m1-3").error_code == "member_cap_exceeded"
    this_month = clock.period_of(clock.now_ms())
    advance_clock(32 * 24 * 3600 * 1000)
    assert clock.period_of(clock.now_ms()) != this_month
    assert spend(ALICE, "m2-0").status == 201
    assert spent("alice") == 3 * MC
    assert_ledger_invariant(WALLET)


def test_the_spend_item_is_in_its_own_partition_with_a_ttl(org):
    from tollgate import clock, keys
    from tollgate.orgs import repository

    assert spend(ALICE, "a-1").status == 201
    item = repository.get_spend(ORG, "alice", clock.period_of(clock.now_ms()))
    assert (item.pk, item.sk) == keys.member_spend(ORG, "alice", clock.period_of(clock.now_ms()))
    assert not item.pk.startswith("WALLET#")
    assert item.ttl_epoch > clock.now_ms() // 1000 + 60 * 24 * 3600


# -- reservations count against the cap ------------------------------------------------------

def test_a_hold_counts_in_full_and_settling_gives_back_the_rest(org):
    held = reserve(ALICE, "h-1", "8")
    assert held.status == 201, held
    assert spent("alice") == 8 * MC
    refused = reserve(ALICE, "h-2", "3")  # 8 + 3 > 10
    assert (refused.status, refused.error_code) == (402, "member_cap_exceeded"), refused
    assert spend(ALICE, "u-1").error_code == "member_cap_exceeded"  # 8 + 3 > 10
    settled = settle(ALICE, held.body["reservation_id"], {"quantity": 1})  # ai-insight: 9, capped at the hold
    assert settled.status == 200, settled
    assert (settled.body["cost"], settled.body["released"]) == ("8", "0")
    assert spent("alice") == 8 * MC
    state = assert_ledger_invariant(WALLET)
    assert state["reserved"] == 0


def test_settling_below_the_hold_and_releasing_give_the_unused_part_back(org):
    held = reserve(ALICE, "h-1", "10")
    rid = held.body["reservation_id"]
    # A server key settles an explicit amount below the hold: 10 held, 4 charged, 6 given back.
    settled = settle(SERVICE, rid, {"amount": "4"})
    assert (settled.status, settled.body["released"]) == (200, "6"), settled
    assert spent("alice") == 4 * MC
    again = settle(SERVICE, rid, {"amount": "4"})  # a replayed settle gives back nothing more
    assert again.status == 200
    assert spent("alice") == 4 * MC
    second = reserve(ALICE, "h-2", "6")
    assert second.status == 201
    assert spent("alice") == 10 * MC
    assert release(ALICE, second.body["reservation_id"]).status == 200
    assert spent("alice") == 4 * MC
    assert release(ALICE, second.body["reservation_id"]).status == 409  # closed: nothing given back twice
    assert spent("alice") == 4 * MC
    assert_ledger_invariant(WALLET)


def test_a_replayed_hold_counts_once(org):
    first = reserve(ALICE, "h-same", "4")
    again = reserve(ALICE, "h-same", "4")
    assert (again.status, again.body["reservation_id"]) == (201, first.body["reservation_id"])
    assert spent("alice") == 4 * MC
    assert_ledger_invariant(WALLET)


def test_an_expired_hold_stays_counted(org):
    from tollgate import clock
    from tollgate.reservations import sweep_expired

    month = clock.period_of(clock.now_ms())  # the hour below may cross into the next month
    held = reserve(ALICE, "h-1", "6")
    assert held.status == 201
    advance_clock(3600 * 1000)
    sweep_expired()
    assert spent("alice", period=month) == 6 * MC  # under-spends the cap, never over-spends it
    assert ledger_state(WALLET)["reserved"] == 0
    assert_ledger_invariant(WALLET)


def test_an_uncapped_member_writes_no_spend_item(org):
    assert spend(BOB, "b-1").status == 201
    held = reserve(BOB, "b-2", "5")
    assert release(BOB, held.body["reservation_id"]).status == 200
    assert org_items()[2] == []
    assert_ledger_invariant(WALLET)


# -- tiers on org wallets --------------------------------------------------------------------

def test_a_tier_can_be_assigned_to_an_org_wallet(org):
    tier = invoke("admin_put_tier.json", caller=ADMIN, body={"name": "Growth", "monthly_credits": "2000"},
                  path="/v1/admin/tiers/growth", path_params={"tier_id": "growth"})
    assert tier.status == 200
    reply = invoke("admin_put_wallet_tier.json", caller=ADMIN, body={"tier_id": "growth"},
                   path=f"/v1/admin/wallets/{WALLET}/tier", path_params={"wallet_id": WALLET})
    assert (reply.status, reply.body["wallet_id"], reply.body["allocated"]) == (200, WALLET, "2000"), reply
    assert assert_ledger_invariant(WALLET)["balance"] == 2100 * MC


def test_a_bad_wallet_id_names_both_kinds(aws):
    from tollgate.errors import ValidationFailed
    from tollgate.principal import validate_wallet_id

    with pytest.raises(ValidationFailed, match="'user:<id>' or 'org:<id>'"):
        validate_wallet_id("nope")
