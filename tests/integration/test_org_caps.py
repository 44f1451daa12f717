"""Members' monthly caps on an org wallet under concurrency, through the real deduction handler.

The cap is one more conditional item (the member's spend for the month) in the debit's single
transaction, so concurrent debits by one member can never take them past it: run against the real
engine (DynamoDB Local) and the serialised moto server, as tests/integration/test_concurrency.py is.
"""

from __future__ import annotations

import uuid
from collections import Counter

from tests.integration.conftest import Request
from tests.support import ADMIN, Caller, assert_ledger_invariant

FEATURE = "unit-call"  # per_call, 1 credit
MC = 1000
CAP = "10"


def member_spent(org_id: str, sub: str) -> int:
    from tollgate import clock
    from tollgate.orgs import repository

    item = repository.get_spend(org_id, sub, clock.period_of(clock.now_ms()))
    return item.spent_mc if item else 0


def make_org(api, members: dict[str, str | None]) -> tuple[str, str]:
    org_id = f"it-{uuid.uuid4().hex[:10]}"
    reply = api.call("admin_put_org.json", caller=ADMIN, body={"name": "IT"}, path=f"/v1/admin/orgs/{org_id}",
                     path_params={"org_id": org_id})
    assert reply.status == 200, reply
    for sub, cap in members.items():
        body = {"role": "member"} if cap is None else {"role": "member", "monthly_cap": cap}
        reply = api.call("admin_put_org_member.json", caller=ADMIN, body=body,
                         path=f"/v1/admin/orgs/{org_id}/members/{sub}", path_params={"org_id": org_id, "sub": sub})
        assert reply.status == 200, reply
    return org_id, f"org:{org_id}"


def usage(caller: Caller, wallet_id: str, key: str) -> Request:
    return Request("deduction_post_usage.json", caller, body={"feature": FEATURE, "wallet_id": wallet_id},
                   headers={"idempotency-key": key}, tag=caller.sub)


def test_50_concurrent_debits_never_take_a_member_past_their_cap(api):
    api.put_feature(FEATURE, "1")
    members = [Caller(f"m{i}-{uuid.uuid4().hex[:6]}") for i in range(4)]
    org_id, wallet_id = make_org(api, {m.sub: CAP for m in members})
    api.fund(wallet_id, "100")
    before_wallet = assert_ledger_invariant(wallet_id)

    # 50 debits of 1 credit, each member firing more than their cap of 10 (13, 13, 12, 12), interleaved.
    requests = [usage(members[i % 4], wallet_id, f"cap-{i}") for i in range(50)]
    replies = api.concurrently(requests)

    accepted: Counter = Counter()
    for request, reply in zip(requests, replies, strict=True):
        assert reply.status in (201, 402), reply
        if reply.status == 201:
            accepted[request.tag] += 1
            assert (reply.body["wallet_id"], reply.body["cost"]) == (wallet_id, "1")
        else:
            assert reply.error_code == "member_cap_exceeded", reply
            assert reply.body["error"]["cap"] == CAP
    assert accepted == {m.sub: 10 for m in members}, accepted
    for m in members:
        assert member_spent(org_id, m.sub) == 10 * MC
    state = assert_ledger_invariant(wallet_id)
    assert state["balance"] == before_wallet["balance"] - 40 * MC
    assert sorted(state["entries"]) == [-MC] * 40 + [100 * MC]


def test_a_member_under_their_cap_is_not_refused_and_uncapped_members_share_the_rest(api):
    api.put_feature(FEATURE, "1")
    capped, free = Caller(f"c-{uuid.uuid4().hex[:6]}"), Caller(f"f-{uuid.uuid4().hex[:6]}")
    org_id, wallet_id = make_org(api, {capped.sub: CAP, free.sub: None})
    api.fund(wallet_id, "30")

    # 8 debits by the capped member (under the cap) and 30 by the uncapped one: 38 asked of 30.
    requests = [usage(capped, wallet_id, f"c-{i}") for i in range(8)]
    requests += [usage(free, wallet_id, f"f-{i}") for i in range(30)]
    replies = api.concurrently(requests)

    by_member: dict[str, Counter] = {capped.sub: Counter(), free.sub: Counter()}
    for request, reply in zip(requests, replies, strict=True):
        by_member[request.tag][(reply.status, reply.error_code)] += 1
    assert set(by_member[capped.sub]) <= {(201, None), (402, "insufficient_credits")}, by_member
    assert set(by_member[free.sub]) <= {(201, None), (402, "insufficient_credits")}, by_member
    spent_capped = by_member[capped.sub][(201, None)]
    assert spent_capped + by_member[free.sub][(201, None)] == 30
    # Only debits that went through were counted against the cap.
    assert member_spent(org_id, capped.sub) == spent_capped * MC
    assert member_spent(org_id, free.sub) == 0
    state = assert_ledger_invariant(wallet_id)
    assert state["balance"] == 0


def test_concurrent_holds_and_debits_count_against_the_cap_and_settling_gives_back(api):
    api.put_feature(FEATURE, "1")
    member = Caller(f"h-{uuid.uuid4().hex[:6]}")
    org_id, wallet_id = make_org(api, {member.sub: CAP})
    api.fund(wallet_id, "100")

    holds = [Request("deduction_post_reservation.json", member, headers={"idempotency-key": f"h-{i}"},
                     body={"feature": FEATURE, "max_credits": "2", "wallet_id": wallet_id, "ttl_seconds": 600},
                     tag="hold") for i in range(8)]
    debits = [usage(member, wallet_id, f"d-{i}") for i in range(8)]
    requests = [r for pair in zip(holds, debits, strict=True) for r in pair]
    replies = api.concurrently(requests)
    held = [r.body["reservation_id"] for q, r in zip(requests, replies, strict=True)
            if q.tag == "hold" and r.status == 201]
    debited = sum(1 for q, r in zip(requests, replies, strict=True) if q.tag != "hold" and r.status == 201)
    assert all(r.status == 201 or r.error_code == "member_cap_exceeded" for r in replies), replies
    assert 2 * len(held) + debited == 10  # exactly the cap: 16 requests asked for 24
    assert member_spent(org_id, member.sub) == 10 * MC

    # Settle every hold at 1 credit (of 2): each gives 1 back to the month's spend.
    settles = [Request("deduction_settle_reservation.json", member, body={"quantity": 1},
                       path=f"/v1/reservations/{rid}/settle", path_params={"reservation_id": rid}) for rid in held]
    closed = api.concurrently(settles) if settles else []
    assert all(r.status == 200 and r.body["released"] == "1" for r in closed), closed
    assert member_spent(org_id, member.sub) == (10 - len(held)) * MC
    state = assert_ledger_invariant(wallet_id)
    assert state["reserved"] == 0
    assert state["balance"] == (100 - debited - len(held)) * MC
