"""A sharded wallet's grants (issue 16): one grant book fed by every shard's chain of changes, through
the real ledger stream handler (the template's filter), whatever the order between shards, however
often a batch is delivered; the hourly expiry through the real grant_expiry handler, exactly once,
held to every shard's last change. After each step: the ledger reconciles and, once the stream is
drained, the grants sum to the balance."""

from __future__ import annotations

import pytest

from tests.functional.test_grants import (
    HOUR_MS,
    adjust,
    by_source,
    deliver,
    entries_of,
    grant,
    put_tier,
    remaining,
    run_expiry,
    settled,
    spend,
    stream,  # noqa: F401 - a fixture
    subscribe,
    to_before_month_end,
    unit_feature,  # noqa: F401 - a fixture
)
from tests.functional.test_sharded_wallets import reshard
from tests.support import ADMIN, ALICE, advance_clock, assert_ledger_invariant, invoke, layer_modules
from tollgate import clock, keys
from tollgate.amounts import parse_credits
from tollgate.grants import repository
from tollgate.ledger import posting

WALLET = ALICE.wallet_id


def sharded(count: int) -> None:
    reply = reshard(count)
    assert reply.status == 200, reply


def on_other_shards(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The records of shard 0 (the wallet item) and those of the other shard items: two stream
    shards, which Lambda reads apart, with no order between them."""
    zero = [r for r in records if r["dynamodb"]["Keys"]["SK"]["S"] != keys.SHARD_SK]
    return zero, [r for r in records if r["dynamodb"]["Keys"]["SK"]["S"] == keys.SHARD_SK]


def test_debits_on_every_shard_draw_from_the_grants_in_order_and_each_entry_says_what_it_moved(stream, unit_feature):  # noqa: F811
    promo = grant("40", days=3)
    base = adjust("100", "top-up")
    settled(stream)
    sharded(4)
    used = [spend(10, f"s-{n}") for n in range(6)]
    assert len({keys.home_shard(u["transaction_id"], 4) for u in used}) > 1  # more than one chain
    state = settled(stream)
    assert state["balance"] == 80_000
    # The promotion expires soonest: the first 40 credits came from it, the rest from the adjustment.
    assert remaining() == {base["transaction_id"]: 80_000}
    moved = [posting.find_entry(u["transaction_id"]) for u in used]
    assert sum(sum(e.grants.values()) for e in moved) == -60_000
    assert sum(e.grants.get(promo["grant_id"], 0) for e in moved) == -40_000
    # Each slotted entry is in the day index (analytics, exports) but has no balance_after: no one
    # item's stream orders a sharded wallet's debits.
    assert all(e.gsi2pk and e.balance_after is None for e in moved)
    book = repository.get_book(WALLET)
    assert book.chains is not None and book.deficit_mc == 0 and not book.drifted


def test_a_debit_seen_before_the_credit_that_funded_it_is_settled_by_that_credit(stream, unit_feature):  # noqa: F811
    adjust("10", "first")
    settled(stream)
    sharded(4)
    adjust("50", "second")  # shard 0
    used = [spend(15, f"s-{n}") for n in range(3)]  # the wallet goes to 15; shards refilled from shard 0
    zero, others = on_other_shards(stream.pending())
    assert others, "some debits paid on shards 1-3"
    assert deliver(others) == {"batchItemFailures": []}  # the other shards' stream shard first
    early = repository.get_book(WALLET)
    assert early.deficit_mc > 0 and early.total() == 0  # what they took: not in any grant seen yet
    assert deliver(zero) == {"batchItemFailures": []}
    state = settled(stream)
    assert state["balance"] == 15_000
    book = repository.get_book(WALLET)
    assert (book.deficit_mc, book.total(), book.balance) == (0, 15_000, 15_000)
    assert by_source() == {"adjustment": 15_000}
    assert len(used) == 3


def test_redelivered_batches_change_neither_the_book_nor_the_aggregates(stream, unit_feature):  # noqa: F811
    adjust("100", "top-up")
    settled(stream)
    sharded(4)
    for n in range(5):
        spend(7, f"s-{n}")
    records = stream.pending()
    assert deliver(records) == {"batchItemFailures": []}
    book = repository.get_book(WALLET)
    spent = _spent_today()
    zero, others = on_other_shards(records)
    for batch in (records, others, zero, records[2:]):
        assert deliver(batch) == {"batchItemFailures": []}
    assert repository.get_book(WALLET) == book
    assert _spent_today() == spent == (35_000, 5)
    settled(stream)


def test_a_book_written_meanwhile_by_another_invocation_is_read_again_not_overwritten(stream, unit_feature, monkeypatch):  # noqa: F811
    adjust("100", "top-up")
    settled(stream)
    sharded(4)
    for n in range(6):
        spend(5, f"s-{n}")
    zero, others = on_other_shards(stream.pending())
    stale = repository.get_book(WALLET)
    assert deliver(zero) == {"batchItemFailures": []}  # one invocation writes shard 0's changes...
    reads = []

    def as_read_before(real):
        def get_book(wallet_id: str):
            reads.append(wallet_id)
            return stale if len(reads) == 1 else real(wallet_id)  # ...after the other one read the book
        return get_book

    for module in layer_modules("tollgate.grants.sharded"):  # each function's own copy
        monkeypatch.setattr(module.repository, "get_book", as_read_before(module.repository.get_book))
    assert deliver(others) == {"batchItemFailures": []}
    monkeypatch.undo()
    assert len(reads) == 2  # its write over the version it read failed; it read again and applied again
    state = settled(stream)
    assert state["balance"] == 70_000 and by_source() == {"adjustment": 70_000}


def test_a_change_lost_from_one_shards_chain_is_resynchronised_once_every_shard_is_caught_up(stream, unit_feature):  # noqa: F811
    adjust("100", "top-up")
    settled(stream)
    sharded(4)
    for n in range(8):
        spend(3, f"s-{n}")
    zero, others = on_other_shards(stream.pending())
    debits = [r for r in others if _last_tx(r, "NewImage") != _last_tx(r, "OldImage")]
    lost = debits[0]  # a debit's record, given up on after its retries (the DLQ)
    assert deliver(zero) == {"batchItemFailures": []}
    assert deliver([r for r in others if r is not lost]) == {"batchItemFailures": []}
    book = repository.get_book(WALLET)
    # Every shard's last change is applied: the book was made to sum to their balance, the lost debit's
    # 3 credits drawn in order.
    assert not book.drifted and book.net() == book.balance == 76_000
    settled(stream)


def _last_tx(record: dict, image: str) -> str | None:
    return ((record["dynamodb"].get(image) or {}).get("last_tx") or {}).get("S")


def test_an_allocation_on_a_sharded_wallet_expires_exactly_once_and_only_once_the_book_is_current(stream, unit_feature):  # noqa: F811
    month_end = to_before_month_end(2 * HOUR_MS)
    put_tier("mini", "50")
    subscribe("mini")
    adjust("200", "top-up")
    settled(stream)
    sharded(4)
    for n in range(8):  # 40 spent: all of it from the allocation, which expires first
        spend(5, f"s-{n}")
    settled(stream)
    assert by_source() == {"allocation": 10_000, "adjustment": 200_000}

    advance_clock(month_end - clock.now_ms() + 1)
    spend(20, "late")  # after the expiry, not yet attributed: the run must wait for it
    skipped = run_expiry()
    assert (skipped["wallets"], skipped["skipped"], skipped["expired_mc"]) == (1, 1, 0)
    settled(stream)  # the late debit drew on the adjustment (the allocation has expired)
    assert by_source() == {"allocation": 10_000, "adjustment": 180_000}

    first = run_expiry()
    assert (first["expired_mc"], first["entries"], first["skipped"]) == (10_000, 1, 0)
    assert run_expiry()["expired_mc"] == 0  # before the stream caught up: skipped, nothing twice
    state = settled(stream)
    assert state["balance"] == 180_000
    assert by_source() == {"adjustment": 180_000}
    again = run_expiry()
    assert (again["wallets"], again["expired_mc"]) == (0, 0)
    (expiry,) = entries_of("expiry")
    assert (expiry["amount"], expiry["metadata"]["source"]) == ("-10", "allocation")
    view = invoke("admin_get_wallet_shards.json", caller=ADMIN)
    assert view.body["balance"] == "180"


def test_an_expiry_larger_than_shard_0_holds_is_gathered_from_the_other_shards(stream, unit_feature):  # noqa: F811
    promo = grant("90", days=1)
    adjust("10", "top-up")
    settled(stream)
    sharded(4)
    for n in range(12):  # debits on shards 1-3 pull credits off shard 0 in rebalances
        spend(1, f"s-{n}")
    settled(stream)
    before = invoke("admin_get_wallet_shards.json", caller=ADMIN).body
    assert parse_credits(before["shards"][0]["available"]) < 78_000, before  # shard 0 alone cannot pay the expiry
    advance_clock(2 * 86_400_000)
    done = run_expiry()
    assert (done["expired_mc"], done["entries"]) == (78_000, 1), (done, before)
    state = settled(stream)
    assert state["balance"] == 10_000
    assert promo["grant_id"] not in remaining()
    assert_ledger_invariant(WALLET)


def test_reconciliation_checks_a_sharded_wallets_grants_against_its_shards(stream, unit_feature):  # noqa: F811
    from tollgate.grants.models import GrantBookItem
    from tollgate.reconciliation import service as reconciliation

    adjust("100", "top-up")
    settled(stream)
    sharded(4)
    for n in range(4):
        spend(5, f"s-{n}")
    settled(stream)
    assert reconciliation.check_wallet(WALLET) == []
    item = GrantBookItem.get(*keys.grant_book(WALLET))
    gid = next(iter(item.grants))
    item.grants[gid]["rem"] -= 1_000  # a corrupted book
    item.save()
    (finding,) = reconciliation.check_wallet(WALLET)
    assert (finding.kind, finding.expected, finding.actual) == ("grants_sum", 80_000, 79_000)


@pytest.mark.parametrize("shards", [2, 16])
def test_resharding_keeps_the_book_following_every_shard(stream, unit_feature, shards):  # noqa: F811
    adjust("100", "top-up")
    settled(stream)
    sharded(4)
    for n in range(4):
        spend(2, f"a-{n}")
    sharded(shards)  # retired shards' credits go to shard 0 without a change of the book
    for n in range(4):
        spend(3, f"b-{n}")
    state = settled(stream)
    assert state["balance"] == 80_000 and by_source() == {"adjustment": 80_000}


def _spent_today() -> tuple[int, int]:
    """What the analytics aggregates say of today's usage: credits spent (mc) and debits."""
    day = clock.iso(clock.now_ms())[:10]
    reply = invoke("analytics_get_analytics.json", caller=ADMIN, query={"from": day, "to": day})
    assert reply.status == 200, reply
    totals = reply.body["totals"]
    return parse_credits(totals["credits_out"]["usage"]), totals["debits"]

