"""Server API key scopes: a key does what it was given (usage, reservations, reversal) and is
refused the rest with 403, changing nothing. The key's scopes travel from its item through the
real authorizer's context to the handlers, as API Gateway passes them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api_keys import as_key, create_key
from tests.support import ADMIN, Caller, LambdaContext, assert_ledger_invariant, invoke, load_function, sample_event

WALLET = "user:alice"


def debit(key: str, idempotency_key: str) -> tuple[int, Any, dict[str, str]]:
    return as_key(key, "deduction_post_usage_api_key.json", idempotency_key=idempotency_key,
                  body={"feature": "ai-insight", "wallet_id": WALLET})


def test_a_key_gets_every_scope_unless_told_and_the_authorizer_passes_them_on(aws):
    every = create_key(None)
    assert every["scopes"] == ["reservations", "reversal", "usage"]
    narrow = create_key(["usage"])
    assert narrow["scopes"] == ["usage"]
    listed = {k["key_id"]: k["scopes"] for k in invoke("admin_list_api_keys.json", caller=ADMIN).body["data"]}
    assert listed == {every["key_id"]: ["reservations", "reversal", "usage"], narrow["key_id"]: ["usage"]}
    request = sample_event("authorizer_request.json")
    request["headers"]["x-api-key"] = narrow["key"]
    assert load_function("authorizer").lambda_handler(request, LambdaContext())["context"]["scopes"] == "usage"


def test_a_usage_only_key_debits_but_may_not_hold_or_reverse_and_changes_nothing_trying(aws, catalog, fund):
    fund(WALLET, "100")
    key = create_key(["usage"])["key"]
    status, spent, _ = debit(key, "scoped-1")
    assert status == 201, spent
    before = assert_ledger_invariant(WALLET)

    status, body, _ = as_key(key, "deduction_post_reservation.json", idempotency_key="scoped-hold",
                          body={"feature": "ai-plugin-generate", "max_credits": "20", "wallet_id": WALLET})
    assert (status, body["error"]["code"]) == (403, "forbidden"), body
    assert "'reservations' scope" in body["error"]["message"]
    tx = spent["transaction_id"]
    status, body, _ = as_key(key, "deduction_post_reversal_api_key.json", idempotency_key="scoped-rev",
                          path=f"/v1/admin/transactions/{tx}/reversal", path_params={"transaction_id": tx},
                          body={"reason": "the model call failed"})
    assert (status, body["error"]["code"]) == (403, "forbidden"), body
    assert "'reversal' scope" in body["error"]["message"]
    assert assert_ledger_invariant(WALLET) == before  # nothing held, nothing given back


def test_a_reservations_only_key_holds_and_settles_but_may_not_debit(aws, catalog, fund):
    fund(WALLET, "100")
    key = create_key(["reservations"])["key"]
    status, body, _ = debit(key, "scoped-2")
    assert (status, body["error"]["code"]) == (403, "forbidden"), body
    status, hold, _ = as_key(key, "deduction_post_reservation.json", idempotency_key="scoped-hold-2",
                          body={"feature": "ai-plugin-generate", "max_credits": "20", "wallet_id": WALLET})
    assert status == 201, hold
    rid = hold["reservation_id"]
    status, settled, _ = as_key(key, "deduction_settle_reservation.json", path=f"/v1/reservations/{rid}/settle",
                             path_params={"reservation_id": rid},
                             body={"usage": {"input_tokens": 40, "output_tokens": 25}})
    assert status == 200, settled
    assert assert_ledger_invariant(WALLET)["balance"] == 91_000  # 100 - 9, in millicredits


@pytest.mark.parametrize("scopes", [[], ["admin"], ["usage", "usage"], "usage", [None]])
def test_bad_scopes_are_422_and_create_no_key(aws, scopes):
    reply = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "k", "scopes": scopes})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert "scopes" in str(reply.body["error"])
    assert invoke("admin_list_api_keys.json", caller=ADMIN).body["data"] == []


def test_a_key_from_before_scopes_keeps_every_scope(aws, catalog, fund):
    from tollgate.apikeys.models import ApiKeyItem

    fund(WALLET, "100")
    from tollgate import keys

    created = create_key(["usage"])

    stored = ApiKeyItem.get(*keys.api_key(created["key_id"]))
    stored.update(actions=[ApiKeyItem.scopes.remove()])  # as stored before scopes existed
    status, hold, _ = as_key(created["key"], "deduction_post_reservation.json", idempotency_key="legacy-hold",
                          body={"feature": "ai-plugin-generate", "max_credits": "20", "wallet_id": WALLET})
    assert status == 201, hold
    listed = invoke("admin_list_api_keys.json", caller=ADMIN).body["data"]
    assert listed[0]["scopes"] == ["reservations", "reversal", "usage"]


def test_a_person_is_not_bound_by_scopes(aws, catalog, fund):
    fund(WALLET, "10")
    reply = invoke("deduction_post_usage.json", caller=Caller("alice", via_lambda_authorizer=True),
                   body={"feature": "ai-insight"}, headers={"idempotency-key": "person-1"})
    assert reply.status == 201, reply


# -- changing a key in place (PATCH /v1/admin/api-keys/{key_id}) --------------------------------


def patch_key(key_id: str, body: Any, caller: Caller = ADMIN):
    return invoke("admin_patch_api_key.json", caller=caller, body=body, path=f"/v1/admin/api-keys/{key_id}",
                  path_params={"key_id": key_id})


def listed_keys() -> list[dict[str, Any]]:
    return invoke("admin_list_api_keys.json", caller=ADMIN).body["data"]


def test_a_key_narrowed_in_place_is_refused_on_its_next_request_and_keeps_its_secret(aws, catalog, fund):
    fund(WALLET, "100")
    created = create_key(None)
    assert debit(created["key"], "before-narrowing")[0] == 201
    reply = patch_key(created["key_id"], {"scopes": ["reservations"], "rate_limit_per_second": 7})
    assert reply.status == 200, reply
    assert (reply.body["scopes"], reply.body["rate_limit_per_second"], reply.body["name"], reply.body["active"]) == \
        (["reservations"], 7, "insight-backend", True)
    assert "key" not in reply.body and "secret_sha256" not in reply.body
    assert listed_keys() == [reply.body]
    from tests.functional.api_keys import authorizer_context

    context = authorizer_context(created["key"])  # the same secret still signs in, with the new scopes
    assert (context["scopes"], context["rate_limit"]) == ("reservations", "7")
    before = assert_ledger_invariant(WALLET)
    status, refused, _ = debit(created["key"], "after-narrowing")
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    assert assert_ledger_invariant(WALLET) == before
    widened = patch_key(created["key_id"], {"scopes": ["usage", "reservations"]})
    assert (widened.status, widened.body["scopes"], widened.body["rate_limit_per_second"]) == \
        (200, ["reservations", "usage"], 7)
    assert debit(created["key"], "after-widening")[0] == 201


@pytest.mark.parametrize("body", [
    {}, {"name": None, "scopes": None}, {"scopes": []}, {"scopes": ["usage", "usage"]}, {"scopes": ["admin"]},
    {"rate_limit_per_second": 0}, {"rate_limit_per_second": "5"}, {"name": ""}, {"key": "tgk_x"},
    {"secret_sha256": "00"},
])
def test_a_bad_change_is_422_and_changes_nothing(aws, body):
    created = create_key(["usage"])
    before = listed_keys()
    reply = patch_key(created["key_id"], body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert listed_keys() == before


def test_an_unknown_key_is_404_a_revoked_one_409_and_users_403(aws):
    assert patch_key("zzzzzzzzzzzzzzzz", {"name": "x"}).error_code == "not_found"
    created = create_key(["usage"])
    assert invoke("admin_delete_api_key.json", caller=ADMIN, path=f"/v1/admin/api-keys/{created['key_id']}",
                  path_params={"key_id": created["key_id"]}).status == 204
    before = listed_keys()
    revoked = patch_key(created["key_id"], {"scopes": ["usage", "reversal"]})
    assert (revoked.status, revoked.error_code) == (409, "api_key_revoked")
    user = patch_key(created["key_id"], {"name": "mine now"}, caller=Caller("alice"))
    assert (user.status, user.error_code) == (403, "forbidden")
    assert listed_keys() == before
