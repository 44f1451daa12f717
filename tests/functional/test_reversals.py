"""POST /v1/admin/transactions/{transaction_id}/reversal: giving back a usage entry's credits.

Usage is posted through the real deduction handler and reversed through it too (the route is
on the Lambda authorizer: admins, and server API keys for their own recent usage). Every
test checks the ledger invariant; every refusal checks that the table did not change at all.
"""

from __future__ import annotations

import os

import pytest

from tests.functional.developers import CAROL, SHARE_MC, deliver, earning_records, spend
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    SERVICE,
    Caller,
    advance_clock,
    assert_earnings_invariant,
    assert_ledger_invariant,
    earnings_state,
    invoke,
    ledger_state,
)

WALLET = "user:alice"
OTHER_KEY = Caller("svc-2", service_key="bbbbbbbbbbbbbbbb")
WINDOW_MS = 900 * 1000  # service_reversal_window_seconds' default


def reverse(tx: str, body: dict | None = None, *, caller: Caller = ADMIN, key: str | None = "rev-1",
            raw_body: str | None = None):
    headers = {"idempotency-key": key} if key else {}
    kwargs = {"raw_body": raw_body} if raw_body is not None else {"body": body if body is not None else
                                                                  {"reason": "the model call failed"}}
    return invoke("deduction_post_reversal.json", caller=caller, headers=headers,
                  drop_headers=() if key else ("idempotency-key",), path=f"/v1/admin/transactions/{tx}/reversal",
                  path_params={"transaction_id": tx}, **kwargs)


