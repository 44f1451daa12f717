"""PaystackGateway's refunds over HTTP against the fake Paystack (tollgate_local.fake_paystack).

Paystack's ``POST /refund`` takes no idempotency key, so the adapter lists the transaction's
refunds first (by its id, from verifying the reference) and adopts the one whose
``merchant_note`` carries ``Tollgate refund <key>``. The fake answers a refund ``pending`` and
then, as its switch says, processes or fails it after the answer with Paystack's signed
``refund.*`` webhook; it can also lose an answer after making the refund. Every server here
is started on 127.0.0.1 by the test and stopped by it; webhooks are awaited on a condition,
never a sleep.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.servers import Delivery, WebhookReceiver
from tollgate.gateways import GatewayError, InvalidSignature, PaymentRequest, Refund, is_transient
from tollgate.gateways.paystack import PaystackGateway
from tollgate_local.fake_paystack import FakePaystack

KEY = "sk_test_refunds_integration_only"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "paystack"
PURCHASE = "pur_6f3kq2mzr7xa4bnc5d2eyh3uvi"
REFERENCE = "pur-6f3kq2mzr7xa4bnc5d2eyh3uvi"
PAID = 250_000


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePaystack]:
    with FakePaystack(secret_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("/v1/webhooks/paystack", "paystack-refunds-receiver") as rec:
        yield rec


@pytest.fixture
def paystack(fake: FakePaystack) -> FakePaystack:
    fake.reset()
    fake.webhook_url = None
    return fake


@pytest.fixture
def gateway(paystack: FakePaystack) -> PaystackGateway:
    return PaystackGateway(paystack.secret_key, api_base=paystack.endpoint, timeout=5)


@pytest.fixture
def paid(gateway: PaystackGateway, paystack: FakePaystack) -> str:
    """A paid transaction's reference (the requests that made it forgotten)."""
    session = gateway.create_payment(PaymentRequest(
        purchase_id=PURCHASE, amount=PAID, currency="NGN", description="Starter pack", email="ada@example.com",
        metadata={"purchase_id": PURCHASE}), idempotency_key="idem-1")
    paystack.complete(session.reference)
    paystack.clear_requests()
    return session.reference


def transaction_id(paystack: FakePaystack, reference: str = REFERENCE) -> int:
    return paystack.transaction(reference)["id"]


def refund_webhook(receiver: WebhookReceiver, amount: int, after: int) -> Delivery:
    """The ``refund.*`` webhook for ``amount`` on our transaction among the deliveries after
    the first ``after``, once it has arrived (Paystack's refund webhooks name no refund id)."""
    def ours(d: Delivery) -> bool:
        data = d.event["data"]
        return (any(d is later for later in receiver.deliveries[after:]) and d.event["event"].startswith("refund.")
                and data.get("transaction_reference") == REFERENCE and int(data.get("amount")) == amount)
    return receiver.wait_for(ours, f"refund webhook for {amount}")


