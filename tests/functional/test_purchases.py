"""Packages, settings, checkout and purchase settlement (grant, failure, refund, dispute)."""

from __future__ import annotations

import pytest

from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, FakeGateway, webhook_body
from tests.support import (
    ADMIN,
    ALICE,
    BOB,
    SERVICE,
    Caller,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    patch_layer,
    set_gateway,
)
from tollgate.gateways import PaymentStatus, Refund


@pytest.fixture
def gateways(aws):
    fakes = {"stripe": FakeGateway("stripe"), "paystack": FakeGateway("paystack")}
    for name, fake in fakes.items():
        set_gateway(name, fake)
    yield fakes
    for name in fakes:
        set_gateway(name, None)


@pytest.fixture
def shop(gateways):
    reply = invoke("admin_put_package.json", caller=ADMIN)
    assert reply.status == 200, reply
    invoke("admin_put_package.json", caller=ADMIN, path="/v1/admin/packages/pro", path_params={"package_id": "pro"},
           body={"name": "Pro", "credits": "1000", "prices": {"USD": 8000}})
    invoke("admin_put_package.json", caller=ADMIN, path="/v1/admin/packages/old", path_params={"package_id": "old"},
           body={"name": "Old", "credits": "5", "prices": {"USD": 100}, "active": False})
    assert invoke("admin_put_settings.json", caller=ADMIN).status == 200
    return gateways


def checkout(body, *, caller=ALICE, key="co-1"):
    headers = {"idempotency-key": key} if key else {}
    return invoke("checkout_post_checkout.json", caller=caller, body=body, headers=headers,
                  drop_headers=() if key else ("idempotency-key",))


def webhook(gateway, signature=GOOD_SIGNATURE, **event):
    return invoke(f"webhooks_{gateway}.json", caller=None, raw_body=webhook_body(**event),
                  headers={SIGNATURE_HEADER: signature})


def buy(shop, package="starter", gateway="stripe", currency="USD", key="co-1", caller=ALICE):
    reply = checkout({"package_id": package, "gateway": gateway, "currency": currency}, key=key, caller=caller)
    assert reply.status == 201, reply
    return reply.body


def paid(purchase, event_id="evt_1", amount=None, currency=None, kind="payment_succeeded", gateway="stripe"):
    return webhook(gateway, event_id=event_id, kind=kind, purchase_id=purchase["purchase_id"],
                   reference=purchase["reference"], amount=purchase["amount"] if amount is None else amount,
                   currency=currency or purchase["currency"])


# -- packages and settings ------------------------------------------------------------------


def test_packages_list_active_ones_with_server_prices(shop):
    reply = invoke("checkout_get_packages.json", caller=BOB)
    assert reply.status == 200
    assert [p["package_id"] for p in reply.body["data"]] == ["starter", "pro"]
    starter = reply.body["data"][0]
    assert starter["credits"] == "100"
    assert starter["prices"] == {"USD": 1000, "NGN": 1500000}
    everything = invoke("admin_list_packages.json", caller=ADMIN)
    assert {p["package_id"] for p in everything.body["data"]} == {"starter", "pro", "old"}


def test_settings_round_trip(shop):
    reply = invoke("admin_get_settings.json", caller=ADMIN)
    assert reply.status == 200
    assert reply.body["price_per_credit"] == {"USD": 10, "NGN": 1500}
    assert reply.body["min_credits"] == "10"
    assert reply.body["max_credits"] == "100000"


@pytest.mark.parametrize("body", [
    {"name": "X", "credits": "0", "prices": {"USD": 100}},
    {"name": "X", "credits": "10", "prices": {}},
    {"name": "X", "credits": "10", "prices": {"usd": 100}},
    {"name": "X", "credits": "10", "prices": {"USD": 0}},
    {"name": "X", "credits": "10", "prices": {"USD": 9.99}},
    {"name": "X", "credits": "10", "prices": {"USD": "1000"}},
])
def test_bad_packages_are_422(shop, body):
    reply = invoke("admin_put_package.json", caller=ADMIN, body=body, path="/v1/admin/packages/x",
                   path_params={"package_id": "x"})
    assert reply.status == 422, reply