def service_spend(feature: str, key: str, *, caller: Caller = SERVICE, wallet_id: str = WALLET) -> dict:
    reply = invoke("deduction_post_usage.json", caller=caller, body={"feature": feature, "wallet_id": wallet_id},
                   headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply.body


def table(aws) -> list[dict]:
    """Every item in the table but a server key's request counters (a refused request still counts
    against its key's requests a second): what "nothing changed" compares."""
    items = aws.scan(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)["Items"]
    return sorted((i for i in items if not i["PK"]["S"].startswith("KEYRATE#")),
                  key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def usage_entry(tx: str, wallet_id: str = WALLET):
    from tollgate.ledger import posting

    return posting.get_entry(wallet_id, tx)


@pytest.fixture
def insight(catalog, fund) -> dict:
    """Alice, funded with 100 credits, has spent 9 on one AI insight."""
    fund(WALLET, "100")
    return spend(ALICE, "ai-insight", "insight-1")


# --------------------------------------------------------------------------------------
# Admins
# --------------------------------------------------------------------------------------

def test_an_admin_gives_back_a_whole_usage_entry_as_a_reversal_naming_it(aws, insight):
    tx = insight["transaction_id"]
    reply = reverse(tx)
    assert reply.status == 201, reply
    body = reply.body
    assert body == {"transaction_id": body["transaction_id"], "type": "reversal", "amount": "9",
                    "balance_after": None, "feature": "ai-insight", "reference": tx,
                    "reason": "the model call failed", "created_at": body["created_at"], "metadata": {}}
    assert body["transaction_id"] != tx
    state = assert_ledger_invariant(WALLET)
    assert state["balance"] == 100_000
    assert sorted(state["entries"]) == [-9000, 9000, 100_000]
    assert usage_entry(tx).reversed_mc == 9000
    # The entry is what history shows.
    history = invoke("history_get_history.json", caller=ALICE, query={"limit": "1"})
    assert history.body["data"] == [body]


def test_a_reversal_replayed_with_its_key_is_the_same_entry_and_writes_nothing(aws, insight):
    tx = insight["transaction_id"]
    first = reverse(tx, {"reason": "timeout", "credits": "4"})
    assert first.status == 201, first
    before = table(aws)
    again = reverse(tx, {"reason": "timeout", "credits": "4"})
    assert (again.status, again.body) == (201, first.body)
    assert table(aws) == before
    assert assert_ledger_invariant(WALLET)["balance"] == 95_000
    assert usage_entry(tx).reversed_mc == 4000


def test_a_replay_still_answers_once_the_entry_is_used_up(aws, insight):
    """The default gives back all that is left; replaying it when nothing is left is the same entry, not a 422."""
    tx = insight["transaction_id"]
    first = reverse(tx, key="all")
    assert first.status == 201 and first.body["amount"] == "9", first
    before = table(aws)
    again = reverse(tx, key="all")
    assert (again.status, again.body) == (201, first.body)
    assert table(aws) == before
    assert_ledger_invariant(WALLET)


def test_the_same_key_with_another_body_is_409_and_changes_nothing(aws, insight):
    tx = insight["transaction_id"]
    assert reverse(tx, {"reason": "timeout", "credits": "2"}).status == 201
    before = table(aws)
    for body in ({"reason": "timeout", "credits": "3"}, {"reason": "other reason", "credits": "2"},
                 {"reason": "timeout"}):
        reply = reverse(tx, body)
        assert (reply.status, reply.error_code) == (409, "idempotency_conflict"), (body, reply)
    assert table(aws) == before
    assert_ledger_invariant(WALLET)


def test_partial_reversals_add_up_exactly_and_never_past_the_original(aws, insight):
    tx = insight["transaction_id"]
    assert reverse(tx, {"reason": "part", "credits": "2.5"}, key="a").status == 201
    assert reverse(tx, {"reason": "part", "credits": 0.001}, key="b").status == 201
    assert usage_entry(tx).reversed_mc == 2501
    before = table(aws)
    too_much = reverse(tx, {"reason": "part", "credits": "6.5"}, key="c")  # 6.499 left
    assert (too_much.status, too_much.error_code) == (422, "validation_error"), too_much
    assert too_much.body["error"]["field"] == "credits"
    assert too_much.body["error"]["remaining"] == "6.499"
    assert table(aws) == before
    rest = reverse(tx, {"reason": "part", "credits": "6.499"}, key="d")
    assert rest.status == 201, rest
    state = assert_ledger_invariant(WALLET)
    assert state["balance"] == 100_000
    assert usage_entry(tx).reversed_mc == 9000
    before = table(aws)
    for key, body in (("e", {"reason": "again"}), ("f", {"reason": "again", "credits": "0.001"})):
        nothing_left = reverse(tx, body, key=key)
        assert (nothing_left.status, nothing_left.error_code) == (422, "validation_error"), nothing_left
        assert nothing_left.body["error"]["remaining"] == "0"
    assert table(aws) == before


def test_the_default_gives_back_what_is_left(aws, insight):
    tx = insight["transaction_id"]
    assert reverse(tx, {"reason": "part", "credits": "4"}, key="a").status == 201
    rest = reverse(tx, key="b")
    assert (rest.status, rest.body["amount"]) == (201, "5"), rest
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000


def test_a_reversal_read_before_another_committed_is_refused_by_its_condition(aws, insight, monkeypatch):
    """Two reversals racing: the second read the entry before the first committed. The
    condition on reversed_mc (at most cost - amount before) refuses it; nothing changes."""
    from tollgate import principal as principals
    from tollgate import usage
    from tollgate.ledger import posting

    tx = insight["transaction_id"]
    stale = usage_entry(tx)  # nothing reversed yet
    assert reverse(tx, {"reason": "first", "credits": "6"}, key="first").status == 201
    before = table(aws)
    monkeypatch.setattr(posting, "find_entry", lambda _: stale)
    admin = principals.Principal(type="user", sub="root", roles=frozenset({"admin"}))
    with pytest.raises(usage.ReversalExceedsUsage) as refused:
        usage.reverse_usage(admin, tx, usage.ReversalIn(reason="second", credits="5"), "second")
    assert refused.value.details == {"field": "credits", "remaining": "3"}
    assert table(aws) == before
    # Within what is left it still goes through, the stale read notwithstanding.
    usage.reverse_usage(admin, tx, usage.ReversalIn(reason="second", credits="3"), "second")
    assert usage_entry(tx).reversed_mc == 9000
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000


def test_a_reversal_cannot_itself_be_reversed(aws, insight):
    first = reverse(insight["transaction_id"], {"reason": "x", "credits": "1"})
    assert first.status == 201, first
    before = table(aws)
    reply = reverse(first.body["transaction_id"], key="rev-of-rev")
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["field"] == "transaction_id"
    assert table(aws) == before
    assert_ledger_invariant(WALLET)


def test_an_adjustment_is_found_and_refused_as_not_usage(aws, insight):
    """Every ledger entry's id is located, so an adjustment is found, and refused (422), not hidden."""
    [adjustment] = invoke("history_get_history.json", caller=ALICE, query={"type": "adjustment"}).body["data"]
    before = table(aws)
    reply = reverse(adjustment["transaction_id"])
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["field"] == "transaction_id"
    assert table(aws) == before
    assert_ledger_invariant(WALLET)


@pytest.mark.parametrize("tx", ["tx_aaaaaaaaaaaaaaaaaaaaaaaaaa", "tx_unknown", "rsv_aaaaaaaaaaaaaaaaaaaaaaaaaa", "x"])
def test_an_unknown_transaction_is_404(aws, insight, tx):
    before = table(aws)
    reply = reverse(tx)
    assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert table(aws) == before


def test_a_usage_id_of_another_wallet_locator_is_404(aws, insight, fund):
    """The id names alice's locator; the same id in bob's wallet does not exist."""
    fund("user:bob", "10")
    tx = insight["transaction_id"]
    from tollgate import ids

    assert ids.locator_of(tx) == ids.locator(WALLET) != ids.locator("user:bob")
    forged = "tx_" + ids.locator("user:bob") + tx[3 + ids.LOCATOR_CHARS:]
    reply = reverse(forged)
    assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert_ledger_invariant("user:bob")


# --------------------------------------------------------------------------------------
# Bad input changes nothing
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"reason": "x", "credits": "0"},
    {"reason": "x", "credits": 0},
    {"reason": "x", "credits": "-1"},
    {"reason": "x", "credits": -1},
    {"reason": "x", "credits": "1.0001"},
    {"reason": "x", "credits": "abc"},
    {"reason": "x", "credits": "NaN"},
    {"reason": "x", "credits": True},
    {"reason": "x", "credits": "1000000001"},
    {"reason": "x", "credits": {"amount": 1}},
    {"credits": "1"},
    {},
    {"reason": ""},
    {"reason": "x" * 501},
    {"reason": 5},
    {"reason": None},
    {"reason": "x", "extra": 1},
    {"reason": "x", "amount": "1"},
])
def test_bad_input_is_422_and_changes_nothing(aws, insight, body):
    tx = insight["transaction_id"]
    before, state = table(aws), ledger_state(WALLET)
    reply = reverse(tx, body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), (body, reply)
    assert table(aws) == before
    assert ledger_state(WALLET) == state
    assert_ledger_invariant(WALLET)