def control(paystack: FakePaystack, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """A test control over HTTP, as a test in another process drives the fake."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{paystack.endpoint}/_tollgate/{path}", data=data,
                                     method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def api(paystack: FakePaystack, method: str, target: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    return paystack.handle(method, target, {"authorization": f"Bearer {KEY}"}, raw)


# -- the adapter: list, then adopt or create -------------------------------------------------


def test_a_refund_lists_the_transactions_refunds_then_creates_one(gateway, paystack, paid):
    paystack.refund_outcome("none")
    made = gateway.refund(paid, 100_000, idempotency_key="refund-rf_1", refund_id="rf_1")

    assert (made.amount, made.status, made.tollgate_refund_id, made.failure) == (100_000, "pending", None, None)
    verify, listing, post = paystack.requests
    assert (verify.method, verify.path) == ("GET", f"/transaction/verify/{REFERENCE}")
    assert (listing.method, listing.path, listing.query) == (
        "GET", "/refund", {"transaction": str(transaction_id(paystack)), "perPage": "100", "page": "1"})
    assert (post.method, post.path, post.status) == ("POST", "/refund", 200)
    assert post.body == {"transaction": REFERENCE, "amount": 100_000, "merchant_note": "Tollgate refund refund-rf_1"}
    assert "idempotency-key" not in post.headers  # Paystack has none: the note and the list stand in
    assert [(r["id"], r["amount"], r["status"]) for r in paystack.refunds()] == [(int(made.refund_id), 100_000,
                                                                                   "pending")]


def test_the_same_key_adopts_the_refund_already_made(gateway, paystack, paid):
    paystack.refund_outcome("none")
    first = gateway.refund(paid, 60_000, idempotency_key="refund-rf_2")
    again = gateway.refund(paid, 60_000, idempotency_key="refund-rf_2")
    assert again == first
    assert len(paystack.refunds()) == 1
    assert [r.method for r in paystack.requests_to("/refund")] == ["GET", "POST", "GET"]  # no second POST

    paystack.process_refund(first.refund_id)  # ends (no webhook_url: nobody hears of it)
    assert gateway.refund(paid, None, idempotency_key="refund-rf_2") == Refund(first.refund_id, 60_000, "succeeded")
    assert gateway.find_refund(paid, "refund-rf_2") == Refund(first.refund_id, 60_000, "succeeded")
    assert gateway.find_refund(paid, "refund-rf_20") is None  # a key is matched whole


def test_the_same_key_for_another_amount_is_a_permanent_refusal(gateway, paystack, paid):
    gateway.refund(paid, 10_000, idempotency_key="refund-rf_3")
    with pytest.raises(GatewayError, match="for another amount") as info:
        gateway.refund(paid, 20_000, idempotency_key="refund-rf_3")
    assert info.value.details["gateway_status"] == 400 and not is_transient(info.value)
    assert len(paystack.refunds()) == 1


def test_a_lost_answer_is_transient_and_the_retry_adopts_what_was_made(gateway, paystack, paid):
    paystack.refund_outcome("none")
    paystack.fail_next_refunds(500, after_creating=True)
    with pytest.raises(GatewayError) as info:
        gateway.refund(paid, 75_000, idempotency_key="refund-rf_4")
    assert info.value.details["gateway_status"] == 500 and is_transient(info.value)
    assert len(paystack.refunds()) == 1  # made all the same

    adopted = gateway.refund(paid, 75_000, idempotency_key="refund-rf_4")
    [made] = paystack.refunds()
    assert (adopted.refund_id, adopted.amount, adopted.status) == (str(made["id"]), 75_000, "pending")
    assert [r.status for r in paystack.requests if r.path == "/refund" and r.method == "POST"] == [500]


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False)])
def test_failures_are_classified_and_nothing_is_made(gateway, paystack, paid, status, transient):
    paystack.refund_outcome("none")
    paystack.fail_next_refunds(status)
    with pytest.raises(GatewayError) as info:
        gateway.refund(paid, 10_000, idempotency_key="refund-rf_5")
    assert (info.value.status, info.value.details["gateway_status"]) == (503 if transient else 502, status)
    assert is_transient(info.value) is transient
    assert KEY not in info.value.message
    assert paystack.refunds() == []
    assert gateway.refund(paid, 10_000, idempotency_key="refund-rf_5").status == "pending"  # then it goes through
    assert len(paystack.refunds()) == 1


def test_more_than_a_page_of_refunds_is_listed_through(gateway, paystack, paid, monkeypatch):
    from tollgate.gateways.paystack import refunds

    monkeypatch.setattr(refunds, "PER_PAGE", 2)
    paystack.refund_outcome("none")
    made = [gateway.refund(paid, 1_000, idempotency_key=f"refund-page-{n}") for n in range(5)]
    paystack.clear_requests()
    assert gateway.find_refund(paid, "refund-page-0") == made[0]  # the oldest: on the last page, newest first
    assert [r.query["page"] for r in paystack.requests_to("/refund")] == ["1", "2", "3"]


def test_bad_arguments_are_refused_before_any_call(gateway, paystack):
    for amount in (0, -5, True, 1.5):
        with pytest.raises(ValueError):
            gateway.refund(REFERENCE, amount, idempotency_key="refund-x")
    for key in ("", "k" * 190):
        with pytest.raises(ValueError):
            gateway.refund(REFERENCE, 100, idempotency_key=key)
    assert paystack.requests == []


# -- the fake: outcomes and webhooks -----------------------------------------------------------


@pytest.mark.parametrize(("outcome", "event_name", "kind", "status"), [
    ("processed", "refund.processed", "refund", "succeeded"),
    ("failed", "refund.failed", "refund_failed", "failed"),
])
def test_each_outcome_sends_its_signed_webhook_after_the_answer(gateway, paystack, paid, receiver,
                                                                outcome, event_name, kind, status):
    paystack.webhook_url = receiver.url
    paystack.refund_outcome(outcome)
    seen = len(receiver.deliveries)

    made = gateway.refund(paid, 40_000, idempotency_key=f"refund-{outcome}")
    assert made.status == "pending"  # the answer; the outcome follows it

    delivery = refund_webhook(receiver, 40_000, after=seen)
    event = gateway.parse_webhook(delivery.body, delivery.headers)  # signed as Paystack signs, verified by the adapter
    assert (event.kind, event.raw_type, event.reference, event.purchase_id) == (kind, event_name, REFERENCE, PURCHASE)
    assert [(r.amount, r.status) for r in event.refunds] == [(40_000, status)]
    assert (event.failure is None) is (outcome == "processed")
    assert _shape(delivery.event) == _shape(json.loads((FIXTURES / f"refund_{outcome}.json").read_text()))
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(delivery.body.replace(b"40000", b"400000"), delivery.headers)

    assert gateway.find_refund(paid, f"refund-{outcome}").status == status
    remaining = PAID - 40_000 if outcome == "processed" else PAID  # a failed refund gives its amount back
    paystack.refund_outcome("none")  # (no outcome left to play once the test is over)
    assert gateway.refund(paid, None, idempotency_key=f"refund-rest-{outcome}").amount == remaining


def test_with_no_outcome_the_refund_waits_for_a_webhook_sent_on_demand(gateway, paystack, paid, receiver):
    paystack.refund_outcome("none")
    made = gateway.refund(paid, 5_000, idempotency_key="refund-later")
    assert paystack.sent_webhooks == [] and paystack.refunds()[0]["status"] == "pending"
    seen = len(receiver.deliveries)

    assert paystack.send_refund_webhook(made.refund_id, "processed", url=receiver.url) == 200
    assert paystack.send_refund_webhook(made.refund_id, "processed", url=receiver.url) == 200  # a redelivery
    receiver.wait_for(lambda _: len(receiver.deliveries) >= seen + 2, "both deliveries")
    first, again = (gateway.parse_webhook(d.body, d.headers) for d in receiver.deliveries[seen:seen + 2])
    assert (first.kind, first.refunds[0].amount) == ("refund", 5_000)
    assert again.event_id == first.event_id  # the same event, delivered twice
    assert paystack.refunds()[0]["status"] == "processed"
    with pytest.raises(ValueError, match="already processed"):
        paystack.send_refund_webhook(made.refund_id, "failed", url=receiver.url)
    with pytest.raises(KeyError):
        paystack.send_refund_webhook(999, "processed", url=receiver.url)


def test_the_http_controls_drive_the_same_switches(gateway, paystack, paid, receiver):
    paystack.webhook_url = receiver.url
    assert control(paystack, "refunds/outcome", {"outcome": "none"}) == (200, {"outcome": "none"})
    assert control(paystack, "refunds/fail", {"status": 503, "count": 1, "after_creating": True})[0] == 200
    with pytest.raises(GatewayError) as info:
        gateway.refund(paid, 8_000, idempotency_key="refund-ctl")
    assert is_transient(info.value)
    made = gateway.refund(paid, 8_000, idempotency_key="refund-ctl")  # adopted

    status, listed = control(paystack, "refunds")
    assert status == 200 and [(str(r["id"]), r["status"]) for r in listed["data"]] == [(made.refund_id, "pending")]
    seen = len(receiver.deliveries)
    assert control(paystack, f"refunds/{made.refund_id}/webhook", {"outcome": "failed"}) == (
        200, {"receiver_status": 200})
    event = gateway.parse_webhook(*_raw(refund_webhook(receiver, 8_000, after=seen)))
    assert event.kind == "refund_failed"
    assert gateway.find_refund(paid, "refund-ctl").status == "failed"

    assert control(paystack, "refunds/outcome", {"outcome": "maybe"})[0] == 400
    assert control(paystack, "refunds/fail", {"status": 200})[0] == 400
    assert control(paystack, "refunds/424242/webhook", {"outcome": "processed"})[0] == 404
    assert control(paystack, "refunds/abc/webhook", {"outcome": "processed"})[0] == 404
    assert control(paystack, f"refunds/{made.refund_id}/webhook", {"outcome": "processed"})[0] == 400  # already failed
    assert all(not r.path.startswith("/_tollgate") for r in paystack.requests)  # controls are not API calls


def _raw(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return delivery.body, delivery.headers


# -- the fake: list and fetch ------------------------------------------------------------------


def test_the_fake_lists_a_transactions_refunds_newest_first_and_fetches_one(gateway, paystack, paid):
    paystack.refund_outcome("none")
    first = gateway.refund(paid, 1_000, idempotency_key="refund-a")
    second = gateway.refund(paid, 2_000, idempotency_key="refund-b")
    tx = transaction_id(paystack)

    for key in (tx, REFERENCE):  # Paystack documents the id; the fake takes the reference too
        status, listed = api(paystack, "GET", f"/refund?transaction={key}")
        assert status == 200
        assert [(str(r["id"]), r["amount"], r["transaction"]) for r in listed["data"]] == [
            (second.refund_id, 2_000, tx), (first.refund_id, 1_000, tx)]
        assert listed["meta"] == {"total": 2, "skipped": 0, "perPage": 50, "page": 1, "pageCount": 1}
    assert api(paystack, "GET", "/refund?transaction=9999")[1]["data"] == []
    assert api(paystack, "GET", "/refund?currency=GHS")[1]["data"] == []
    page = api(paystack, "GET", f"/refund?transaction={tx}&perPage=1&page=2")[1]
    assert [str(r["id"]) for r in page["data"]] == [first.refund_id]
    assert page["meta"] == {"total": 2, "skipped": 1, "perPage": 1, "page": 2, "pageCount": 2}
    assert api(paystack, "GET", "/refund?perPage=0")[0] == 400

    status, fetched = api(paystack, "GET", f"/refund/{first.refund_id}")
    assert status == 200 and fetched["message"] == "Refund retrieved"
    assert (fetched["data"]["amount"], fetched["data"]["status"], fetched["data"]["merchant_note"]) == (
        1_000, "pending", "Tollgate refund refund-a")
    assert api(paystack, "GET", "/refund/424242") == (404, {"status": False, "message": "Refund not found (fake)"})
    assert api(paystack, "GET", "/refund")[1]["meta"]["total"] == 2  # all refunds without a transaction
    with_wrong_key = paystack.handle("GET", "/refund", {"authorization": "Bearer sk_test_wrong"}, b"")
    assert with_wrong_key[0] == 401


def _shape(value: Any) -> Any:
    """The keys and nesting of a JSON value (its leaves' values left out)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None
