from __future__ import annotations

from tests.support import ALICE, assert_ledger_invariant, invoke


def test_usage_debits_catalog_price(catalog, fund):
    fund("user:alice", "100")
    reply = invoke("deduction_post_usage.json", caller=ALICE)
    assert reply.status == 201, reply
    assert reply.body["cost"] == "9"
    assert reply.body["balance"] == "91"
    assert_ledger_invariant("user:alice")
