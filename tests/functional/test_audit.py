"""The audit trail: every admin change to settings, features, packages, tiers and wallets' tiers is
recorded (who, when, before, after) in the change's own transaction; GET /v1/admin/audit reads it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support import ADMIN, ALICE, SERVICE, Caller, advance_clock, function_namespace, invoke
from tollgate import clock

DAY_MS = 86_400_000
OTHER_ADMIN = Caller("dana", roles=("admin",))


def put_feature(feature_id: str, credits: str, caller=ADMIN):
    return invoke("admin_put_feature.json", caller=caller, path=f"/v1/admin/features/{feature_id}",
                  path_params={"feature_id": feature_id},
                  body={"name": feature_id.title(), "pricing": {"type": "per_call", "credits": credits}})


def put_package(package_id: str, credits: str, caller=ADMIN):
    return invoke("admin_put_package.json", caller=caller, path=f"/v1/admin/packages/{package_id}",
                  path_params={"package_id": package_id},
                  body={"name": package_id.title(), "credits": credits, "prices": {"USD": 1000}})


def put_settings(checkouts_per_hour: int, caller=ADMIN):
    return invoke("admin_put_settings.json", caller=caller,
                  body={"price_per_credit": {"USD": 10}, "checkouts_per_hour": checkouts_per_hour})


def put_tier(tier_id: str, credits: str, caller=ADMIN):
    return invoke("admin_put_tier.json", caller=caller, path=f"/v1/admin/tiers/{tier_id}",
                  path_params={"tier_id": tier_id}, body={"name": tier_id.title(), "monthly_credits": credits})


def put_wallet_tier(wallet_id: str, tier_id: str | None, caller=ADMIN):
    return invoke("admin_put_wallet_tier.json", caller=caller, body={"tier_id": tier_id},
                  path=f"/v1/admin/wallets/{wallet_id}/tier", path_params={"wallet_id": wallet_id})


def audit(caller=ADMIN, **query: str):
    return invoke("admin_get_audit.json", caller=caller, query=query)


def records(**query: str) -> list[dict]:
    reply = audit(**query)
    assert reply.status == 200, reply
    return reply.body["data"]


def today(offset_days: int = 0) -> str:
    return (date.fromisoformat(clock.iso(clock.now_ms())[:10]) + timedelta(days=offset_days)).isoformat()


def tick() -> None:
    advance_clock(5)  # records are ordered by the millisecond they were made in


def test_each_kind_of_change_is_recorded_with_who_what_before_and_after(aws):
    assert put_feature("summarize", "9").status == 200
    tick()
    assert put_feature("summarize", "12", caller=OTHER_ADMIN).status == 200
    tick()
    assert put_package("starter", "100").status == 200
    tick()
    assert put_settings(20).status == 200
    tick()
    assert put_settings(30).status == 200
    tick()
    assert put_tier("growth", "2000").status == 200
    tick()
    assert put_wallet_tier("user:alice", "growth").status == 200
    tick()
    assert put_wallet_tier("user:alice", None).status == 200
    tick()
    assert put_wallet_tier("user:alice", None).status == 200  # no subscription to end: nothing written or recorded

    data = records()
    assert [(r["action"], r["target"], r["actor"]) for r in data] == [
        ("wallet_tier.put", "wallet:user:alice", "user:root"),
        ("wallet_tier.put", "wallet:user:alice", "user:root"),
        ("tier.put", "tier:growth", "user:root"),
        ("settings.put", "settings", "user:root"),
        ("settings.put", "settings", "user:root"),
        ("package.put", "package:starter", "user:root"),
        ("feature.put", "feature:summarize", "user:dana"),
        ("feature.put", "feature:summarize", "user:root"),
    ]
    ats = [r["at"] for r in data]
    assert ats == sorted(ats, reverse=True) and len(set(ats)) == len(ats)  # newest first
    assert len({r["audit_id"] for r in data}) == len(data)

    ended, subscribed, tier, settings2, settings1, package, feature2, feature1 = data
    # A creation has no before; an update's before is the previous after; the views are the admin routes' own.
    assert feature1["before"] is None
    assert feature1["after"]["pricing"] == {"type": "per_call", "credits": "9", "input_credits": None,
                                            "output_credits": None}
    assert feature2["before"] == feature1["after"]
    assert feature2["after"]["pricing"]["credits"] == "12"
    assert feature2["after"]["created_at"] == feature1["after"]["created_at"]
    assert feature2["at"] == feature2["after"]["updated_at"]
    stored = invoke("admin_get_feature.json", caller=ADMIN, path="/v1/admin/features/summarize",
                    path_params={"feature_id": "summarize"}).body
    assert stored == feature2["after"]
    assert package["before"] is None
    assert (package["after"]["credits"], package["after"]["prices"]) == ("100", {"USD": 1000})
    assert settings1["before"] is None and settings1["after"]["checkouts_per_hour"] == 20
    assert settings2["before"] == settings1["after"]
    assert settings2["after"]["checkouts_per_hour"] == 30
    assert settings2["after"] == invoke("admin_get_settings.json", caller=ADMIN).body
    assert tier["before"] is None and tier["after"]["monthly_credits"] == "2000"
    assert subscribed["before"] is None
    assert subscribed["after"]["wallet_id"] == "user:alice" and subscribed["after"]["tier_id"] == "growth"
    assert ended["before"] == subscribed["after"] and ended["after"] is None


def test_the_filters_pick_one_kind_of_change_or_one_item(aws):
    for credits in ("1", "2"):
        assert put_feature("a", credits).status == 200
        tick()
        assert put_feature("b", credits).status == 200
        tick()
    assert put_tier("pro", "7000").status == 200
    assert [r["after"]["pricing"]["credits"] for r in records(target="feature:a")] == ["2", "1"]
    assert [r["target"] for r in records(action="tier.put")] == ["tier:pro"]
    assert records(action="feature.put", target="tier:pro") == []
    assert len(records(action="feature.put")) == 4


def test_pages_follow_the_cursor_newest_first_across_months(aws):
    made = []
    for n in range(5):
        assert put_feature(f"f{n}", "1").status == 200
        made.append(f"feature:f{n}")
        advance_clock(20 * DAY_MS)  # five changes over about three months: several month partitions
    everything = {"from": today(-120), "to": today()}
    seen, cursor, pages = [], None, 0
    while True:
        query = {**everything, "limit": "2"} | ({"cursor": cursor} if cursor else {})
        reply = audit(**query)
        assert reply.status == 200, reply
        assert len(reply.body["data"]) <= 2
        seen += [r["target"] for r in reply.body["data"]]
        cursor, pages = reply.body["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages in (3, 4)  # a last page may come back empty
    # A filtered listing pages the same way.
    first = audit(**everything, limit="1", action="feature.put")
    second = audit(**everything, limit="1", action="feature.put", cursor=first.body["next_cursor"])
    assert [r["target"] for r in first.body["data"] + second.body["data"]] == ["feature:f4", "feature:f3"]
    # A cursor belongs to its request: another range or filter is a 422.
    other = audit(**{**everything, "from": today(-100)}, limit="1", cursor=first.body["next_cursor"])
    assert (other.status, other.error_code) == (422, "validation_error"), other
    forged = audit(**everything, cursor="bm90IGEgY3Vyc29y")
    assert (forged.status, forged.error_code) == (422, "validation_error"), forged


def test_dates_are_inclusive_utc_days_and_the_default_is_the_last_30_days(aws):
    assert put_feature("old", "1").status == 200
    old_day = today()
    advance_clock(40 * DAY_MS)
    assert put_feature("new", "1").status == 200
    new_day = today()
    assert [r["target"] for r in records()] == ["feature:new"]
    assert [r["target"] for r in records(to=new_day)] == ["feature:new"]
    assert [r["target"] for r in records(**{"from": old_day, "to": new_day})] == ["feature:new", "feature:old"]
    assert [r["target"] for r in records(**{"from": old_day, "to": old_day})] == ["feature:old"]
    assert records(**{"from": today(-39), "to": today(-1)}) == []
    assert [r["target"] for r in records(**{"from": today(-366 + 1), "to": new_day})] == ["feature:new", "feature:old"]


@pytest.mark.parametrize("query", [
    {"from": "2026-02-30"},                          # no such day
    {"from": "2026-13-01"},                          # no such month
    {"to": "2026/01/01"},
    {"from": "yesterday"},
    {"from": "2026-03-02", "to": "2026-03-01"},      # from after to
    {"from": "2025-01-01", "to": "2026-01-02"},      # 367 days
    {"action": "feature.delete"},
    {"target": "feature:Not A Slug"},
    {"limit": "0"},
    {"limit": "101"},
])
def test_bad_input_is_422(aws, query):
    reply = audit(**query)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply


def test_366_days_is_the_longest_range(aws):
    assert audit(**{"from": "2024-01-01", "to": "2024-12-31"}).status == 200  # a leap year: 366 days


@pytest.mark.parametrize("caller", [ALICE, SERVICE, Caller("dev", roles=("user", "developer"))])
def test_only_admins_read_the_trail(aws, caller):
    assert put_feature("x", "1").status == 200
    reply = audit(caller=caller)
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply


def test_a_refused_change_is_not_recorded(aws):
    assert put_feature("x", "1", caller=ALICE).status == 403
    assert put_wallet_tier("user:alice", "nope").status == 404  # unknown tier: nothing written
    assert put_tier("Bad Id", "1").status == 422
    assert records() == []


def _stale_reads(monkeypatch, times: int) -> list[int]:
    """The admin function's feature read returns the item as an earlier request saw it, ``times`` times:
    another request changed it between the read and the write."""
    repository = function_namespace("admin").module("tollgate.pricing.repository")
    real = repository.get_feature
    calls = [0]

    def read(feature_id: str):
        item = real(feature_id)
        calls[0] += 1
        if item is not None and calls[0] <= times:
            item.updated_at = "2000-01-01T00:00:00.000Z"
        return item

    monkeypatch.setattr(repository, "get_feature", read)
    return calls


def test_a_change_that_fails_leaves_no_record_and_changes_nothing(aws, monkeypatch):
    assert put_feature("x", "1").status == 200
    _stale_reads(monkeypatch, times=100)
    reply = put_feature("x", "2")
    assert (reply.status, reply.error_code) == (503, "try_again"), reply
    monkeypatch.undo()
    assert [r["after"]["pricing"]["credits"] for r in records()] == ["1"]
    stored = invoke("admin_get_feature.json", caller=ADMIN, path="/v1/admin/features/x", path_params={"feature_id": "x"})
    assert stored.body["pricing"]["credits"] == "1"


def test_a_change_raced_by_another_is_made_again_from_a_fresh_read(aws, monkeypatch):
    assert put_feature("x", "1").status == 200
    tick()
    calls = _stale_reads(monkeypatch, times=1)
    assert put_feature("x", "2").status == 200
    assert calls[0] == 2
    latest, first = records()
    assert latest["before"] == first["after"]  # the record's before is what the change replaced
    assert latest["after"]["pricing"]["credits"] == "2"
