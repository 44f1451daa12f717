"""Analytics: aggregates the ledger stream keeps equal a recomputation from the ledger, whatever the
redelivery; admin analytics, top features and developers, the user's usage summary and the
cross-wallet listing read them (and the day-sharded index), never the ledger.

Money arrives through the real handlers (Stripe and Paystack purchases through the webhooks
function, debits through the deduction function, adjustments, grants, a tier allocation through
the admin function, a refund by webhook, an expiry by the hourly job); the table's stream (moto) is
handed to the real ledger_stream handler as Lambda would, in batches, and then again. The expected
figures are recomputed here from a scan of the ledger's entries, independently of the tally code.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import pytest

from tests import streams
from tests.functional.developers import CAROL, SUMMARIZE, spend
from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, FakeGateway, webhook_body
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    LambdaContext,
    advance_clock,
    advance_clock_to_noon,
    assert_ledger_invariant,
    invoke,
    load_function,
    set_gateway,
)
from tollgate import clock
from tollgate.amounts import format_credits
from tollgate.gateways import PaymentStatus, Refund

DAY_MS = 86_400_000


# -- the workload -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def midday(aws):
    """Every test here reads days: from noon UTC, a test's writes fall on the dates it expects
    (one "today", or consecutive days a DAY_MS apart) at whatever time it runs."""
    advance_clock_to_noon()


@pytest.fixture
def shop(aws, developer_catalog):
    fakes = {"stripe": FakeGateway("stripe"), "paystack": FakeGateway("paystack")}
    for name, fake in fakes.items():
        set_gateway(name, fake)
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 USD cents
    yield fakes
    for name in fakes:
        set_gateway(name, None)


def webhook(gateway: str, **event):
    return invoke(f"webhooks_{gateway}.json", caller=None, raw_body=webhook_body(**event),
                  headers={SIGNATURE_HEADER: GOOD_SIGNATURE})


def buy(shop, caller, gateway: str, currency: str, key: str) -> dict:
    started = invoke("checkout_post_checkout.json", caller=caller, headers={"idempotency-key": key},
                     body={"package_id": "starter", "gateway": gateway, "currency": currency})
    assert started.status == 201, started
    purchase = started.body
    if gateway == "paystack":
        shop["paystack"].verified[purchase["reference"]] = PaymentStatus(
            reference=purchase["reference"], succeeded=True, status="success", amount=purchase["amount"],
            currency=purchase["currency"])
    paid = webhook(gateway, event_id=f"evt-{key}", kind="payment_succeeded", purchase_id=purchase["purchase_id"],
                   reference=purchase["reference"], amount=purchase["amount"], currency=purchase["currency"])
    assert paid.body["outcome"] == "granted", paid
    return purchase


def adjust(wallet_id: str, amount: str, key: str) -> None:
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "analytics"},
                   headers={"idempotency-key": key}, path=f"/v1/admin/wallets/{wallet_id}/adjustments",
                   path_params={"wallet_id": wallet_id})
    assert reply.status == 201, reply


def grant(wallet_id: str, amount: str, days: int, key: str) -> None:
    reply = invoke("admin_post_grant.json", caller=ADMIN, headers={"idempotency-key": key},
                   body={"amount": amount, "reason": "promo", "expires_at": clock.iso(clock.now_ms() + days * DAY_MS)},
                   path=f"/v1/admin/wallets/{wallet_id}/grants", path_params={"wallet_id": wallet_id})
    assert reply.status == 201, reply


def allocate(wallet_id: str) -> None:
    reply = invoke("admin_put_tier.json", caller=ADMIN, path="/v1/admin/tiers/growth",
                   path_params={"tier_id": "growth"},
                   body={"name": "Growth", "monthly_credits": "20", "rollover": {"type": "none"}})
    assert reply.status == 200, reply
    reply = invoke("admin_put_wallet_tier.json", caller=ADMIN, body={"tier_id": "growth"},
                   path=f"/v1/admin/wallets/{wallet_id}/tier", path_params={"wallet_id": wallet_id})
    assert reply.status == 200, reply


def mixed_workload(shop, stream: streams.LedgerStream) -> list[list[dict]]:
    """Three days of money moving; the stream's records of each day, delivered as a batch each (and returned)."""
    batches = []

    def delivered() -> None:
        batches.append(stream.pending())
        assert streams.deliver("ledger_stream", batches[-1]) == {"batchItemFailures": []}

    buy(shop, ALICE, "stripe", "USD", "a-1")
    buy(shop, BOB, "paystack", "NGN", "b-1")
    spend(ALICE, "ai-insight", "u-1")
    spend(ALICE, "summarize", "u-2")
    spend(BOB, "summarize", "u-3")
    grant(ALICE.wallet_id, "5", 1, "g-1")  # expires tomorrow
    delivered()

    advance_clock(DAY_MS + 60_000)
    purchase = buy(shop, ALICE, "stripe", "USD", "a-2")
    refund = webhook("stripe", event_id="r-1", kind="refund", purchase_id=None, reference=purchase["reference"],
                     refunds=[Refund("re_1", 250)])
    assert refund.body["outcome"] == "clawed_back", refund
    spend(ALICE, "ai-insight", "u-4")
    adjust(BOB.wallet_id, "12.5", "adj-1")
    adjust(BOB.wallet_id, "-2.25", "adj-2")
    allocate(BOB.wallet_id)
    delivered()

    advance_clock(DAY_MS)
    expiry = load_function("grant_expiry").lambda_handler({}, LambdaContext())
    assert expiry["expired_mc"] > 0, expiry
    spend(BOB, "ai-insight", "u-6")
    spend(ALICE, "summarize", "u-7")
    delivered()
    return batches


