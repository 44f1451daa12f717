"""Grants: every credit belongs to one; the stream attributes each balance change in commit order,
the hourly job expires what is left of each expired grant, exactly once, never below zero.

Credits arrive through the real handlers (a Stripe purchase through the webhooks function, a tier
allocation and admin grants through the admin function); the table's stream (moto) is handed to
the real ledger_stream handler through its template FilterCriteria, as Lambda would; the expiry
runs the real grant_expiry handler. Time moves with the project's clock, never by sleeping. After
each money step the ledger reconciles and, once the stream is drained, the grants sum to the balance.
"""

from __future__ import annotations

import pytest

from tests import streams
from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, FakeGateway, webhook_body
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    LambdaContext,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    load_function,
    sample_event,
    set_gateway,
)
from tollgate import clock
from tollgate.gateways import Refund
from tollgate.grants import repository
from tollgate.grants.attribution import DAY_MS, period_end_ms

WALLET = ALICE.wallet_id
HOUR_MS = 3_600_000


# -- helpers --------------------------------------------------------------------------------


def deliver(records: list[dict]) -> dict:
    return streams.deliver("ledger_stream", records)


@pytest.fixture
def stream(aws):
    return streams.LedgerStream(aws)


@pytest.fixture
def shop(aws):
    fake = FakeGateway("stripe")
    set_gateway("stripe", fake)
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 cents
    yield fake
    set_gateway("stripe", None)


@pytest.fixture
def unit_feature(aws):
    reply = invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/unit",
                   path_params={"feature_id": "unit"},
                   body={"name": "Unit", "pricing": {"type": "per_unit", "credits": "1"}})
    assert reply.status == 200, reply


def buy(key: str = "co-1") -> dict:
    """A paid 100-credit Stripe purchase (checkout, then the gateway's webhook)."""
    started = invoke("checkout_post_checkout.json", headers={"idempotency-key": key},
                     body={"package_id": "starter", "gateway": "stripe", "currency": "USD"})
    assert started.status == 201, started
    purchase = started.body
    paid = stripe_webhook(event_id=f"evt-{purchase['purchase_id']}", kind="payment_succeeded",
                          purchase_id=purchase["purchase_id"], reference=purchase["reference"],
                          amount=purchase["amount"], currency=purchase["currency"])
    assert paid.body["outcome"] == "granted", paid
    return purchase


def stripe_webhook(**event):
    return invoke("webhooks_stripe.json", caller=None, raw_body=webhook_body(**event),
                  headers={SIGNATURE_HEADER: GOOD_SIGNATURE})


def put_tier(tier_id: str, credits: str, rollover: dict | None = None) -> None:
    body = {"name": tier_id.title(), "monthly_credits": credits, "rollover": rollover or {"type": "none"}}
    reply = invoke("admin_put_tier.json", caller=ADMIN, body=body, path=f"/v1/admin/tiers/{tier_id}",
                   path_params={"tier_id": tier_id})
    assert reply.status == 200, reply


def subscribe(tier_id: str | None, wallet_id: str = WALLET) -> dict:
    reply = invoke("admin_put_wallet_tier.json", caller=ADMIN, body={"tier_id": tier_id},
                   path=f"/v1/admin/wallets/{wallet_id}/tier", path_params={"wallet_id": wallet_id})
    assert reply.status == 200, reply
    return reply.body


def post_grant(body, *, key: str | None = "g-1", wallet_id: str = WALLET, caller=ADMIN, raw_body: str | None = None):
    return invoke("admin_post_grant.json", caller=caller, body=body, raw_body=raw_body,
                  headers={"idempotency-key": key} if key else None,
                  drop_headers=() if key else ("idempotency-key",),
                  path=f"/v1/admin/wallets/{wallet_id}/grants", path_params={"wallet_id": wallet_id})


def grant(amount: str, *, days: float | None = None, priority: int = 0, key: str = "g-1",
          expires: str | None = None) -> dict:
    if days is not None:
        expires = clock.iso(clock.now_ms() + int(days * DAY_MS))
    reply = post_grant({"amount": amount, "expires_at": expires, "priority": priority, "reason": "promo"}, key=key)
    assert reply.status == 201, reply
    return reply.body