def test_package_and_settings_routes_need_admin(shop):
    for sample in ("admin_put_package.json", "admin_list_packages.json", "admin_get_settings.json",
                   "admin_put_settings.json"):
        assert invoke(sample, caller=ALICE).status == 403


# -- checkout -----------------------------------------------------------------------------


def test_stripe_checkout_creates_a_pending_purchase_and_a_payment_intent(shop):
    body = buy(shop)
    assert body["status"] == "pending"
    assert (body["gateway"], body["amount"], body["currency"], body["credits"]) == ("stripe", 1000, "USD", "100")
    assert body["client_secret"].startswith("pi_fake_")
    assert body["wallet_id"] == "user:alice"
    request, key = shop["stripe"].created[0]
    assert request.amount == 1000 and request.currency == "USD"
    assert request.metadata["purchase_id"] == body["purchase_id"]
    assert key == f"tollgate-checkout-{body['purchase_id']}"
    assert ledger_state("user:alice")["balance"] == 0  # nothing granted until the payment succeeds


def test_hosted_stripe_checkout_behind_a_setting(shop):
    invoke("admin_put_settings.json", caller=ADMIN, body={"price_per_credit": {"USD": 10}, "stripe_hosted_checkout": True,
                                                         "success_url": "https://app.example/ok",
                                                         "cancel_url": "https://app.example/cancel"})
    body = buy(shop)
    assert body["checkout_url"].startswith("https://")
    request, _ = shop["stripe"].created[0]
    assert (request.hosted, request.success_url, request.cancel_url) == (True, "https://app.example/ok",
                                                                         "https://app.example/cancel")
    # Its webhook names the purchase in metadata: the session id is no obstacle to the grant.
    assert paid(body, event_id="evt_hosted").body["outcome"] == "granted"
    assert assert_ledger_invariant("user:alice")["balance"] == 100_000


def test_hosted_stripe_checkout_without_a_success_url_is_refused_and_changes_nothing(shop):
    before = invoke("admin_get_settings.json", caller=ADMIN).body
    reply = invoke("admin_put_settings.json", caller=ADMIN, body={"price_per_credit": {"USD": 10},
                                                                 "stripe_hosted_checkout": True})
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert "success_url" in reply.body["error"]["message"]
    assert invoke("admin_get_settings.json", caller=ADMIN).body == before


def test_paystack_checkout_in_kobo_with_the_jwt_email(shop):
    body = buy(shop, gateway="paystack", currency="NGN")
    assert (body["amount"], body["currency"]) == (1500000, "NGN")
    assert body["authorization_url"].startswith("https://")
    assert body["reference"] == body["purchase_id"]
    request, _ = shop["paystack"].created[0]
    assert request.email == "alice@example.com"


def test_paystack_needs_an_email(shop):
    nobody = Caller("noemail")
    reply = checkout({"package_id": "starter", "gateway": "paystack", "currency": "NGN"}, caller=nobody)
    assert reply.status == 422
    ok = checkout({"package_id": "starter", "gateway": "paystack", "currency": "NGN", "email": "n@example.com"},
                  caller=nobody, key="co-2")
    assert ok.status == 201, ok
    assert shop["paystack"].created[-1][0].email == "n@example.com"


def test_custom_credits_are_priced_by_the_server(shop):
    reply = checkout({"credits": "12.345", "gateway": "stripe", "currency": "USD"})
    assert reply.status == 201, reply
    # 12.345 credits x 10 cents = 123.45 cents -> rounded up to 124.
    assert (reply.body["amount"], reply.body["credits"]) == (124, "12.345")


@pytest.mark.parametrize("body", [
    {"credits": "5", "gateway": "stripe", "currency": "USD"},  # below min_credits
    {"credits": "100001", "gateway": "stripe", "currency": "USD"},  # above max
    {"credits": "50", "gateway": "stripe", "currency": "EUR"},  # no price in EUR
    {"package_id": "pro", "gateway": "stripe", "currency": "NGN"},  # package not priced in NGN
    {"package_id": "old", "gateway": "stripe", "currency": "USD"},  # not on sale
    {"package_id": "starter", "credits": "10", "gateway": "stripe", "currency": "USD"},
    {"gateway": "stripe", "currency": "USD"},
    {"package_id": "starter", "gateway": "paypal", "currency": "USD"},
    {"package_id": "starter", "gateway": "stripe", "currency": "usd"},
    {"package_id": "starter", "gateway": "stripe", "currency": "USD", "amount": 1},  # a client never sets a price
])
def test_bad_checkouts_are_refused_and_start_nothing(shop, body):
    reply = checkout(body)
    assert reply.status in (404, 422), reply
    assert shop["stripe"].created == []