# -- recomputation from the ledger (independent of tollgate.analytics) -------------------------


def ledger_entries(aws) -> list[dict]:
    from tollgate.data import from_attr

    items, kwargs = [], {"TableName": os.environ["TABLE_NAME"]}
    while True:
        page = aws.scan(**kwargs)
        items += [{k: from_attr(v) for k, v in raw.items()} for raw in page["Items"]
                  if raw.get("entity", {}).get("S") == "ledger_entry"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def recomputed(entries: list[dict]) -> dict:
    days: dict[str, Counter] = defaultdict(Counter)
    features: dict[str, Counter] = defaultdict(Counter)
    developers: dict[str, Counter] = defaultdict(Counter)
    wallets: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    active: dict[str, set] = defaultdict(set)
    for e in entries:
        day, kind, amount, meta = e["created_at"][:10], e["type"], e["amount"], e.get("metadata") or {}
        c = days[day]
        c[("in" if amount > 0 else "out", kind)] += abs(amount)
        if kind == "purchase":
            c["purchases"] += 1
            c[("revenue", meta["currency"], meta["gateway"])] += meta["amount"]
        if kind == "refund":
            c[("refunds", meta["currency"])] += meta["refunded_minor"]
        if kind == "usage":
            c["debits"] += 1
            active[day].add(e["wallet_id"])
            features[e["feature"]].update(spent=-amount, calls=1)
            if e.get("developer_id"):
                developers[e["developer_id"]].update(spent=-amount, calls=1)
            wallets[e["wallet_id"]][day].update(spent=-amount)
            wallets[e["wallet_id"]][e["feature"]].update(spent=-amount, calls=1)
    return {"days": days, "features": features, "developers": developers, "wallets": wallets, "active": active}


def credits(mc: int) -> str:
    return format_credits(mc)


def get(sample: str, caller=ADMIN, **query) -> dict:
    reply = invoke(sample, caller=caller, query={k.rstrip("_"): v for k, v in query.items()})
    assert reply.status == 200, reply
    return reply.body


def assert_figures(figures: dict, c: Counter) -> None:
    for side, name in (("credits_in", "in"), ("credits_out", "out")):
        expected = {kind: v for (s, kind), v in ((k, v) for k, v in c.items() if isinstance(k, tuple) and len(k) == 2)
                    if s == name}
        shown = {k: v for k, v in figures[side].items() if k not in ("total", "other") and v != "0"}
        assert shown == {k: credits(v) for k, v in expected.items() if v}, (side, figures[side])
        assert figures[side]["total"] == credits(sum(expected.values()))
    revenue = {(m["currency"], m["gateway"]): m["amount_minor"] for m in figures["revenue"]}
    assert revenue == {(k[1], k[2]): v for k, v in c.items() if isinstance(k, tuple) and k[0] == "revenue"}
    refunds = {m["currency"]: m["amount_minor"] for m in figures["refunds"]}
    assert refunds == {k[1]: v for k, v in c.items() if isinstance(k, tuple) and k[0] == "refunds"}
    assert (figures["purchases"], figures["debits"]) == (c["purchases"], c["debits"])


# -- tests ---------------------------------------------------------------------------------------


def test_aggregates_equal_a_recomputation_from_the_ledger_whatever_the_redelivery(aws, shop):
    stream = streams.LedgerStream(aws)
    batches = mixed_workload(shop, stream)
    # The same batches again, and all of them as one: replays, counted once.
    for batch in batches:
        assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert streams.deliver("ledger_stream", [r for b in batches for r in b]) == {"batchItemFailures": []}

    entries = ledger_entries(aws)
    assert {e["type"] for e in entries} >= {"purchase", "usage", "refund", "adjustment", "grant", "allocation",
                                            "expiry"}
    for wallet in (ALICE.wallet_id, BOB.wallet_id):
        assert_ledger_invariant(wallet)
    expected = recomputed(entries)
    days = sorted(expected["days"])
    first, last = days[0], days[-1]
    assert len(days) == 3

    body = get("analytics_get_analytics.json", from_=first, to=last, group_by="day")
    assert [p["period"] for p in body["series"]] == days
    total: Counter = Counter()
    for point in body["series"]:
        day = point["period"]
        assert_figures(point, expected["days"][day])
        assert point["active_wallets"] == len(expected["active"][day])
        total.update(expected["days"][day])
    assert_figures(body["totals"], total)

    month = get("analytics_get_analytics.json", from_=first, to=last, group_by="month")
    assert len(month["series"]) == len({d[:7] for d in days})
    assert month["totals"] == body["totals"]
    if len(month["series"]) == 1:  # distinct wallets in the month, not wallet-days
        assert month["series"][0]["active_wallets"] == len(set().union(*expected["active"].values()))

    top = get("analytics_get_feature_usage.json", from_=first, to=last, limit="10")["data"]
    assert {f["feature"]: (f["spent"], f["calls"]) for f in top} == {
        k: (credits(c["spent"]), c["calls"]) for k, c in expected["features"].items()}
    assert [f["feature"] for f in top] == sorted(expected["features"], key=lambda k: -expected["features"][k]["spent"])
    devs = get("analytics_get_developer_usage.json", from_=first, to=last)["data"]
    assert devs == [{"developer_id": "dev-carol", "spent": credits(expected["developers"]["dev-carol"]["spent"]),
                     "calls": expected["developers"]["dev-carol"]["calls"]}]

    for caller in (ALICE, BOB):
        summary = get("history_get_usage_summary.json", caller=caller, days="3")
        mine = expected["wallets"][caller.wallet_id]
        assert [d["date"] for d in summary["by_day"]] == days
        assert {d["date"]: d["spent"] for d in summary["by_day"]} == {d: credits(mine[d]["spent"]) for d in days}
        assert {f["feature"]: (f["spent"], f["calls"]) for f in summary["by_feature"]} == {
            k: (credits(c["spent"]), c["calls"]) for k, c in mine.items() if k not in days}

    listed, cursor = [], None
    while True:
        page = get("analytics_list_transactions.json", from_=first, to=last, limit="4",
                   **({"cursor": cursor} if cursor else {}))
        listed += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    newest_first = sorted(entries, key=lambda e: (e["created_at"], e["transaction_id"]), reverse=True)
    assert [t["transaction_id"] for t in listed] == [e["transaction_id"] for e in newest_first]
    assert all(t["balance_after"] is not None for t in listed)


def test_a_batch_whose_aggregates_fail_to_write_counts_nothing_and_once_on_redelivery(aws, shop, monkeypatch):
    from tests.support import layer_modules

    stream = streams.LedgerStream(aws)
    buy(shop, ALICE, "stripe", "USD", "a-1")
    spend(ALICE, "ai-insight", "u-1")
    batch = stream.pending()

    def failing(original):
        def commit(self):
            raise RuntimeError("DynamoDB is having a moment")
        return commit

    for data in layer_modules("tollgate.data.transactions"):
        monkeypatch.setattr(data.Transaction, "commit", failing(data.Transaction.commit))
    with pytest.raises(RuntimeError):
        streams.deliver("ledger_stream", batch)
    monkeypatch.undo()
    today = clock.iso(clock.now_ms())[:10]
    body = get("analytics_get_analytics.json", from_=today, to=today)
    assert (body["totals"]["purchases"], body["totals"]["debits"]) == (0, 0)  # nothing written with the books

    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    body = get("analytics_get_analytics.json", from_=today, to=today)
    assert (body["totals"]["purchases"], body["totals"]["debits"]) == (1, 1)
    assert body["totals"]["revenue"] == [{"currency": "USD", "gateway": "stripe", "amount_minor": 1000}]


def test_the_listing_filters_by_type_feature_and_wallet(aws, shop):
    stream = streams.LedgerStream(aws)
    buy(shop, ALICE, "stripe", "USD", "a-1")
    buy(shop, BOB, "stripe", "USD", "b-1")
    for n in range(9):  # 18 debits + 2 purchases in one day's 16 shards: some shard holds more than a page
        spend(ALICE, "ai-insight", f"ua-{n}")
        spend(BOB, "summarize", f"ub-{n}")
    assert stream.drain() == {"batchItemFailures": []}
    today = clock.iso(clock.now_ms())[:10]
    entries = ledger_entries(aws)
    shards = Counter(e["GSI2PK"] for e in entries)
    assert max(shards.values()) > 2

    def listed(**query) -> list[dict]:
        out, cursor = [], None
        while True:
            page = get("analytics_list_transactions.json", from_=today, to=today, limit="2", **query,
                       **({"cursor": cursor} if cursor else {}))
            out += page["data"]
            if not (cursor := page["next_cursor"]):
                return out

    newest_first = sorted(entries, key=lambda e: (e["created_at"], e["transaction_id"]), reverse=True)
    assert [t["transaction_id"] for t in listed()] == [e["transaction_id"] for e in newest_first]
    assert [t["type"] for t in listed(type="purchase")] == ["purchase", "purchase"]
    assert {t["wallet_id"] for t in listed(feature="summarize")} == {BOB.wallet_id}
    alice = listed(wallet_id=ALICE.wallet_id)
    assert [t["type"] for t in alice] == ["usage"] * 9 + ["purchase"]
    assert len(listed(wallet_id=ALICE.wallet_id, type="usage", feature="ai-insight")) == 9
    assert listed(wallet_id=BOB.wallet_id, feature="ai-insight") == []

    page = get("analytics_list_transactions.json", from_=today, to=today, limit="2")
    foreign = invoke("analytics_list_transactions.json", caller=ADMIN,
                     query={"from": today, "to": today, "limit": "2", "type": "usage", "cursor": page["next_cursor"]})
    assert (foreign.status, foreign.body["error"]["code"]) == (422, "validation_error")


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-11-30"}, "to"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "1969-12-31", "to": "1970-01-02"}, "from"),
    ({"from": "2026-1-01"}, None),
    ({"to": "yesterday"}, None),
    ({"group_by": "week"}, None),
])
def test_bad_ranges_are_422_and_change_nothing(aws, query, field):
    for sample in ("analytics_get_analytics.json", "analytics_get_feature_usage.json",
                   "analytics_list_transactions.json"):
        if "group_by" in query and sample != "analytics_get_analytics.json":
            continue
        reply = invoke(sample, caller=ADMIN, query=query)
        assert reply.status == 422, (sample, reply)
        assert reply.body["error"]["code"] == "validation_error"
        if field:
            assert reply.body["error"]["field"] == field