def spend(credits: int, key: str, caller=ALICE):
    reply = invoke("deduction_post_usage.json", caller=caller, body={"feature": "unit", "quantity": credits},
                   headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply.body


def adjust(amount: str, key: str, wallet_id: str = WALLET) -> dict:
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "test"},
                   headers={"idempotency-key": key}, path=f"/v1/admin/wallets/{wallet_id}/adjustments",
                   path_params={"wallet_id": wallet_id})
    assert reply.status == 201, reply
    return reply.body


def reserve(credits: str, key: str, ttl_seconds: int = 3600) -> str:
    reply = invoke("deduction_post_reservation.json",
                   body={"feature": "unit", "max_credits": credits, "ttl_seconds": ttl_seconds},
                   headers={"idempotency-key": key})
    assert reply.status == 201, reply
    return reply.body["reservation_id"]


def release(reservation_id: str) -> None:
    reply = invoke("deduction_release_reservation.json", path=f"/v1/reservations/{reservation_id}/release",
                   path_params={"reservation_id": reservation_id})
    assert reply.status == 200, reply


def run_expiry() -> dict:
    return load_function("grant_expiry").lambda_handler(sample_event("grant_expiry_schedule.json"), LambdaContext())


def remaining(wallet_id: str = WALLET) -> dict[str, int]:
    """grant id -> remaining mc, straight from the book."""
    book = repository.get_book(wallet_id)
    return {} if book is None else {gid: g.remaining for gid, g in book.grants.items()}


def by_source(wallet_id: str = WALLET) -> dict[str, int]:
    book = repository.get_book(wallet_id)
    totals: dict[str, int] = {}
    for g in (book.grants.values() if book else ()):
        totals[g.source] = totals.get(g.source, 0) + g.remaining
    return totals


def settled(stream: streams.LedgerStream, wallet_id: str = WALLET) -> dict:
    """Drain the stream, then: the ledger reconciles and the grants sum to the balance."""
    assert stream.drain() == {"batchItemFailures": []}
    state = assert_ledger_invariant(wallet_id)
    book = repository.get_book(wallet_id)
    assert book is not None
    assert book.total() == state["balance"] == book.balance, (book, state)
    assert book.shortfall_mc == 0
    return state


def entries_of(entry_type: str, wallet_id: str = WALLET) -> list[dict]:
    reply = invoke("history_get_history.json", caller=ADMIN, query={"wallet_id": wallet_id, "type": entry_type,
                                                                   "limit": "100"})
    assert reply.status == 200, reply
    return reply.body["data"]


def wallet_view(caller=ALICE) -> dict:
    reply = invoke("history_get_wallet.json", caller=caller)
    assert reply.status == 200, reply
    return reply.body


def to_before_month_end(ms_before: int) -> int:
    """Move the clock to ``ms_before`` before the end of this month (or the next, if that has passed);
    the end of that month (epoch ms)."""
    now = clock.now_ms()
    end = period_end_ms(clock.period_of(now))
    if end - ms_before <= now:
        end = period_end_ms(clock.period_of(end))
    advance_clock(end - ms_before - now)
    return end


# -- draw-down order ------------------------------------------------------------------------


def test_debits_draw_from_the_grant_expiring_soonest_then_priority_then_oldest(stream, shop, unit_feature):
    purchase = buy()
    month_end = to_before_month_end(DAY_MS)  # the allocation expires in 1 day
    put_tier("mini", "50")
    subscribe("mini")
    admin = grant("30", days=5)
    settled(stream)
    assert by_source() == {"purchase": 100_000, "allocation": 50_000, "admin": 30_000}

    spend(60, "spend-60")
    settled(stream)
    assert by_source() == {"purchase": 100_000, "admin": 20_000}  # the allocation is spent (and dropped)
    assert remaining()[admin["grant_id"]] == 20_000
    usage = entries_of("usage")[0]
    assert usage["balance_after"] == "120"

    # At the allocation's expiry nothing more is removed: nothing of it is left.
    advance_clock(month_end - clock.now_ms() + HOUR_MS)
    report = run_expiry()
    assert (report["expired_mc"], report["entries"], report["failed"]) == (0, 0, 0)
    assert entries_of("expiry") == []
    assert settled(stream)["balance"] == 120_000
    assert purchase["purchase_id"]