@pytest.mark.parametrize("raw_body", ["", "not json", "[]", '{"reason": "x", "credits": 1e400}'])
def test_a_body_that_is_not_a_reversal_is_422_and_changes_nothing(aws, insight, raw_body):
    before = table(aws)
    reply = reverse(insight["transaction_id"], raw_body=raw_body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert table(aws) == before


@pytest.mark.parametrize("key", [None, " spaced key", "x" * 256])
def test_an_idempotency_key_is_required_and_valid(aws, insight, key):
    before = table(aws)
    reply = reverse(insight["transaction_id"], key=key)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert reply.body["error"]["field"] == "Idempotency-Key"
    assert table(aws) == before


@pytest.mark.parametrize("tx", ["tx_with/slash", "tx_" + "a" * 70, "tx%20x"])
def test_a_transaction_id_that_is_not_an_id_is_422(aws, insight, tx):
    before = table(aws)
    reply = reverse(tx)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert table(aws) == before


# --------------------------------------------------------------------------------------
# Who may
# --------------------------------------------------------------------------------------

def test_a_person_without_the_admin_role_is_403_before_the_body_is_read(aws, insight):
    before = table(aws)
    for caller in (ALICE, BOB, CAROL):
        for body in ({"reason": "mine"}, {"credits": "bad"}):
            reply = reverse(insight["transaction_id"], body, caller=caller)
            assert (reply.status, reply.error_code) == (403, "forbidden"), (caller, body, reply)
    assert table(aws) == before


def test_without_a_principal_it_is_401(aws, insight):
    reply = reverse(insight["transaction_id"], caller=None)
    assert (reply.status, reply.error_code) == (401, "unauthorized"), reply


def test_a_service_key_reverses_its_own_usage_inside_the_window(aws, catalog, fund):
    fund(WALLET, "100")
    charged = service_spend("ai-report", "call-1")
    advance_clock(WINDOW_MS - 1000)
    reply = reverse(charged["transaction_id"], {"reason": "model call failed"}, caller=SERVICE, key="undo-1")
    assert reply.status == 201, reply
    assert (reply.body["amount"], reply.body["reference"]) == ("40", charged["transaction_id"])
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000
    from tollgate.ledger import posting

    assert posting.get_entry(WALLET, reply.body["transaction_id"]).actor == "key:aaaaaaaaaaaaaaaa"


def test_a_service_key_outside_the_window_is_403(aws, catalog, fund):
    fund(WALLET, "100")
    charged = service_spend("ai-report", "call-1")
    advance_clock(WINDOW_MS + 1)
    before = table(aws)
    reply = reverse(charged["transaction_id"], caller=SERVICE, key="undo-late")
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert table(aws) == before
    # An admin still may.
    assert reverse(charged["transaction_id"], key="admin-undo").status == 201
    assert assert_ledger_invariant(WALLET)["balance"] == 100_000


def test_the_window_is_the_setting(aws, catalog, fund):
    import json

    from tests.support import sample_event

    settings = {**json.loads(sample_event("admin_put_settings.json")["body"]), "service_reversal_window_seconds": 10}
    assert invoke("admin_put_settings.json", caller=ADMIN, body=settings).status == 200
    fund(WALLET, "100")
    charged = service_spend("ai-report", "call-1")
    advance_clock(11_000)
    reply = reverse(charged["transaction_id"], caller=SERVICE, key="undo")
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert_ledger_invariant(WALLET)


def test_a_service_key_cannot_see_usage_it_did_not_make(aws, catalog, fund):
    fund(WALLET, "100")
    by_other_key = service_spend("ai-insight", "other-1", caller=OTHER_KEY)
    by_alice = spend(ALICE, "ai-insight", "alice-1")
    before = table(aws)
    for tx in (by_other_key["transaction_id"], by_alice["transaction_id"]):
        reply = reverse(tx, caller=SERVICE, key="snoop")
        assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert table(aws) == before
    # Nor is anything that is not usage: 404 to a key, never 422.
    first = reverse(by_alice["transaction_id"], {"reason": "x", "credits": "1"}, key="admin")
    assert first.status == 201, first
    before = table(aws)
    reply = reverse(first.body["transaction_id"], caller=SERVICE, key="snoop")
    assert (reply.status, reply.error_code) == (404, "not_found"), reply
    assert table(aws) == before
    assert_ledger_invariant(WALLET)


# --------------------------------------------------------------------------------------
# Reservations, the locator, earnings
# --------------------------------------------------------------------------------------

def test_a_usage_settled_from_a_reservation_can_be_reversed(aws, catalog, fund):
    fund(WALLET, "1000")
    held = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "r-1"},
                  body={"feature": "ai-plugin-generate", "max_credits": "300"})
    assert held.status == 201, held
    rid = held.body["reservation_id"]
    settled = invoke("deduction_settle_reservation.json", caller=ALICE, path=f"/v1/reservations/{rid}/settle",
                     path_params={"reservation_id": rid}, body={"usage": {"input_tokens": 500, "output_tokens": 250}})
    assert settled.status == 200 and settled.body["cost"] == "100", settled
    tx = settled.body["transaction_id"]
    reply = reverse(tx, {"reason": "the output was empty", "credits": "60"})
    assert reply.status == 201, reply
    assert (reply.body["reference"], reply.body["feature"]) == (tx, "ai-plugin-generate")
    state = assert_ledger_invariant(WALLET)
    assert state["balance"] == 960_000
    assert usage_entry(tx).reversed_mc == 60_000


