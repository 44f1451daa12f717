"""POST /v1/usage: pricing, idempotent replays, insufficient credits, who may spend what."""

from __future__ import annotations

import pytest

from tests.support import ALICE, BOB, SERVICE, assert_ledger_invariant, invoke, ledger_state


def usage(body, *, caller=ALICE, key="k-1", **kw):
    headers = {"idempotency-key": key} if key else {}
    return invoke("deduction_post_usage.json", caller=caller, body=body, headers=headers,
                  drop_headers=() if key else ("idempotency-key",), **kw)


def test_sample_event_debits_the_seed_price(catalog, fund):
    fund("user:alice", "100")
    reply = invoke("deduction_post_usage.json", caller=ALICE)
    assert reply.status == 201
    assert reply.body == {"transaction_id": reply.body["transaction_id"], "wallet_id": "user:alice",
                          "feature": "ai-insight", "cost": "9", "balance": "91", "available": "91"}
    assert_ledger_invariant("user:alice")


@pytest.mark.parametrize(
    ("body", "cost"),
    [
        ({"feature": "ai-analysis"}, "25"),
        ({"feature": "ai-report"}, "40"),
        ({"feature": "dashboard-refresh"}, "3"),
        ({"feature": "dashboard-refresh", "quantity": 4}, "12"),
        ({"feature": "ai-translate", "quantity": 3}, "1.5"),
        ({"feature": "ai-plugin-generate", "usage": {"input_tokens": 1000, "output_tokens": 500}}, "200"),
        ({"feature": "ai-plugin-generate", "usage": {"input_tokens": 1, "output_tokens": 0}}, "0.1"),
        # Kodella: characters / 4 per token; 10 input chars = 2.5 tokens x 0.1 = 0.25 credits.
        ({"feature": "ai-plugin-generate", "usage": {"input_chars": 10, "output_chars": 0}}, "0.25"),
        # 1 char x 0.1 / 4 = 0.025 credits exactly.
        ({"feature": "ai-plugin-generate", "usage": {"input_chars": 1}}, "0.025"),
        # 1 output char: 0.2 / 4 = 0.05.
        ({"feature": "ai-plugin-generate", "usage": {"output_chars": 1}}, "0.05"),
    ],
)
def test_cost_is_computed_server_side_exactly(catalog, fund, body, cost):
    fund("user:alice", "1000")
    reply = usage(body)
    assert reply.status == 201, reply.body
    assert reply.body["cost"] == cost
    state = assert_ledger_invariant("user:alice")
    assert state["entries"][-1] != 0 or cost == "0"


def test_rounds_up_to_one_millicredit(aws, fund):
    from tests.support import ADMIN

    invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/tiny", path_params={"feature_id": "tiny"},
           body={"name": "Tiny", "pricing": {"type": "per_token", "input_credits": "0.001", "output_credits": "0"}})
    fund("user:alice", "1")
    # 1 char at 0.001 credit/token = 0.00025 credits -> rounded up to 0.001.
    reply = usage({"feature": "tiny", "usage": {"input_chars": 1}})
    assert reply.status == 201
    assert reply.body["cost"] == "0.001"
    assert reply.body["balance"] == "0.999"
    assert_ledger_invariant("user:alice")


def test_replay_returns_first_response_and_writes_nothing(catalog, fund):
    fund("user:alice", "100")
    first = usage({"feature": "ai-insight"}, key="same-key")
    before = ledger_state("user:alice")
    again = usage({"feature": "ai-insight"}, key="same-key")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert ledger_state("user:alice") == before
    assert_ledger_invariant("user:alice")


def test_same_key_different_body_is_409(catalog, fund):
    fund("user:alice", "100")
    assert usage({"feature": "ai-insight"}, key="k").status == 201
    before = ledger_state("user:alice")
    conflict = usage({"feature": "ai-report"}, key="k")
    assert conflict.status == 409
    assert conflict.error_code == "idempotency_conflict"
    assert ledger_state("user:alice") == before
    assert_ledger_invariant("user:alice")


def test_without_key_a_person_debits_each_time(catalog, fund):
    fund("user:alice", "100")
    assert usage({"feature": "ai-insight"}, key=None).status == 201
    assert usage({"feature": "ai-insight"}, key=None).status == 201
    assert ledger_state("user:alice")["balance"] == 82_000
    assert_ledger_invariant("user:alice")