def test_among_grants_expiring_together_higher_priority_then_older_goes_first(stream, unit_feature):
    together = clock.iso(clock.now_ms() + 3 * DAY_MS)
    low = grant("10", expires=together, priority=1, key="low")
    high = grant("10", expires=together, priority=9, key="high")
    old_plain = grant("10", key="plain-1")
    new_plain = grant("10", key="plain-2")
    settled(stream)
    # The view lists them in the order debits draw: same expiry by priority, non-expiring by age.
    order = [g["grant_id"] for g in wallet_view()["grants"]]
    assert order == [high["grant_id"], low["grant_id"], old_plain["grant_id"], new_plain["grant_id"]]
    spend(25, "s")
    settled(stream)
    assert remaining() == {old_plain["grant_id"]: 5_000, new_plain["grant_id"]: 10_000}


def test_a_refund_draws_from_its_own_purchase_first(stream, shop, unit_feature):
    purchase = buy()
    grant("50", days=2)
    settled(stream)
    refund = stripe_webhook(event_id="r1", kind="refund", purchase_id=None, reference=purchase["reference"],
                            refunds=[Refund("re_1", 250)])
    assert refund.body["outcome"] == "clawed_back", refund
    settled(stream)
    # 25 credits leave the purchase's grant, not the admin grant that expires sooner.
    assert by_source() == {"purchase": 75_000, "admin": 50_000}
    assert entries_of("refund")[0]["amount"] == "-25"


# -- expiry ---------------------------------------------------------------------------------


def test_unused_allocation_expires_exactly_once(stream, unit_feature):
    month_end = to_before_month_end(2 * HOUR_MS)
    put_tier("mini", "50")
    subscribe("mini")
    adjust("20", "top-up")
    spend(10, "s1")
    settled(stream)
    assert by_source() == {"allocation": 40_000, "adjustment": 20_000}

    advance_clock(month_end - clock.now_ms() + 1)
    first = run_expiry()
    assert (first["wallets"], first["expired_mc"], first["entries"], first["skipped"]) == (1, 40_000, 1, 0)
    (expiry,) = entries_of("expiry")
    assert (expiry["amount"], expiry["metadata"]["source"]) == ("-40", "allocation")
    # Again before the stream caught up: the wallet is skipped, nothing twice.
    assert run_expiry()["expired_mc"] == 0
    state = settled(stream)
    assert state["balance"] == 20_000
    assert by_source() == {"adjustment": 20_000}
    # And once it has: nothing is due any more.
    again = run_expiry()
    assert (again["wallets"], again["expired_mc"]) == (0, 0)
    assert len(entries_of("expiry")) == 1
    assert settled(stream)["balance"] == 20_000


def test_held_credits_stay_until_released_and_never_below_zero(stream, unit_feature):
    month_end = to_before_month_end(10 * 60_000)
    put_tier("mini", "50")
    subscribe("mini")
    spend(10, "s1")
    rid = reserve("30", "hold-1")  # 40 left on the allocation, 30 of them held
    settled(stream)
    advance_clock(month_end - clock.now_ms() + 60_000)  # expired; the hold still has 50 minutes

    first = run_expiry()
    assert (first["expired_mc"], first["entries"]) == (10_000, 1)  # only what is available leaves
    state = settled(stream)
    assert (state["balance"], state["reserved"], state["available"]) == (30_000, 30_000, 0)
    assert by_source() == {"allocation": 30_000}
    assert run_expiry()["expired_mc"] == 0  # everything left is held: nothing leaves, nothing goes negative

    release(rid)
    settled(stream)
    second = run_expiry()
    assert (second["expired_mc"], second["entries"]) == (30_000, 1)
    state = settled(stream)
    assert (state["balance"], state["available"]) == (0, 0)
    assert remaining() == {}
    assert run_expiry()["expired_mc"] == 0
    assert [e["amount"] for e in entries_of("expiry")] == ["-30", "-10"]


