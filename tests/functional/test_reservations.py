"""Reserve -> settle / release, expiry that frees itself, and the sweeper."""

from __future__ import annotations

import pytest

from tests.support import (
    ALICE,
    BOB,
    SERVICE,
    LambdaContext,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    load_function,
    sample_event,
)


def reserve(body, *, caller=ALICE, key="r-1"):
    headers = {"idempotency-key": key} if key else {}
    return invoke("deduction_post_reservation.json", caller=caller, body=body, headers=headers,
                  drop_headers=() if key else ("idempotency-key",))


def settle(rid, body=None, *, caller=ALICE):
    return invoke("deduction_settle_reservation.json", caller=caller, body=body if body is not None else {},
                  path=f"/v1/reservations/{rid}/settle", path_params={"reservation_id": rid})


def release(rid, *, caller=ALICE):
    return invoke("deduction_release_reservation.json", caller=caller, path=f"/v1/reservations/{rid}/release",
                  path_params={"reservation_id": rid})


def wallet(caller=ALICE):
    reply = invoke("history_get_wallet.json", caller=caller)
    assert reply.status == 200
    return reply.body


def spend(feature="ai-insight", key="u-1", caller=ALICE):
    return invoke("deduction_post_usage.json", caller=caller, body={"feature": feature},
                  headers={"idempotency-key": key})


def test_hold_moves_credits_from_available_to_reserved(catalog, fund):
    fund("user:alice", "100")
    reply = reserve({"feature": "ai-report", "max_credits": "50"})
    assert reply.status == 201, reply.body
    assert reply.body["held"] == "50"
    assert reply.body["available"] == "50"
    assert reply.body["status"] == "open"
    assert reply.body["reservation_id"].startswith("rsv_")
    assert reply.body["expires_at"].endswith("Z")
    assert wallet() | {"updated_at": None} == {"wallet_id": "user:alice", "balance": "100", "reserved": "50",
                                               "available": "50", "open_holds": 1, "updated_at": None,
                                               "tier": None, "next_allocation_at": None, "grants": [],
                                               "expiring_soon": "0", "low_balance": None,
                                               "below_low_balance": False}
    assert_ledger_invariant("user:alice")


def test_held_credits_are_not_spendable(catalog, fund):
    fund("user:alice", "45")
    assert reserve({"feature": "ai-report", "max_credits": "40"}).status == 201
    reply = spend("ai-insight")
    assert reply.status == 402
    assert reply.body["error"]["available"] == "5"
    assert_ledger_invariant("user:alice")


def test_settle_charges_actual_and_releases_the_rest(catalog, fund):
    fund("user:alice", "1000")
    held = reserve({"feature": "ai-plugin-generate", "usage": {"input_tokens": 1000, "output_tokens": 1000}})
    assert held.body["held"] == "300"
    rid = held.body["reservation_id"]
    done = settle(rid, {"usage": {"input_tokens": 500, "output_tokens": 250}})
    assert done.status == 200, done.body
    assert done.body["cost"] == "100"
    assert done.body["released"] == "200"
    assert done.body["capped"] is False
    assert done.body["balance"] == "900"
    w = wallet()
    assert (w["balance"], w["reserved"], w["available"]) == ("900", "0", "900")
    state = assert_ledger_invariant("user:alice")
    assert sorted(state["entries"]) == [-100_000, 1_000_000]  # in key order, and keys are hashes


def test_settle_caps_at_the_hold_and_reports_it(catalog, fund):
    fund("user:alice", "1000")
    rid = reserve({"feature": "ai-plugin-generate", "max_credits": "10"}).body["reservation_id"]
    done = settle(rid, {"usage": {"input_tokens": 1000, "output_tokens": 0}})
    assert done.status == 200
    assert done.body["cost"] == "10"
    assert done.body["requested_cost"] == "100"
    assert done.body["capped"] is True
    assert done.body["released"] == "0"
    assert_ledger_invariant("user:alice")