def test_unknown_package_is_404(shop):
    assert checkout({"package_id": "nope", "gateway": "stripe", "currency": "USD"}).status == 404


def test_checkout_replay_returns_the_same_purchase_and_one_payment(shop):
    first = buy(shop, key="same")
    again = buy(shop, key="same")
    assert again == first
    assert len(shop["stripe"].created) == 1
    conflict = checkout({"package_id": "pro", "gateway": "stripe", "currency": "USD"}, key="same")
    assert conflict.status == 409


def test_gateway_failure_is_503_and_a_retry_starts_the_payment(shop):
    shop["stripe"].fail_next = True  # no answer from the gateway: may pass, so a retryable 503
    failed = checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="retry")
    assert (failed.status, failed.error_code, failed.headers.get("Retry-After")) == (503, "try_again", "1")
    retried = checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="retry")
    assert retried.status == 201
    assert retried.body["client_secret"]


def test_per_user_checkout_rate_limit_is_429(shop):
    invoke("admin_put_settings.json", caller=ADMIN, body={"price_per_credit": {"USD": 10}, "checkouts_per_hour": 2})
    assert checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="a").status == 201
    assert checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="b").status == 201
    limited = checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="c")
    assert limited.status == 429
    assert limited.error_code == "rate_limited"
    # A replay is not a new checkout; another person has their own budget.
    assert checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, key="a").status == 201
    assert checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, caller=BOB).status == 201


def test_service_keys_cannot_checkout(shop):
    assert checkout({"package_id": "starter", "gateway": "stripe", "currency": "USD"}, caller=SERVICE).status == 403


def test_purchases_are_listed_for_their_owner_and_all_for_admins(shop):
    mine = buy(shop, key="p1")
    buy(shop, key="p2", caller=BOB)
    alice = invoke("checkout_list_purchases.json", caller=ALICE)
    assert [p["purchase_id"] for p in alice.body["data"]] == [mine["purchase_id"]]
    assert alice.body["data"][0]["client_secret"] is None  # lists never repeat secrets
    assert invoke("checkout_list_purchases.json", caller=ALICE, query={"wallet_id": "user:bob"}).status == 404
    everyone = invoke("checkout_list_purchases.json", caller=ADMIN)
    assert len(everyone.body["data"]) == 2
    one = invoke("checkout_list_purchases.json", caller=ADMIN, query={"wallet_id": "user:alice"})
    assert [p["purchase_id"] for p in one.body["data"]] == [mine["purchase_id"]]
    first = invoke("checkout_list_purchases.json", caller=ADMIN, query={"limit": "1"})
    assert len(first.body["data"]) == 1 and first.body["next_cursor"]
    rest = invoke("checkout_list_purchases.json", caller=ADMIN, query={"limit": "1", "cursor": first.body["next_cursor"]})
    assert {p["purchase_id"] for p in first.body["data"] + rest.body["data"]} == {
        p["purchase_id"] for p in everyone.body["data"]}
    # A cursor is bound to what it lists: an admin's all-wallets cursor is not alice's.
    assert invoke("checkout_list_purchases.json", caller=ALICE,
                  query={"cursor": first.body["next_cursor"]}).status == 422
    assert invoke("checkout_list_purchases.json", caller=ALICE, query={"cursor": "%%%"}).status == 422
    other = invoke("checkout_get_purchase.json", caller=BOB, path=f"/v1/purchases/{mine['purchase_id']}",
                   path_params={"purchase_id": mine["purchase_id"]})
    assert other.status == 404


# -- settlement ---------------------------------------------------------------------------