def test_wallets_sharing_a_locator_are_each_found(aws, catalog, fund):
    """Two wallets under one locator (simulated: bob's wallet added to alice's locator item,
    and a usage entry of bob's whose id carries alice's locator): each entry is found in its own wallet."""
    from tollgate import clock, ids, keys
    from tollgate.data import Transaction
    from tollgate.ledger import posting, repository
    from tollgate.ledger.models import WalletLocatorItem as L

    fund(WALLET, "100")
    fund("user:bob", "100")
    alices = spend(ALICE, "ai-insight", "a-1")["transaction_id"]
    # What a credit of a wallet sharing alice's locator would have written.
    Transaction().update("locator", L(*keys.wallet_locator(ids.locator(WALLET))),
                         [L.wallet_ids.add({"user:bob"}), L.entity.set(L)]).commit()
    assert repository.wallets_at(ids.locator(WALLET)) == ["user:alice", "user:bob"]
    bobs = "tx_" + ids.locator(WALLET) + "b" * (26 - ids.LOCATOR_CHARS)
    posting.debit(posting.new_entry(wallet_id="user:bob", transaction_id=bobs, entry_type="usage", amount=-3000,
                                    now_ms=clock.now_ms(), request_hash="0" * 64, actor="user:bob",
                                    feature="dashboard-refresh"), 3000)
    assert ids.locator_of(bobs) == ids.locator_of(alices)

    assert posting.find_entry(alices).wallet_id == WALLET
    assert posting.find_entry(bobs).wallet_id == "user:bob"
    for tx_id, wallet_id, key in ((alices, WALLET, "ra"), (bobs, "user:bob", "rb")):
        reply = reverse(tx_id, key=key)
        assert reply.status == 201, reply
        assert posting.get_entry(wallet_id, reply.body["transaction_id"]) is not None
        assert assert_ledger_invariant(wallet_id)["balance"] == 100_000