def test_a_debit_not_yet_attributed_makes_the_run_skip_the_wallet(stream, unit_feature):
    month_end = to_before_month_end(HOUR_MS)
    put_tier("mini", "50")
    subscribe("mini")
    adjust("100", "top-up")
    settled(stream)
    advance_clock(month_end - clock.now_ms() + 1)
    # After the expiry, before the run: an expired grant is drawn from last, so this comes out of
    # the adjustment once attributed; until then the book cannot say what of the allocation is left.
    spend(20, "late-spend")
    skipped = run_expiry()  # the book is behind the wallet: nothing may be computed from it yet
    assert (skipped["wallets"], skipped["skipped"], skipped["expired_mc"]) == (1, 1, 0)
    settled(stream)
    assert by_source() == {"allocation": 50_000, "adjustment": 80_000}
    done = run_expiry()
    assert (done["expired_mc"], done["skipped"]) == (50_000, 0)
    assert settled(stream)["balance"] == 80_000


def test_a_debit_beyond_the_live_grants_draws_on_an_expired_one_still_there(stream, unit_feature):
    month_end = to_before_month_end(HOUR_MS)
    put_tier("mini", "50")
    subscribe("mini")
    adjust("10", "top-up")
    settled(stream)
    advance_clock(month_end - clock.now_ms() + 1)
    spend(30, "spend-30")  # the debit path picks no grants; the book covers it from both
    settled(stream)
    assert by_source() == {"allocation": 30_000}
    assert run_expiry()["expired_mc"] == 30_000
    assert settled(stream)["balance"] == 0


def test_an_admin_grant_expires_at_its_own_time(stream, unit_feature):
    adjust("5", "top-up")
    promo = grant("30", days=2)
    spend(12, "s")
    settled(stream)
    assert remaining()[promo["grant_id"]] == 18_000
    advance_clock(DAY_MS)
    assert run_expiry()["expired_mc"] == 0  # not yet
    advance_clock(DAY_MS + 1)
    report = run_expiry()
    assert report["expired_mc"] == 18_000
    (expiry,) = entries_of("expiry")
    assert expiry["metadata"]["grant_id"] == promo["grant_id"]
    assert expiry["reference"] == f"grant:{promo['grant_id']}"
    assert settled(stream)["balance"] == 5_000


# -- rollover -------------------------------------------------------------------------------


def test_rollover_cap_is_honoured_across_two_periods(stream, unit_feature):
    first_end = to_before_month_end(2 * DAY_MS)
    put_tier("growth", "100", {"type": "cap", "credits": "30"})
    first = subscribe("growth")
    spend(20, "m1")  # 80 of the first allocation left
    settled(stream)

    advance_clock(first_end - clock.now_ms() + HOUR_MS)
    report = run_expiry()
    assert (report["expired_mc"], report["rolled_over_mc"]) == (50_000, 30_000)
    (expiry,) = entries_of("expiry")
    second_end = period_end_ms(clock.period_of(first_end))
    assert expiry["amount"] == "-50"
    assert (expiry["metadata"]["rolled_over_mc"], expiry["metadata"]["rolled_until"]) == (30_000, clock.iso(second_end))
    settled(stream)
    book = repository.get_book(WALLET)
    (rolled,) = book.grants.values()
    assert (rolled.remaining, rolled.expires_ms, rolled.rolled) == (30_000, second_end, True)
    assert run_expiry()["expired_mc"] == 0  # once

    second = subscribe("growth")  # the second month's allocation
    assert second["period"] != first["period"] and second["allocated"] == "100"
    spend(10, "m2")  # both expire at the second month's end: the older (rolled) one goes first
    settled(stream)
    assert sorted(remaining().values()) == [20_000, 100_000]

    advance_clock(second_end - clock.now_ms() + HOUR_MS)
    report = run_expiry()
    # The rolled grant never rolls again (20 leave); the new one keeps its cap (70 leave, 30 stay).
    assert (report["expired_mc"], report["rolled_over_mc"]) == (90_000, 30_000)
    state = settled(stream)
    assert state["balance"] == 30_000  # never more than the cap carried
    assert by_source() == {"allocation": 30_000}
    assert sum(int(e["amount"]) for e in entries_of("expiry")) == -140