def test_payment_grants_once_whatever_the_retries(shop):
    purchase = buy(shop)
    for _ in range(5):
        reply = paid(purchase, event_id="evt_same")
        assert reply.status == 200
    # A second, different event for the same payment (e.g. checkout.session.completed).
    assert paid(purchase, event_id="evt_other").body["outcome"] == "already_granted"
    state = assert_ledger_invariant("user:alice")
    assert state["balance"] == 100_000
    assert state["entries"] == [100_000]
    listed = invoke("checkout_get_purchase.json", path=f"/v1/purchases/{purchase['purchase_id']}",
                    path_params={"purchase_id": purchase["purchase_id"]})
    assert listed.body["status"] == "paid"
    history = invoke("history_get_history.json").body["data"]
    assert history[0]["type"] == "purchase"
    assert history[0]["amount"] == "100"
    assert history[0]["reference"] == f"purchase:{purchase['purchase_id']}"


def test_duplicate_delivery_is_recognised(shop):
    purchase = buy(shop)
    assert paid(purchase, event_id="evt_x").body["outcome"] == "granted"
    assert paid(purchase, event_id="evt_x").body["outcome"] == "duplicate"


def test_wrong_amount_or_currency_grants_nothing_and_flags(shop):
    purchase = buy(shop)
    assert paid(purchase, event_id="e1", amount=999).body["outcome"] == "flagged_mismatch"
    assert paid(purchase, event_id="e2", currency="EUR").body["outcome"] == "flagged_mismatch"
    assert ledger_state("user:alice")["balance"] == 0
    flagged = invoke("checkout_list_purchases.json", caller=ADMIN).body["data"][0]
    assert flagged["flagged"].startswith("paid ")
    assert flagged["status"] == "pending"


def test_failure_marks_failed_and_a_later_success_still_completes(shop):
    purchase = buy(shop)
    assert paid(purchase, event_id="f1", kind="payment_failed").body["outcome"] == "marked_failed"
    assert ledger_state("user:alice")["balance"] == 0
    assert paid(purchase, event_id="s1").body["outcome"] == "granted"
    assert ledger_state("user:alice")["balance"] == 100_000
    # A late failure never undoes a grant.
    assert paid(purchase, event_id="f2", kind="payment_failed").body["outcome"] == "ignored_not_pending"
    assert assert_ledger_invariant("user:alice")["balance"] == 100_000


def test_refunds_claw_back_in_proportion_once_each(shop):
    purchase = buy(shop)
    paid(purchase)
    refund = dict(event_id="r1", kind="refund", purchase_id=None, reference=purchase["reference"],
                  refunds=[Refund("re_1", 250)])
    assert webhook("stripe", **refund).body["outcome"] == "clawed_back"
    assert webhook("stripe", **{**refund, "event_id": "r1b"}).body["outcome"] == "already_applied"
    state = assert_ledger_invariant("user:alice")
    assert state["balance"] == 75_000
    view = invoke("checkout_list_purchases.json").body["data"][0]
    assert (view["status"], view["refunded_amount"], view["credits_clawed_back"]) == ("partially_refunded", 250, "25")
    rest = dict(event_id="r2", kind="refund", reference=purchase["reference"], refunds=[Refund("re_2", 750)])
    webhook("stripe", **rest)
    assert assert_ledger_invariant("user:alice")["balance"] == 0
    assert invoke("checkout_list_purchases.json").body["data"][0]["status"] == "refunded"


def test_a_refund_never_takes_the_wallet_below_zero(shop, catalog):
    purchase = buy(shop)
    paid(purchase)
    for i in range(10):  # spend 90 of the 100 credits
        invoke("deduction_post_usage.json", body={"feature": "ai-insight"}, headers={"idempotency-key": f"u{i}"})
    webhook("stripe", event_id="r", kind="refund", reference=purchase["reference"], refunds=[Refund("re_all", 1000)])
    state = assert_ledger_invariant("user:alice")
    assert state["balance"] == 0
    view = invoke("checkout_list_purchases.json", caller=ADMIN).body["data"][0]
    assert (view["credits_clawed_back"], view["credits_unrecovered"]) == ("10", "90")
    assert view["status"] == "refunded"


