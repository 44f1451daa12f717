"""Org wallets' pure parts: wallet ids, the month a cap counts in, the cap's condition, its refusal."""

from __future__ import annotations

import pytest

from tollgate import keys
from tollgate.clock import period_of
from tollgate.data import TransactionCancelled
from tollgate.errors import NotFound
from tollgate.orgs import MemberCapExceeded, Spender, refusal, spending, wallet_for_spending
from tollgate.orgs.repository import MEMBER_CAP, charge_cap, give_back
from tollgate.principal import Principal


def test_org_of_names_only_org_wallets():
    assert spending.org_of("org:acme") == "acme"
    assert spending.org_of("user:alice") is None
    assert spending.org_of("organization:x") is None
    assert keys.org_wallet_id("acme") == "org:acme"


@pytest.mark.parametrize(("ms", "period"), [
    (0, "1970-01"),
    (1_798_761_599_999, "2026-12"),  # 2026-12-31T23:59:59.999Z
    (1_798_761_600_000, "2027-01"),
])
def test_a_cap_counts_in_the_utc_calendar_month(ms, period):
    assert period_of(ms) == period


def test_a_spend_item_expires_months_after_its_month_ends():
    jan_2027 = 1_798_761_600
    assert spending._ttl_epoch("2026-12") == jan_2027 + 100 * 24 * 3600


def _expression(tx) -> dict:
    (request,) = tx.request_items()
    return request["Update"]


def test_the_cap_condition_compares_the_spend_with_cap_minus_cost():
    update = _expression(charge_cap("acme", "alice", "2026-11", 3000, 10_000, "now", 1))
    condition = update["ConditionExpression"]
    values = update["ExpressionAttributeValues"]
    assert "attribute_not_exists" in condition and " OR " in condition
    assert {"N": "7000"} in values.values()  # the limit, worked out client side: 10 - 3
    assert "ADD" in update["UpdateExpression"]
    assert update["Key"] == {"PK": {"S": "MEMBERSPEND#acme#alice"}, "SK": {"S": "PERIOD#2026-11"}}


def test_a_cost_above_the_cap_can_never_pass_not_even_on_a_first_spend():
    update = _expression(charge_cap("acme", "alice", "2026-11", 11_000, 10_000, "now", 1))
    assert "attribute_not_exists" not in update["ConditionExpression"]
    assert {"N": "-1000"} in update["ExpressionAttributeValues"].values()


def test_giving_back_is_unconditional():
    update = _expression(give_back("acme", "alice", "2026-11", 4000, "now", 1))
    assert "ConditionExpression" not in update
    assert {"N": "-4000"} in update["ExpressionAttributeValues"].values()


def test_a_user_wallet_resolves_without_a_read():
    # No table is reachable in the unit tier: a read would fail.
    alice = Principal(type="user", sub="alice")
    assert wallet_for_spending(alice, None) == Spender("user:alice")
    assert wallet_for_spending(alice, "user:alice") == Spender("user:alice")
    with pytest.raises(NotFound):
        wallet_for_spending(alice, "user:bob")
    service = Principal(type="service", sub="key:k", key_id="k")
    assert wallet_for_spending(service, "org:acme") == Spender("org:acme")


def test_a_failed_cap_becomes_member_cap_exceeded_with_its_figures():
    capped = Spender("org:acme", member="alice", cap_mc=10_000)
    cancelled = TransactionCancelled({"entry": "None", "wallet": "None", MEMBER_CAP: "ConditionalCheckFailed"},
                                     {MEMBER_CAP: {"PK": {"S": "MEMBERSPEND#acme#alice"}, "SK": {"S": "PERIOD#x"},
                                                   "entity": {"S": "org_member_spend"}, "spent_mc": {"N": "9000"}}})
    error = refusal(cancelled, capped, 3000)
    assert isinstance(error, MemberCapExceeded)
    assert (error.status, error.code) == (402, "member_cap_exceeded")
    assert error.details == {"cap": "10", "spent": "9", "required": "3", "remaining": "1"}
    wallet_only = TransactionCancelled({"wallet": "ConditionalCheckFailed", MEMBER_CAP: "None"}, {})
    assert refusal(wallet_only, capped, 3000) is None
    assert refusal(cancelled, Spender("org:acme", member="bob"), 3000) is None  # uncapped