def test_an_allocation_carried_over_whole_posts_a_zero_expiry(stream, unit_feature):
    month_end = to_before_month_end(HOUR_MS)
    put_tier("small", "20", {"type": "cap", "credits": "50"})
    subscribe("small")
    spend(5, "s")
    settled(stream)
    advance_clock(month_end - clock.now_ms() + 1)
    report = run_expiry()
    assert (report["expired_mc"], report["rolled_over_mc"], report["entries"]) == (0, 15_000, 1)
    (expiry,) = entries_of("expiry")
    assert expiry["amount"] == "0"
    settled(stream)
    (rolled,) = repository.get_book(WALLET).grants.values()
    assert (rolled.remaining, rolled.rolled, rolled.expires_ms) == (15_000, True, period_end_ms(clock.period_of(month_end)))
    assert run_expiry()["entries"] == 0


# -- attribution is exactly once ------------------------------------------------------------


def test_redelivered_records_change_nothing(stream, unit_feature):
    grant("40", days=3)
    adjust("10", "top-up")
    spend(15, "s1")
    records = stream.pending()
    assert deliver(records) == {"batchItemFailures": []}
    book = repository.get_book(WALLET)
    for _ in range(2):
        assert deliver(records) == {"batchItemFailures": []}  # the whole batch again
    assert deliver(records[1:]) == {"batchItemFailures": []}  # or part of it
    assert repository.get_book(WALLET) == book
    assert by_source() == {"admin": 25_000, "adjustment": 10_000}
    settled(stream)


def test_a_change_after_one_that_failed_in_the_batch_waits_for_it(stream, unit_feature, monkeypatch):
    from tests.support import layer_modules

    adjust("50", "top-up")
    settled(stream)
    adjust("5", "bob", wallet_id=BOB.wallet_id)
    spend(5, "s1")
    spend(7, "s2")
    *bob, first, second = stream.pending()
    first_tx = first["dynamodb"]["NewImage"]["last_tx"]["S"]

    def failing_for_first(real):
        def get_entry(wallet_id: str, transaction_id: str):
            if transaction_id == first_tx:
                raise RuntimeError("throttled")  # e.g. the entry's read failed
            return real(wallet_id, transaction_id)
        return get_entry

    for ledger in layer_modules("tollgate.ledger.repository"):  # each function's own copy
        monkeypatch.setattr(ledger, "get_entry", failing_for_first(ledger.get_entry))
    reply = deliver([*bob, first, second])
    # The first failed; the second cannot be attributed before it; the rest of the batch is.
    assert reply == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in (first, second)]}
    assert by_source(BOB.wallet_id) == {"adjustment": 5_000}
    assert by_source() == {"adjustment": 50_000}
    assert entries_of("usage")[0]["balance_after"] is None  # nor stamped
    monkeypatch.undo()
    # Lambda delivers again from the failed record, in order.
    assert deliver([first, second]) == {"batchItemFailures": []}
    assert by_source() == {"adjustment": 38_000}
    assert [e["balance_after"] for e in entries_of("usage")] == ["38", "45"]
    settled(stream)
    settled(stream, BOB.wallet_id)