def test_dispute_claws_back_and_a_won_dispute_restores(shop):
    purchase = buy(shop)
    paid(purchase)
    opened = webhook("stripe", event_id="d1", kind="dispute_opened", reference=purchase["reference"],
                     dispute_id="dp_1", dispute_amount=1000)
    assert opened.body["outcome"] == "clawed_back"
    assert assert_ledger_invariant("user:alice")["balance"] == 0
    assert invoke("checkout_list_purchases.json").body["data"][0]["status"] == "disputed"
    won = webhook("stripe", event_id="d2", kind="dispute_closed", reference=purchase["reference"],
                  dispute_id="dp_1", dispute_status="won")
    assert won.body["outcome"] == "dispute_won"
    assert assert_ledger_invariant("user:alice")["balance"] == 100_000
    assert invoke("checkout_list_purchases.json").body["data"][0]["status"] == "paid"


def test_refund_before_payment_is_flagged_not_applied(shop):
    purchase = buy(shop)
    reply = webhook("stripe", event_id="r0", kind="refund", reference=purchase["reference"], refunds=[Refund("re", 1)])
    assert reply.body["outcome"] == "flagged_not_paid"
    assert ledger_state("user:alice")["balance"] == 0


def test_forged_webhooks_change_nothing(shop):
    purchase = buy(shop)
    reply = webhook("stripe", signature="forged", event_id="evt", kind="payment_succeeded",
                    purchase_id=purchase["purchase_id"], reference=purchase["reference"], amount=1000, currency="USD")
    assert reply.status == 400
    assert reply.error_code == "invalid_signature"
    assert ledger_state("user:alice")["balance"] == 0


def test_unknown_events_are_acknowledged(shop):
    reply = webhook("stripe", event_id="evt_u", kind="ignored", raw_type="customer.created")
    assert reply.status == 200
    assert reply.body["outcome"] == "ignored"


def test_events_for_unknown_purchases_are_acknowledged(shop):
    reply = webhook("stripe", event_id="evt_z", kind="payment_succeeded", purchase_id="pur_nope", amount=1, currency="USD")
    assert (reply.status, reply.body["outcome"]) == (200, "unknown_purchase")


def test_paystack_success_is_confirmed_with_verify_before_granting(shop):
    purchase = buy(shop, gateway="paystack", currency="NGN")
    ref = purchase["reference"]
    shop["paystack"].verified[ref] = PaymentStatus(reference=ref, succeeded=False, status="abandoned",
                                                   amount=1500000, currency="NGN")
    reply = paid(purchase, event_id="charge.success:1", gateway="paystack")
    assert reply.body["outcome"] == "not_confirmed"
    assert ledger_state("user:alice")["balance"] == 0
    shop["paystack"].verified[ref] = PaymentStatus(reference=ref, succeeded=True, status="success",
                                                   amount=1500000, currency="NGN")
    assert paid(purchase, event_id="charge.success:2", gateway="paystack").body["outcome"] == "granted"
    assert assert_ledger_invariant("user:alice")["balance"] == 100_000


def test_a_stripe_event_cannot_pay_a_paystack_purchase(shop):
    purchase = buy(shop, gateway="paystack", currency="NGN")
    reply = webhook("stripe", event_id="x", kind="payment_succeeded", purchase_id=purchase["purchase_id"],
                    amount=1500000, currency="NGN")
    assert reply.body["outcome"] == "unknown_purchase"
    assert ledger_state("user:alice")["balance"] == 0


def test_a_refund_that_cannot_be_applied_now_is_503_and_applies_on_redelivery(shop, monkeypatch):
    from tollgate.data import TransactionCancelled

    purchase = buy(shop)
    paid(purchase)

    def always_conflicting(*args, **kwargs):
        raise TransactionCancelled({"purchase": "ConditionalCheckFailed"}, {})

    refund = dict(event_id="r-busy", kind="refund", reference=purchase["reference"], refunds=[Refund("re_b", 500)])
    with monkeypatch.context() as patch:
        # Every function's copy of settlement: the webhooks function's is the one that runs.
        patch_layer(patch, "tollgate.purchases.settlement", "_apply_claw_back", always_conflicting)
        busy = webhook("stripe", **refund)
        assert busy.status == 503
        assert busy.error_code == "try_again"
        assert ledger_state("user:alice")["balance"] == 100_000
    again = webhook("stripe", **refund)  # the gateway delivers it again: not a "duplicate"
    assert (again.status, again.body["outcome"]) == (200, "clawed_back")
    assert assert_ledger_invariant("user:alice")["balance"] == 50_000
