"""Admin routes: features, adjustments, wallets, reconciliation, API keys; the admin role."""

from __future__ import annotations

import pytest

from tests.support import (
    ADMIN,
    ALICE,
    SERVICE,
    Caller,
    LambdaContext,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    load_function,
    sample_event,
)
from tollgate.config import settings


def put_feature(feature_id, body, caller=ADMIN):
    return invoke("admin_put_feature.json", caller=caller, body=body, path=f"/v1/admin/features/{feature_id}",
                  path_params={"feature_id": feature_id})


def adjust(wallet_id, body, key="adj-1", caller=ADMIN):
    return invoke("admin_post_adjustment.json", caller=caller, body=body, headers={"idempotency-key": key},
                  path=f"/v1/admin/wallets/{wallet_id}/adjustments", path_params={"wallet_id": wallet_id})


def test_put_feature_returns_the_feature(aws):
    reply = put_feature("ai-insight", {"name": "AI Insight", "pricing": {"type": "per_call", "credits": "9"}})
    assert reply.status == 200
    body = reply.body
    assert body["feature_id"] == "ai-insight"
    assert body["pricing"] == {"type": "per_call", "credits": "9", "input_credits": None, "output_credits": None}
    assert body["active"] is True
    assert body["created_at"] == body["updated_at"]


def test_put_feature_per_token_and_developer_share(aws):
    reply = put_feature("gen", {"name": "Gen", "pricing": {"type": "per_token", "input_credits": "0.1",
                                                          "output_credits": "0.2"},
                                "developer_id": "dev-1", "revenue_share_bps": 2500})
    assert reply.status == 200
    assert reply.body["pricing"]["input_credits"] == "0.1"
    assert reply.body["pricing"]["output_credits"] == "0.2"
    assert reply.body["developer_id"] == "dev-1"
    assert reply.body["revenue_share_bps"] == 2500


def test_update_keeps_created_at_and_the_new_price_arrives_within_the_cache_age(aws, fund):
    put_feature("f", {"name": "F", "pricing": {"type": "per_call", "credits": "9"}})
    created = invoke("admin_get_feature.json", caller=ADMIN, path="/v1/admin/features/f",
                     path_params={"feature_id": "f"}).body["created_at"]
    fund("user:alice", "100")
    invoke("deduction_post_usage.json", body={"feature": "f"}, headers={"idempotency-key": "one"})
    updated = put_feature("f", {"name": "F", "pricing": {"type": "per_unit", "credits": "2"}})
    assert updated.body["created_at"] == created
    # The deduction function's container still holds the old price (a hit), as in AWS ...
    reply = invoke("deduction_post_usage.json", body={"feature": "f", "quantity": 3}, headers={"idempotency-key": "two"})
    assert reply.body["cost"] == "27"  # per_call 9 x 3
    # ... until its copy is older than CATALOG_CACHE_SECONDS.
    advance_clock((settings().catalog_cache_seconds + 1) * 1000)  # every function's clock
    reply = invoke("deduction_post_usage.json", body={"feature": "f", "quantity": 3}, headers={"idempotency-key": "3"})
    assert reply.body["cost"] == "6"
    assert_ledger_invariant("user:alice")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "pricing": {"type": "per_minute", "credits": "1"}},
        {"name": "X", "pricing": {"type": "per_call", "credits": "-1"}},
        {"name": "X", "pricing": {"type": "per_call", "credits": "0.0001"}},
        {"name": "X", "pricing": {"type": "per_token", "input_credits": "0.1"}},
        {"name": "", "pricing": {"type": "per_call", "credits": "1"}},
        {"name": "X", "pricing": {"type": "per_call", "credits": "1"}, "revenue_share_bps": 10001,
         "developer_id": "d"},
        {"name": "X", "pricing": {"type": "per_call", "credits": "1"}, "revenue_share_bps": 500},
        {"name": "X"},
    ],
)
def test_bad_feature_bodies_are_422(aws, body):
    reply = put_feature("x", body)
    assert reply.status == 422, reply
    assert invoke("admin_get_feature.json", caller=ADMIN, path="/v1/admin/features/x",
                  path_params={"feature_id": "x"}).status == 404


