"""The deduction function's catalog is never stale on a miss (it runs in its own namespace,
so nothing the admin function does reaches its cache: only the miss and age rules do)."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, ALICE, advance_clock, assert_ledger_invariant, invoke
from tollgate.config import settings


def put_feature(feature_id, *, credits="2", active=True):
    reply = invoke("admin_put_feature.json", caller=ADMIN, path=f"/v1/admin/features/{feature_id}",
                   path_params={"feature_id": feature_id},
                   body={"name": feature_id, "pricing": {"type": "per_call", "credits": credits}, "active": active})
    assert reply.status == 200, reply
    return reply


def use(feature_id, key):
    return invoke("deduction_post_usage.json", body={"feature": feature_id}, headers={"idempotency-key": key})


def reserve(feature_id, key):
    return invoke("deduction_post_reservation.json", body={"feature": feature_id, "max_credits": "1"},
                  headers={"idempotency-key": key})


@pytest.mark.parametrize("spend", [use, reserve], ids=["usage", "reservation"])
def test_features_created_back_to_back_each_price_on_first_use(aws, fund, spend):
    fund(ALICE.wallet_id, "100")
    put_feature("warm")
    assert spend("warm", "w").status == 201  # the deduction container has a cached catalog now
    put_feature("first")
    assert spend("first", "a").status == 201, "a new feature must price on its first use"
    put_feature("second")  # within the same millisecond-scale window: no sleep
    assert spend("second", "b").status == 201, "a second new feature must not wait out a miss window"
    assert_ledger_invariant(ALICE.wallet_id)


@pytest.mark.parametrize("spend", [use, reserve], ids=["usage", "reservation"])
def test_a_deactivated_then_reactivated_feature_prices_on_the_next_call(aws, fund, spend):
    fund(ALICE.wallet_id, "100")
    put_feature("f")
    assert spend("f", "1").status == 201
    put_feature("f", active=False)
    # The deactivation arrives within CatalogCacheSeconds: once the copy is that old, it is refused.
    advance_clock((settings().catalog_cache_seconds + 1) * 1000)
    refused = spend("f", "2")
    assert (refused.status, refused.error_code) == (422, "validation_error"), refused
    put_feature("f", active=True)
    # The deduction container now caches "f" as inactive; that copy is a miss, not a hit.
    assert spend("f", "3").status == 201
    assert_ledger_invariant(ALICE.wallet_id)


def test_an_unknown_feature_is_refused_and_changes_nothing(aws, fund):
    fund(ALICE.wallet_id, "100")
    before = assert_ledger_invariant(ALICE.wallet_id)
    for key in ("x1", "x2"):
        reply = use("no-such-feature", key)
        assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert assert_ledger_invariant(ALICE.wallet_id) == before
