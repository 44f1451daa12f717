"""Grants, without AWS: the draw order, what each kind of balance change does to a book, and the
expiry plan (what leaves, what carries over)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tollgate import clock, ids
from tollgate.grants.attribution import Book, Change, Grant, period_end_ms, purchase_grant_id, rollover_cap
from tollgate.grants.expiry import Expiry, plan, rolled_until, transaction_id
from tollgate.grants.schemas import GrantIn

W = "user:a"
NOW = clock.parse_rfc3339("2026-11-20T12:00:00Z")
DAY = 86_400_000
NOV_END = clock.parse_rfc3339("2026-12-01T00:00:00Z")
DEC_END = clock.parse_rfc3339("2027-01-01T00:00:00Z")


def change(tx: str, kind: str, amount: int, *, at: int = NOW, reference: str | None = None, **metadata) -> Change:
    return Change(transaction_id=tx, entry_type=kind, amount=amount, created_ms=at, wallet_id=W,
                  reference=reference, metadata=metadata)


def book_of(*changes: Change) -> Book:
    book = Book(wallet_id=W)
    for c in changes:
        book.apply(c)
    return book


def left(book: Book) -> dict[str, int]:
    return {gid: g.remaining for gid, g in book.grants.items()}


class TestDrawOrder:
    def test_soonest_expiry_then_priority_then_oldest_non_expiring_last(self):
        book = Book(wallet_id=W)
        book.add("never-old", "purchase", 1, "t")
        book.add("week", "admin", 1, "t", expires_ms=NOW + 7 * DAY, priority=1000)
        book.add("day-low", "admin", 1, "t", expires_ms=NOW + DAY, priority=1)
        book.add("day-high", "admin", 1, "t", expires_ms=NOW + DAY, priority=5)
        book.add("day-high-later", "admin", 1, "t", expires_ms=NOW + DAY, priority=5)
        book.add("never-new", "adjustment", 1, "t", priority=7)
        book.add("never-newest", "adjustment", 1, "t", priority=7)
        assert [g.grant_id for g in book.draw_order(NOW)] == [
            "day-high", "day-high-later", "day-low", "week", "never-new", "never-newest", "never-old"]

    def test_grants_past_their_expiry_come_last(self):
        book = Book(wallet_id=W)
        book.add("gone-later", "allocation", 1, "t", expires_ms=NOW - 1)
        book.add("gone", "allocation", 1, "t", expires_ms=NOW - DAY)
        book.add("never", "purchase", 1, "t")
        book.add("edge", "admin", 1, "t", expires_ms=NOW)  # expiry is inclusive
        assert [g.grant_id for g in book.draw_order(NOW)] == ["never", "gone", "gone-later", "edge"]


class TestCredits:
    def test_each_kind_becomes_its_grant(self):
        book = book_of(
            change("tx_p", "purchase", 100_000),
            change("tx_a", "allocation", 50_000, period="2026-11", rollover={"type": "cap", "credits_mc": 20_000}),
            change("tx_g", "grant", 30_000, expires_at="2026-11-25T00:00:00.000Z", priority=4),
            change("tx_adj", "adjustment", 5_000),
            change("tx_r", "reversal", 2_000, reference="tx_usage"),
        )
        grants = book.grants
        assert {g: (x.source, x.remaining, x.expires_ms, x.priority, x.rollover_cap) for g, x in grants.items()} == {
            "tx_p": ("purchase", 100_000, None, 0, None),
            "tx_a": ("allocation", 50_000, NOV_END, 0, 20_000),
            "tx_g": ("admin", 30_000, clock.parse_rfc3339("2026-11-25T00:00:00Z"), 4, None),
            "tx_adj": ("adjustment", 5_000, None, 0, None),
            "tx_r": ("reversal", 2_000, None, 0, None),
        }
        assert [g.order for g in grants.values()] == [0, 1, 2, 3, 4]
        assert book.total() == 187_000

    def test_an_allocation_without_a_rollover_or_a_readable_period(self):
        book = book_of(change("tx_a", "allocation", 1, period="2026-12"), change("tx_b", "allocation", 1))
        assert (book.grants["tx_a"].expires_ms, book.grants["tx_a"].rollover_cap) == (DEC_END, None)
        assert book.grants["tx_b"].expires_ms is None

    def test_the_credit_is_recorded_against_its_grant(self):
        assert Book(wallet_id=W).apply(change("tx_p", "purchase", 7)) == {"tx_p": 7}


class TestDebits:
    def test_a_debit_spans_grants_in_order_never_below_zero(self):
        book = book_of(change("tx_p", "purchase", 100_000),
                       change("tx_a", "allocation", 50_000, period="2026-11"),
                       change("tx_g", "grant", 30_000, expires_at="2026-11-25T00:00:00Z"))
        moved = book.apply(change("tx_u", "usage", -60_000))
        assert moved == {"tx_g": -30_000, "tx_a": -30_000}
        assert left(book) == {"tx_p": 100_000, "tx_a": 20_000}  # the exhausted grant is dropped
        assert book.shortfall_mc == 0

    def test_what_no_grant_covers_is_a_shortfall(self):
        book = book_of(change("tx_p", "purchase", 10))
        assert book.apply(change("tx_u", "usage", -15)) == {"tx_p": -10}
        assert (left(book), book.shortfall_mc) == ({}, 5)

    def test_a_zero_change_moves_nothing(self):
        book = book_of(change("tx_p", "purchase", 10))
        assert book.apply(change("tx_u", "usage", 0)) == {}
        assert left(book) == {"tx_p": 10}

    def test_a_refund_draws_from_its_purchase_first(self):
        pid = purchase_grant_id(W, "purchase:pur_1")
        assert pid == ids.located_id("tx", W, "purchase", "pur_1")
        book = book_of(change(pid, "purchase", 100), change("tx_g", "grant", 50, expires_at="2026-11-21T00:00:00Z"))
        assert book.apply(change("tx_rf", "refund", -120, reference="purchase:pur_1")) == {pid: -100, "tx_g": -20}
        assert left(book) == {"tx_g": 30}

    def test_a_chargeback_of_an_unknown_purchase_draws_in_order(self):
        book = book_of(change("tx_g", "grant", 50, expires_at="2026-11-21T00:00:00Z"), change("tx_p", "purchase", 10))
        assert book.apply(change("tx_cb", "chargeback", -20, reference="purchase:other")) == {"tx_g": -20}

    def test_a_refund_reversal_returns_to_its_purchase_up_to_what_it_granted(self):
        pid = purchase_grant_id(W, "purchase:pur_1")
        book = book_of(change(pid, "purchase", 100), change("tx_u", "usage", -30),
                       change("tx_rf", "refund", -50, reference="purchase:pur_1"))
        assert left(book) == {pid: 20}
        assert book.apply(change("tx_back", "refund_reversal", 90, reference="purchase:pur_1")) == {
            pid: 80, "tx_back": 10}
        assert left(book) == {pid: 100, "tx_back": 10}
        gone = book_of(change("tx_x", "refund_reversal", 5, reference="purchase:spent"))
        assert (gone.grants["tx_x"].source, gone.grants["tx_x"].remaining) == ("refund_reversal", 5)


class TestExpiryEntries:
    def test_an_expiry_draws_from_its_grant_only(self):
        book = book_of(change("tx_p", "purchase", 100), change("tx_a", "allocation", 50, period="2026-10"))
        assert book.apply(change("tx_e", "expiry", -30, at=NOV_END, grant_id="tx_a")) == {"tx_a": -30}
        assert left(book) == {"tx_p": 100, "tx_a": 20}
        assert book.expired_mc == 30

    def test_an_expiry_taking_more_than_its_grant_keeps_the_sum(self):
        book = book_of(change("tx_p", "purchase", 100), change("tx_a", "allocation", 50, period="2026-10"))
        assert book.apply(change("tx_e", "expiry", -60, grant_id="tx_a")) == {"tx_a": -50, "tx_p": -10}

    def test_a_rolled_over_grant_moves_its_expiry_once(self):
        book = book_of(change("tx_a", "allocation", 50, period="2026-11", rollover={"type": "cap", "credits_mc": 20}))
        book.apply(change("tx_e", "expiry", -30, grant_id="tx_a", rolled_over_mc=20,
                          rolled_until="2027-01-01T00:00:00.000Z"))
        grant = book.grants["tx_a"]
        assert (grant.remaining, grant.expires_ms, grant.rolled) == (20, DEC_END, True)


class TestBook:
    def test_next_expiry_and_due_and_expiring_soon(self):
        book = book_of(change("tx_p", "purchase", 5), change("tx_a", "allocation", 7, period="2026-11"),
                       change("tx_g", "grant", 3, expires_at="2026-11-21T00:00:00Z"))
        assert book.next_expiry() == clock.parse_rfc3339("2026-11-21T00:00:00Z")
        assert book.due(NOW) == []
        assert [g.grant_id for g in book.due(NOV_END)] == ["tx_g", "tx_a"]
        assert book.expiring_within(NOW) == 3
        assert book.expiring_within(NOW, 11 * DAY) == 10
        assert Book(wallet_id=W).next_expiry() is None

    def test_reconcile_repairs_drift_either_way(self):
        book = book_of(change("tx_p", "purchase", 10))
        assert book.reconcile(15, "tx_x", "2026-11-20T00:00:00.000Z") == 5
        assert left(book) == {"tx_p": 10, "balance-tx_x": 5}
        assert book.reconcile(12, "tx_y", "2026-11-20T00:00:00.000Z") == -3
        assert book.total() == 12
        assert book.reconcile(12, "tx_z", "2026-11-20T00:00:00.000Z") == 0

    @given(st.builds(Grant, grant_id=st.text(min_size=1, max_size=5), source=st.sampled_from(["purchase", "admin"]),
                     amount=st.integers(0, 10**12), remaining=st.integers(0, 10**12),
                     expires_ms=st.none() | st.integers(0, 10**13), priority=st.integers(0, 1000),
                     created_at=st.text(max_size=5), order=st.integers(0, 10**6),
                     rollover_cap=st.none() | st.integers(1, 10**9), rolled=st.booleans()))
    def test_a_grant_round_trips_through_its_stored_map(self, grant):
        assert Grant.from_map(grant.grant_id, grant.to_map()) == grant

    @given(st.lists(st.tuples(st.sampled_from(["purchase", "grant", "allocation", "usage", "refund"]),
                              st.integers(1, 10_000), st.integers(0, 40)), max_size=30))
    def test_the_grants_sum_to_the_balance_while_it_stays_non_negative(self, steps):
        book, balance = Book(wallet_id=W), 0
        for n, (kind, amount, days) in enumerate(steps):
            signed = -amount if kind in ("usage", "refund") else amount
            if balance + signed < 0:
                continue
            at = NOW + days * DAY // 4
            book.apply(change(f"tx_{n}", kind, signed, at=at, period="2026-11",
                              expires_at=clock.iso(NOW + days * DAY), reference="purchase:tx_0"))
            balance += signed
            assert book.total() == balance
            assert all(g.remaining > 0 for g in book.grants.values())
        assert book.shortfall_mc == 0


class TestHelpers:
    def test_period_end(self):
        assert period_end_ms("2026-11") == NOV_END
        assert period_end_ms("2026-12") == DEC_END
        assert period_end_ms(None) is None
        assert period_end_ms("nonsense") is None

    def test_rollover_cap(self):
        assert rollover_cap({"type": "cap", "credits_mc": 5}) == 5
        assert rollover_cap({"type": "none"}) is None
        assert rollover_cap({"type": "cap"}) is None
        assert rollover_cap(None) is None

    def test_an_expiry_id_derives_from_the_grant_and_the_state(self):
        one = transaction_id(W, "tx_a", "tx_last")
        assert one == transaction_id(W, "tx_a", "tx_last")
        assert one != transaction_id(W, "tx_a", "tx_other") != transaction_id(W, "tx_b", "tx_last")
        assert ids.locator_of(one) == ids.locator(W)


class TestExpiryPlan:
    def grant(self, remaining: int, *, cap: int | None = None, rolled: bool = False) -> Grant:
        return Grant(grant_id="tx_a", source="allocation", amount=100, remaining=remaining, expires_ms=NOV_END,
                     rollover_cap=cap, rolled=rolled)

    def test_without_rollover_everything_available_leaves(self):
        g = self.grant(40)
        assert plan(g, 1_000) == Expiry(g, 40)
        assert plan(g, 25) == Expiry(g, 25)  # the rest is held: later
        assert plan(g, 0) is None

    def test_the_cap_carries_over_to_the_end_of_the_next_period(self):
        g = self.grant(40, cap=30)
        assert rolled_until(g) == DEC_END
        assert plan(g, 1_000) == Expiry(g, 10, 30, DEC_END)
        small = self.grant(20, cap=30)
        assert plan(small, 0) == Expiry(small, 0, 20, DEC_END)  # carried whole: a zero entry

    def test_held_credits_delay_the_rollover(self):
        g = self.grant(40, cap=30)
        assert plan(g, 4) == Expiry(g, 4)  # 6 more must leave before anything rolls
        assert plan(g, 0) is None

    def test_a_rolled_grant_expires_whole(self):
        g = self.grant(25, cap=30, rolled=True)
        assert plan(g, 1_000) == Expiry(g, 25)


class TestGrantIn:
    def test_defaults_and_parsing(self):
        body = GrantIn.model_validate({"amount": "12.5", "reason": "promo"})
        assert (body.amount, body.expires_at, body.priority) == (12_500, None, 0)
        body = GrantIn.model_validate({"amount": 3, "reason": "r", "priority": 1000,
                                       "expires_at": "2030-01-01T00:00:00+01:00"})
        assert (body.amount, body.priority, body.expires_at) == (3_000, 1000, "2030-01-01T00:00:00+01:00")

    @pytest.mark.parametrize("body", [
        {"amount": "0", "reason": "r"}, {"amount": "-1", "reason": "r"}, {"amount": "0.0001", "reason": "r"},
        {"amount": 1.5, "reason": "r"}, {"amount": "1", "reason": "r", "priority": -1},
        {"amount": "1", "reason": "r", "priority": 1001}, {"amount": "1", "reason": "r", "priority": "1"},
        {"amount": "1", "reason": "r", "priority": False}, {"amount": "1", "reason": "r", "expires_at": "soon"},
        {"amount": "1", "reason": "r", "expires_at": 1}, {"amount": "1", "reason": ""}, {"amount": "1"},
    ])
    def test_refuses(self, body):
        with pytest.raises(ValidationError):
            GrantIn.model_validate(body)


@pytest.mark.parametrize("expires_ms", [-62_135_596_800_000, -1, 10**16])
def test_a_grant_expiry_outside_what_an_instant_can_be_written_as_is_clamped(expires_ms):
    """The book and the wallet view write every expiry as ISO-8601: 1970 to 9999, never an overflow."""
    from tollgate import clock
    from tollgate.grants.attribution import Book

    book = Book(wallet_id="user:alice")
    grant = book.add("g", "allocation", 1_000, "2026-12-01T00:00:00.000Z", expires_ms=expires_ms)
    assert 0 <= grant.expires_ms <= clock.MAX_ISO_MS
    assert grant.expires_at == clock.iso(grant.expires_ms)