def test_a_change_lost_from_the_stream_does_not_stop_the_wallets_attribution(stream, unit_feature):
    promo = grant("10", days=1)
    adjust("50", "top-up")
    settled(stream)
    spend(5, "s1")
    spend(7, "s2")
    spend(1, "s3")
    _lost, second, third = stream.pending()  # the first was given up on after its retries (DLQ)
    assert deliver([second]) == {"batchItemFailures": []}
    # The book is resynchronised to the balance before the second change (what the lost one took is
    # drawn in order: the promotion first), then the second is attributed as usual.
    assert by_source() == {"adjustment": 48_000}  # 5 of the promotion by the lost change, 5 + 2 by s2
    assert deliver([third]) == {"batchItemFailures": []}
    assert by_source() == {"adjustment": 47_000}
    assert [e["balance_after"] for e in entries_of("usage")] == ["47", "48", None]  # the lost one: never stamped
    assert promo["grant_id"] not in remaining()
    settled(stream)


def test_the_entry_records_which_grants_it_moved(stream, unit_feature):
    from tollgate.ledger import repository as ledger

    promo = grant("10", days=1)
    base = adjust("10", "top-up")
    usage = spend(15, "s")
    settled(stream)
    assert ledger.get_entry(WALLET, usage["transaction_id"]).grants == {promo["grant_id"]: -10_000,
                                                                        base["transaction_id"]: -5_000}
    assert ledger.get_entry(WALLET, promo["grant_id"]).grants == {promo["grant_id"]: 10_000}


def test_a_wallet_from_before_grants_starts_its_book_with_its_balance(stream, unit_feature):
    adjust("70", "old-money")
    stream.pending()  # delivered before grants were kept: the consumer never attributed it
    spend(20, "s")
    settled(stream)
    assert remaining() == {"balance": 50_000}
    assert wallet_view()["grants"] == [{"grant_id": "balance", "source": "balance", "remaining": "50",
                                        "expires_at": None, "priority": 0}]


# -- the wallet view ------------------------------------------------------------------------


def test_the_wallet_shows_its_tier_grants_and_what_expires_soon(stream, unit_feature):
    empty = wallet_view()
    assert (empty["tier"], empty["next_allocation_at"], empty["grants"], empty["expiring_soon"]) == (None, None, [],
                                                                                                      "0")
    month_end = to_before_month_end(3 * DAY_MS)
    put_tier("mini", "50")
    subscribe("mini")
    soon = grant("5.5", days=2, priority=3, key="soon")
    later = grant("30", days=20, key="later")
    adjust("12.25", "top-up")
    settled(stream)
    view = wallet_view()
    assert (view["tier"], view["next_allocation_at"]) == ("mini", clock.iso(month_end))
    assert view["balance"] == "97.75"
    allocation = entries_of("allocation")[0]["transaction_id"]
    top_up = entries_of("adjustment")[0]["transaction_id"]
    assert view["grants"] == [
        {"grant_id": soon["grant_id"], "source": "admin", "remaining": "5.5", "expires_at": soon["expires_at"],
         "priority": 3},
        {"grant_id": allocation, "source": "allocation", "remaining": "50", "expires_at": clock.iso(month_end),
         "priority": 0},
        {"grant_id": later["grant_id"], "source": "admin", "remaining": "30", "expires_at": later["expires_at"],
         "priority": 0},
        {"grant_id": top_up, "source": "adjustment", "remaining": "12.25", "expires_at": None, "priority": 0},
    ]
    assert view["expiring_soon"] == "55.5"  # the admin grant in 2 days and the allocation in 3
    admin_view = invoke("admin_get_wallet.json", caller=ADMIN, path=f"/v1/admin/wallets/{WALLET}",
                        path_params={"wallet_id": WALLET}).body
    assert admin_view == view
    subscribe(None)
    assert (wallet_view()["tier"], wallet_view()["next_allocation_at"]) == (None, None)


def test_another_persons_wallet_is_still_404(stream):
    grant("5")
    assert invoke("history_get_wallet.json", caller=BOB, query={"wallet_id": WALLET}).status == 404


# -- the admin grant route ------------------------------------------------------------------