def test_every_credit_lists_its_wallet_once_under_its_locator(aws, fund):
    from tollgate import ids
    from tollgate.ledger import repository

    for _ in range(3):
        fund("user:carol", "1")
    assert repository.wallets_at(ids.locator("user:carol")) == ["user:carol"]
    assert repository.wallets_at(ids.locator("user:nobody")) == []


def test_a_reversal_takes_the_developers_earning_back_in_proportion_once(aws, developer_catalog, fund):
    fund(WALLET, "1000")
    usage = spend(ALICE, "summarize", "s-1")  # 7.777 credits, 2.592 to dev-carol
    spend(ALICE, "summarize", "s-2")
    deliver(earning_records(aws))
    assert earnings_state("dev-carol")["earned"] == 2 * SHARE_MC

    tx = usage["transaction_id"]
    first = reverse(tx, {"reason": "partial", "credits": "3"}, key="p-1")
    assert first.status == 201, first
    assert reverse(tx, {"reason": "partial", "credits": "3"}, key="p-1").body == first.body  # a replay
    for _ in range(2):  # the stream redelivered: each reversal entry applies once
        assert deliver(earning_records(aws)) == {"batchItemFailures": []}
    taken = SHARE_MC * 3000 // 7777
    state = assert_earnings_invariant("dev-carol")
    assert state["earned"] == 2 * SHARE_MC - taken
    from tollgate.earnings import repository

    earning = repository.earning(WALLET, tx)
    assert (earning.reversed_mc, earning.reversed_cost_mc) == (taken, 3000)

    rest = reverse(tx, {"reason": "the rest"}, key="p-2")
    assert (rest.status, rest.body["amount"]) == (201, "4.777"), rest
    deliver(earning_records(aws))
    deliver(earning_records(aws))
    assert assert_earnings_invariant("dev-carol")["earned"] == SHARE_MC  # only the other call's share
    assert repository.earning(WALLET, tx).reversed_mc == SHARE_MC
    assert assert_ledger_invariant(WALLET)["balance"] == 1000_000 - 7777


def test_a_reversal_entry_keeps_the_earnings_contract(aws, developer_catalog, fund):
    """What tollgate.earnings.reversal reads: type, reference, same wallet, positive amount, developer_id."""
    from tollgate.earnings.accrual import from_record
    from tollgate.earnings.reversal import Reversal

    fund(WALLET, "100")
    usage = spend(ALICE, "summarize", "s-1")
    reply = reverse(usage["transaction_id"], {"reason": "r", "credits": "1"})
    inserted = [r for r in earning_records(aws) if r["dynamodb"]["NewImage"]["type"]["S"] == "reversal"]
    assert [from_record(r) for r in inserted] == [Reversal(
        wallet_id=WALLET, transaction_id=reply.body["transaction_id"], usage_transaction_id=usage["transaction_id"],
        developer_id="dev-carol", credits_mc=1000)]