def test_settle_is_idempotent_and_a_second_different_settle_is_closed(catalog, fund):
    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report"}).body["reservation_id"]
    first = settle(rid, {})
    assert first.status == 200
    again = settle(rid, {})
    assert again.status == 200
    assert again.body == first.body
    other = settle(rid, {"quantity": 2})
    assert other.status == 409
    assert other.error_code == "reservation_closed"
    assert ledger_state("user:alice")["balance"] == 60_000
    assert_ledger_invariant("user:alice")


def test_release_frees_everything_then_closed(catalog, fund):
    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report"}).body["reservation_id"]
    reply = release(rid)
    assert reply.status == 200
    assert reply.body == {"reservation_id": rid, "released": "40"}
    assert wallet()["available"] == "100"
    assert release(rid).error_code == "reservation_closed"
    assert settle(rid, {}).error_code == "reservation_closed"
    state = assert_ledger_invariant("user:alice")
    assert state["entries"] == [100_000]


def test_expired_hold_frees_itself_at_once(catalog, fund):
    fund("user:alice", "50")
    rid = reserve({"feature": "ai-report", "max_credits": "40", "ttl_seconds": 1}).body["reservation_id"]
    assert wallet()["available"] == "10"
    advance_clock(1_001)
    # Reads net the expired hold out before any sweeper runs.
    w = wallet()
    assert (w["reserved"], w["available"], w["open_holds"]) == ("0", "50", 0)
    # A debit that needs the expired credits releases the hold first.
    reply = spend("ai-report", key="after-expiry")
    assert reply.status == 201, reply.body
    assert reply.body["balance"] == "10"
    assert settle(rid, {}).error_code == "reservation_closed"
    assert release(rid).error_code == "reservation_closed"
    assert_ledger_invariant("user:alice")


def test_expired_hold_makes_room_for_a_new_hold(catalog, fund):
    fund("user:alice", "40")
    reserve({"feature": "ai-report", "ttl_seconds": 5}, key="a")
    assert reserve({"feature": "ai-report"}, key="b").status == 402
    advance_clock(5_000)
    assert reserve({"feature": "ai-report"}, key="c").status == 201
    assert_ledger_invariant("user:alice")


def test_sweeper_marks_expired_and_tidies_the_wallet(catalog, fund):
    from tollgate.reservations import get

    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report", "ttl_seconds": 2}).body["reservation_id"]
    kept = reserve({"feature": "ai-report", "ttl_seconds": 3600}, key="kept").body["reservation_id"]
    advance_clock(2_500)
    result = load_function("holds").lambda_handler(sample_event("holds_schedule.json"), _ctx())
    assert result == {"expired": 1, "already_closed": 0}
    state = ledger_state("user:alice")
    assert list(state["holds"]) == [kept]
    assert state["reserved"] == 40_000
    from tollgate.principal import Principal

    principal = Principal(type="user", sub=ALICE.sub)
    assert get(principal, rid).status == "expired"
    assert get(principal, kept).status == "open"
    assert_ledger_invariant("user:alice")
    # Running it again finds nothing more to do.
    again = load_function("holds").lambda_handler({}, _ctx())
    assert again == {"expired": 0, "already_closed": 0}


def test_sweeper_closes_records_a_debit_already_freed(catalog, fund):
    fund("user:alice", "40")
    reserve({"feature": "ai-report", "ttl_seconds": 1})
    advance_clock(1_500)
    assert spend("ai-report", key="x").status == 201  # frees the expired hold lazily
    assert load_function("holds").lambda_handler({}, _ctx()) == {"expired": 1, "already_closed": 0}
    assert_ledger_invariant("user:alice")


def _ctx():
    return LambdaContext()