def test_an_admin_grant_is_201_and_replays_once(stream):
    expires = clock.iso(clock.now_ms() + 5 * DAY_MS)
    body = {"amount": "30", "expires_at": expires, "priority": 7, "reason": "launch promo"}
    first = post_grant(body)
    assert first.status == 201, first
    assert first.body == {"grant_id": first.body["grant_id"], "wallet_id": WALLET, "amount": "30", "remaining": "30",
                          "expires_at": expires, "priority": 7, "source": "admin", "balance": "30"}
    again = post_grant(body)
    assert (again.status, again.body) == (201, first.body)
    conflict = post_grant({**body, "amount": "31"})
    assert (conflict.status, conflict.error_code) == (409, "idempotency_conflict"), conflict
    (entry,) = entries_of("grant")
    assert entry["metadata"] == {"expires_at": expires, "priority": 7}
    assert settled(stream)["balance"] == 30_000
    # After the expiry has passed the same request still replays (it does not become a 422).
    advance_clock(6 * DAY_MS)
    late = post_grant(body)
    assert (late.status, late.body["grant_id"]) == (201, first.body["grant_id"])


def test_an_admin_grant_without_expiry_or_key(stream):
    reply = post_grant({"amount": 12.5, "reason": "goodwill"}, key=None)
    assert reply.status == 201, reply
    assert (reply.body["expires_at"], reply.body["priority"], reply.body["amount"]) == (None, 0, "12.5")
    settled(stream)
    assert by_source() == {"admin": 12_500}


@pytest.mark.parametrize("body", [
    {"amount": "10", "expires_at": "2000-01-01T00:00:00Z", "reason": "x"},   # in the past
    {"amount": "10", "expires_at": "tomorrow", "reason": "x"},
    {"amount": "10", "expires_at": "2099-01-01T00:00:00", "reason": "x"},    # no offset: no instant
    {"amount": "10", "expires_at": "9999-12-31T23:59:59-23:59", "reason": "x"},  # past what is stored
    {"amount": "10", "expires_at": "0000-01-01T00:00:00Z", "reason": "x"},   # before what is stored
    {"amount": "10", "expires_at": "0001-01-01T00:00:00+01:00", "reason": "x"},
    {"amount": "-10", "reason": "x"},
    {"amount": "0", "reason": "x"},
    {"amount": 0, "reason": "x"},
    {"amount": "1.0001", "reason": "x"},                                     # too many decimals
    {"amount": "1e3", "reason": "x"},
    {"amount": "10", "priority": -1, "reason": "x"},
    {"amount": "10", "priority": 1001, "reason": "x"},
    {"amount": "10", "priority": "5", "reason": "x"},
    {"amount": "10", "priority": 1.5, "reason": "x"},
    {"amount": "10", "priority": True, "reason": "x"},
    {"amount": "10", "reason": ""},
    {"amount": "10"},
    {"amount": "10", "reason": "x", "extra": 1},
])
def test_a_bad_grant_is_422_and_changes_nothing(stream, body):
    adjust("5", "before")
    settled(stream)
    before = (ledger_state(WALLET), repository.get_book(WALLET))
    reply = post_grant(body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert stream.drain() == {"batchItemFailures": []}
    assert (ledger_state(WALLET), repository.get_book(WALLET)) == before


def test_the_expiry_in_the_past_names_its_field(stream):
    reply = post_grant({"amount": "10", "expires_at": clock.iso(clock.now_ms()), "reason": "x"})
    assert (reply.status, reply.body["error"]["field"]) == (422, "expires_at"), reply


def test_only_admins_grant(stream):
    reply = post_grant({"amount": "10", "reason": "x"}, caller=ALICE)
    assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert ledger_state(WALLET)["entries"] == []


def test_a_bad_wallet_id_is_422(stream):
    reply = post_grant({"amount": "10", "reason": "x"}, wallet_id="nobody")
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply


def test_the_sample_events_work(stream):
    reply = invoke("admin_post_grant.json", caller=ADMIN)
    assert reply.status == 201, reply
    assert (reply.body["wallet_id"], reply.body["priority"], reply.body["source"]) == ("user:alice", 10, "admin")
    assert run_expiry() == {"wallets": 0, "expired_mc": 0, "rolled_over_mc": 0, "entries": 0, "skipped": 0,
                            "failed": 0, "announced": 0}