@pytest.mark.parametrize("sample", ["analytics_get_analytics.json", "analytics_get_feature_usage.json",
                                    "analytics_get_developer_usage.json", "analytics_list_transactions.json"])
def test_analytics_are_for_admins_only(aws, sample):
    assert invoke(sample, caller=ALICE).status == 403
    assert invoke(sample, caller=CAROL).status == 403


def test_a_person_reads_their_own_usage_summary_only(aws, shop):
    stream = streams.LedgerStream(aws)
    buy(shop, ALICE, "stripe", "USD", "a-1")
    spend(ALICE, "summarize", "u-1")
    assert stream.drain() == {"batchItemFailures": []}
    mine = get("history_get_usage_summary.json", caller=ALICE)
    assert len(mine["by_day"]) == 30
    assert mine["by_day"][-1] == {"date": clock.iso(clock.now_ms())[:10], "spent": SUMMARIZE["pricing"]["credits"]}
    assert mine["by_feature"] == [{"feature": "summarize", "spent": "7.777", "calls": 1}]
    refused = invoke("history_get_usage_summary.json", caller=BOB, query={"wallet_id": ALICE.wallet_id})
    assert refused.status == 404, refused  # as for history: another person's wallet is not there for them
    for bad in ({"days": "0"}, {"days": "367"}, {"days": "x"}):
        assert invoke("history_get_usage_summary.json", caller=ALICE, query=bad).status == 422
    admin = get("history_get_usage_summary.json", caller=ADMIN, wallet_id=ALICE.wallet_id, days="1")
    assert admin["by_feature"] == mine["by_feature"]