def test_bad_feature_id_is_422(aws):
    reply = put_feature("Bad Id", {"name": "X", "pricing": {"type": "per_call", "credits": "1"}})
    assert reply.status == 422


def test_features_list_shows_active_only_and_hides_internal_fields(catalog):
    put_feature("old", {"name": "Old", "pricing": {"type": "per_call", "credits": "1"}, "active": False})
    reply = invoke("history_get_features.json", caller=ALICE)
    assert reply.status == 200
    ids = {f["feature_id"] for f in reply.body["data"]}
    assert ids == set(catalog)
    plugin = next(f for f in reply.body["data"] if f["feature_id"] == "ai-plugin-generate")
    assert plugin["revenue_share_bps"] is None
    admin_list = invoke("admin_list_features.json", caller=ADMIN)
    assert {f["feature_id"] for f in admin_list.body["data"]} == set(catalog) | {"old"}


def test_adjustment_credits_and_is_idempotent(aws):
    first = adjust("user:alice", {"amount": "100", "reason": "welcome bonus"}, key="welcome")
    assert first.status == 201
    assert first.body == {"transaction_id": first.body["transaction_id"], "wallet_id": "user:alice",
                          "amount": "100", "balance": "100"}
    again = adjust("user:alice", {"amount": "100", "reason": "welcome bonus"}, key="welcome")
    assert again.status == 201
    assert again.body == first.body
    conflict = adjust("user:alice", {"amount": "50", "reason": "welcome bonus"}, key="welcome")
    assert conflict.status == 409
    assert conflict.error_code == "idempotency_conflict"
    assert ledger_state("user:alice")["balance"] == 100_000
    assert_ledger_invariant("user:alice")


def test_negative_adjustment(aws):
    adjust("user:alice", {"amount": "100", "reason": "grant"}, key="a")
    reply = adjust("user:alice", {"amount": "-30.5", "reason": "correction"}, key="b")
    assert reply.status == 201
    assert reply.body["amount"] == "-30.5"
    assert reply.body["balance"] == "69.5"
    state = assert_ledger_invariant("user:alice")
    assert state["entries"] == [100_000, -30_500]


def test_negative_adjustment_cannot_take_held_credits(catalog, fund):
    fund("user:alice", "50")
    invoke("deduction_post_reservation.json", body={"feature": "ai-report"}, headers={"idempotency-key": "h"})
    reply = adjust("user:alice", {"amount": "-20", "reason": "x"}, key="neg")
    assert reply.status == 402
    assert reply.body["error"]["available"] == "10"
    assert_ledger_invariant("user:alice")


def test_admin_wallet_and_reconciliation(catalog, fund):
    fund("user:alice", "100")
    invoke("deduction_post_usage.json", body={"feature": "ai-insight"})
    wallet = invoke("admin_get_wallet.json", caller=ADMIN)
    assert wallet.status == 200
    assert wallet.body["balance"] == "91"
    rec = invoke("admin_get_reconciliation.json", caller=ADMIN)
    assert rec.status == 200
    assert rec.body["consistent"] is True
    assert rec.body["ledger_sum"] == rec.body["balance"] == "91"
    assert rec.body["entries"] == 2
    missing = invoke("admin_get_wallet.json", caller=ADMIN, path="/v1/admin/wallets/user:nobody",
                     path_params={"wallet_id": "user:nobody"})
    assert missing.status == 404