def test_insufficient_credits_is_402_with_required_and_available(catalog, fund):
    fund("user:alice", "30")
    reply = usage({"feature": "ai-report"})
    assert reply.status == 402
    assert reply.body["error"]["code"] == "insufficient_credits"
    assert reply.body["error"]["required"] == "40"
    assert reply.body["error"]["available"] == "30"
    assert reply.body["error"]["request_id"]
    assert ledger_state("user:alice")["balance"] == 30_000
    assert_ledger_invariant("user:alice")


def test_a_wallet_never_funded_gets_402(catalog):
    reply = usage({"feature": "ai-insight"})
    assert reply.status == 402
    assert reply.body["error"]["available"] == "0"


def test_exact_balance_can_be_spent_to_zero(catalog, fund):
    fund("user:alice", "9")
    assert usage({"feature": "ai-insight"}, key="a").status == 201
    assert usage({"feature": "ai-insight"}, key="b").status == 402
    assert ledger_state("user:alice")["balance"] == 0
    assert_ledger_invariant("user:alice")


def test_a_person_cannot_spend_another_wallet(catalog, fund):
    fund("user:bob", "100")
    reply = usage({"feature": "ai-insight", "wallet_id": "user:bob"})
    assert reply.status == 404
    assert reply.error_code == "not_found"
    assert ledger_state("user:bob")["balance"] == 100_000
    assert_ledger_invariant("user:bob")


def test_a_person_may_name_their_own_wallet(catalog, fund):
    fund("user:bob", "100")
    assert usage({"feature": "ai-insight", "wallet_id": "user:bob"}, caller=BOB).status == 201


def test_a_person_may_not_set_an_amount(catalog, fund):
    fund("user:alice", "100")
    reply = usage({"feature": "ai-insight", "amount": "1"})
    assert reply.status == 403
    assert reply.error_code == "forbidden"
    assert ledger_state("user:alice")["balance"] == 100_000


def test_service_key_acts_on_any_wallet_with_explicit_amount(catalog, fund):
    fund("user:bob", "100")
    reply = usage({"feature": "ai-insight", "wallet_id": "user:bob", "amount": "2.5"}, caller=SERVICE)
    assert reply.status == 201
    assert reply.body["cost"] == "2.5"
    assert reply.body["balance"] == "97.5"
    assert_ledger_invariant("user:bob")


def test_service_key_needs_wallet_id_and_idempotency_key(catalog, fund):
    fund("user:bob", "100")
    no_wallet = usage({"feature": "ai-insight"}, caller=SERVICE)
    assert no_wallet.status == 422
    no_key = usage({"feature": "ai-insight", "wallet_id": "user:bob"}, caller=SERVICE, key=None)
    assert no_key.status == 422
    assert ledger_state("user:bob")["balance"] == 100_000


def test_usage_entry_records_feature_developer_and_share(catalog, fund):
    from tollgate.ledger import repository

    fund("user:alice", "1000")
    reply = usage({"feature": "ai-plugin-generate", "usage": {"input_tokens": 10, "output_tokens": 10},
                   "metadata": {"plugin": "p1"}})
    entry = repository.get_entry("user:alice", reply.body["transaction_id"])
    assert entry.feature == "ai-plugin-generate"
    assert entry.developer_id == "dev-kodella"
    assert entry.revenue_share_bps == 7000
    assert entry.amount == -3000
    assert entry.metadata == {"plugin": "p1"}
    assert entry.type == "usage"
    assert "balance_after" not in entry.attribute_values  # stamped later, from the stream


def test_inactive_feature_cannot_be_used(catalog, fund):
    from tests.support import ADMIN

    fund("user:alice", "100")
    body = {"name": "Simple AI Insight", "pricing": {"type": "per_call", "credits": "9"}, "active": False}
    invoke("admin_put_feature.json", caller=ADMIN, body=body)
    reply = usage({"feature": "ai-insight"})
    assert reply.status == 422
    assert ledger_state("user:alice")["balance"] == 100_000


def test_zero_cost_usage_is_recorded(catalog, fund):
    from tests.support import ADMIN

    invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/free", path_params={"feature_id": "free"},
           body={"name": "Free", "pricing": {"type": "per_call", "credits": "0"}})
    reply = usage({"feature": "free"})
    assert reply.status == 201
    assert reply.body["cost"] == "0"
    state = assert_ledger_invariant("user:alice")
    assert state["entries"] == [0]