def test_many_wallets_and_features_in_one_batch_split_into_transactions_and_still_add_up(aws, shop, fund,
                                                                                         monkeypatch):
    """With a transaction limit of 16 items, a batch of 5 wallets on up to 4 features each needs several
    transactions, and a wallet whose book and tally reach 6 items goes out alone, mid-batch (the limit
    less 10): the figures are the same."""
    from tests.support import layer_modules

    for stream_module in layer_modules("tollgate.grants.stream"):
        monkeypatch.setattr(stream_module, "_ITEMS_PER_TRANSACTION", 16)
    stream = streams.LedgerStream(aws)
    people = [ALICE, BOB, CAROL] + [type(ALICE)(f"analytics-{n}") for n in range(2)]
    features = ["ai-insight", "ai-analysis", "dashboard-refresh", "summarize"]
    for person in people:
        fund(person.wallet_id, "500")
    for n, person in enumerate(people):
        for m, feature in enumerate(features[: 1 + (n % 4)]):
            spend(person, feature, f"u-{n}-{m}")
    batch = stream.pending()

    committed = []
    for stream_module in layer_modules("tollgate.grants.stream"):
        original = stream_module.StreamBatch._commit

        def counting(self, group, delta, _original=original):
            committed.append((len(group), delta.size()))
            return _original(self, group, delta)

        monkeypatch.setattr(stream_module.StreamBatch, "_commit", counting)
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert len(committed) > 1
    assert all(books + items <= 16 for books, items in committed)
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}  # replays: nothing more

    expected = recomputed(ledger_entries(aws))
    (day,) = expected["days"]
    body = get("analytics_get_analytics.json", from_=day, to=day)
    assert_figures(body["totals"], expected["days"][day])
    assert body["series"][0]["active_wallets"] == len(people)
    top = get("analytics_get_feature_usage.json", from_=day, to=day)["data"]
    assert {f["feature"]: (f["spent"], f["calls"]) for f in top} == {
        k: (credits(c["spent"]), c["calls"]) for k, c in expected["features"].items()}