@pytest.mark.parametrize(
    ("sample", "kw"),
    [
        ("admin_put_feature.json", {}),
        ("admin_get_feature.json", {}),
        ("admin_list_features.json", {}),
        ("admin_post_adjustment.json", {}),
        ("admin_get_wallet.json", {}),
        ("admin_get_reconciliation.json", {}),
        ("admin_post_api_key.json", {}),
        ("admin_list_api_keys.json", {}),
        ("admin_delete_api_key.json", {}),
    ],
)
def test_admin_routes_need_the_admin_role(aws, fund, sample, kw):
    fund("user:alice", "10")
    before = ledger_state("user:alice")
    for caller in (ALICE, Caller("dev", roles=("developer",))):
        reply = invoke(sample, caller=caller, **kw)
        assert reply.status == 403, (sample, reply)
        assert reply.error_code == "forbidden"
    assert invoke(sample, caller=None).status == 401
    assert ledger_state("user:alice") == before


@pytest.mark.parametrize("sample", ["admin_put_feature.json", "admin_post_adjustment.json", "admin_post_api_key.json"])
def test_a_non_admin_with_a_bad_body_gets_403_not_422(aws, fund, sample):
    fund("user:alice", "10")
    before = ledger_state("user:alice")
    for caller in (ALICE, Caller("dev", roles=("developer",))):
        for body in ({"nonsense": True}, [], "not an object"):
            reply = invoke(sample, caller=caller, body=body, headers={"idempotency-key": "bad-1"})
            assert (reply.status, reply.error_code) == (403, "forbidden"), (sample, body, reply)
    assert invoke(sample, caller=ADMIN, body={"nonsense": True}, headers={"idempotency-key": "bad-1"}).status == 422
    assert ledger_state("user:alice") == before


def test_cognito_style_groups_claim(aws, monkeypatch):
    from tollgate import config

    monkeypatch.setenv("ROLES_CLAIM", "cognito:groups")
    config.settings.cache_clear()
    try:
        event = sample_event("admin_list_features.json")
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "root", "cognito:groups": "[admin]"}}}
        assert load_function("admin").lambda_handler(event, LambdaContext())["statusCode"] == 200
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "root", "roles": "[admin]"}}}
        assert load_function("admin").lambda_handler(event, LambdaContext())["statusCode"] == 403
    finally:
        monkeypatch.delenv("ROLES_CLAIM")
        config.settings.cache_clear()


def test_api_key_lifecycle(aws):
    created = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "insight-backend"})
    assert created.status == 201
    key, key_id = created.body["key"], created.body["key_id"]
    assert key.startswith(f"tgk_{key_id}_")
    listed = invoke("admin_list_api_keys.json", caller=ADMIN)
    assert [k["key_id"] for k in listed.body["data"]] == [key_id]
    assert key not in str(listed.body)  # the secret is shown once only
    from tollgate.apikeys import repository

    stored = repository.get(key_id)
    assert key.split("_")[-1] not in str(stored)  # stored hashed

    authorizer = load_function("authorizer")
    event = sample_event("authorizer_request.json")
    event["headers"]["x-api-key"] = key
    allowed = authorizer.lambda_handler(event, LambdaContext())
    assert allowed["isAuthorized"] is True
    assert allowed["context"] == {"principal_type": "service", "sub": f"key:{key_id}", "roles": "service",
                                  "key_id": key_id, "email": "", "scopes": "reservations reversal usage",
                                  "rate_limit": "100"}

    revoked = invoke("admin_delete_api_key.json", caller=ADMIN, path=f"/v1/admin/api-keys/{key_id}",
                     path_params={"key_id": key_id})
    assert revoked.status == 204
    assert authorizer.lambda_handler(event, LambdaContext()) == {"isAuthorized": False}
    listed = invoke("admin_list_api_keys.json", caller=ADMIN)
    assert listed.body["data"][0]["active"] is False
    assert invoke("admin_delete_api_key.json", caller=ADMIN, path="/v1/admin/api-keys/nope",
                  path_params={"key_id": "nope"}).status == 404


def test_a_service_key_is_not_an_admin(aws):
    assert invoke("admin_list_features.json", caller=SERVICE).status == 403