def test_reservation_replay_returns_the_same_hold(catalog, fund):
    fund("user:alice", "100")
    first = reserve({"feature": "ai-report"}, key="same")
    again = reserve({"feature": "ai-report"}, key="same")
    assert again.status == 201
    assert again.body["reservation_id"] == first.body["reservation_id"]
    assert ledger_state("user:alice")["reserved"] == 40_000
    conflict = reserve({"feature": "ai-report", "max_credits": "41"}, key="same")
    assert conflict.status == 409
    assert conflict.error_code == "idempotency_conflict"
    assert ledger_state("user:alice")["reserved"] == 40_000


def test_hold_that_does_not_fit_is_402(catalog, fund):
    fund("user:alice", "10")
    reply = reserve({"feature": "ai-report"})
    assert reply.status == 402
    assert reply.body["error"]["required"] == "40"
    assert ledger_state("user:alice")["reserved"] == 0


def test_another_persons_reservation_is_not_found(catalog, fund):
    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report"}).body["reservation_id"]
    assert settle(rid, {}, caller=BOB).status == 404
    assert release(rid, caller=BOB).status == 404
    assert ledger_state("user:alice")["reserved"] == 40_000


def test_unknown_reservation_is_404(catalog):
    assert settle("rsv_doesnotexistdoesnotexist12", {}).status == 404
    assert release("nonsense").status == 404


def test_service_settles_with_an_explicit_amount(catalog, fund):
    fund("user:bob", "100")
    held = reserve({"feature": "ai-report", "wallet_id": "user:bob"}, caller=SERVICE)
    assert held.status == 201
    done = settle(held.body["reservation_id"], {"amount": "12.345"}, caller=SERVICE)
    assert done.status == 200
    assert done.body["cost"] == "12.345"
    assert done.body["balance"] == "87.655"
    assert_ledger_invariant("user:bob")


def test_person_may_not_settle_with_an_amount(catalog, fund):
    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report"}).body["reservation_id"]
    assert settle(rid, {"amount": "1"}).status == 403
    assert ledger_state("user:alice")["reserved"] == 40_000


@pytest.mark.parametrize("ttl", [0, 3601, -5, "60", 1.5])
def test_ttl_outside_1_to_3600_seconds_is_422(catalog, fund, ttl):
    fund("user:alice", "100")
    reply = reserve({"feature": "ai-report", "ttl_seconds": ttl})
    assert reply.status == 422
    assert ledger_state("user:alice")["reserved"] == 0


@pytest.mark.parametrize("ttl", [1, 3600])
def test_ttl_bounds_are_accepted(catalog, fund, ttl):
    fund("user:alice", "100")
    assert reserve({"feature": "ai-report", "ttl_seconds": ttl}).status == 201


def test_too_many_open_holds_is_refused(catalog, fund, monkeypatch):
    from tollgate import config

    monkeypatch.setenv("MAX_OPEN_HOLDS", "2")
    config.settings.cache_clear()
    try:
        fund("user:alice", "1000")
        assert reserve({"feature": "ai-insight"}, key="1").status == 201
        assert reserve({"feature": "ai-insight"}, key="2").status == 201
        third = reserve({"feature": "ai-insight"}, key="3")
        assert third.status == 409
        assert third.error_code == "too_many_holds"
        assert_ledger_invariant("user:alice")
    finally:
        monkeypatch.delenv("MAX_OPEN_HOLDS")
        config.settings.cache_clear()


def test_get_reservation(catalog, fund):
    fund("user:alice", "100")
    rid = reserve({"feature": "ai-report"}).body["reservation_id"]
    reply = invoke("deduction_get_reservation.json", path=f"/v1/reservations/{rid}", path_params={"reservation_id": rid})
    assert reply.status == 200
    assert reply.body["status"] == "open"
    assert reply.body["held"] == "40"
    settle(rid, {})
    reply = invoke("deduction_get_reservation.json", path=f"/v1/reservations/{rid}", path_params={"reservation_id": rid})
    assert reply.body["status"] == "settled"
    assert reply.body["cost"] == "40"
