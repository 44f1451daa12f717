"""PaystackGateway over HTTP against the fake Paystack (tollgate_local.fake_paystack).

The fake checks requests the way Paystack does (bearer secret key, required fields, integer
minor-unit amount, reference characters, duplicate references), so these tests pin the
adapter's request shapes as well as its handling of answers, errors and timeouts. Every
server here is started on 127.0.0.1 by the test and stopped by it.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.servers import WebhookReceiver
from tollgate.errors import ValidationFailed
from tollgate.gateways import GatewayError, GatewayNotConfigured, InvalidSignature, PaymentRequest, Refund, is_transient
from tollgate.gateways.paystack import DEFAULT_API_BASE, PaystackGateway
from tollgate_local.fake_paystack import FakePaystack
from tollgate_local.serving import ServerThread

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "paystack"
PURCHASE = "pur_6f3kq2mzr7xa4bnc5d2eyh3uvi"
REFERENCE = "pur-6f3kq2mzr7xa4bnc5d2eyh3uvi"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePaystack]:
    with FakePaystack(secret_key="sk_test_integration_only") as server:
        yield server


@pytest.fixture
def paystack(fake: FakePaystack) -> FakePaystack:
    fake.reset()
    fake.webhook_url = None
    return fake


@pytest.fixture
def gateway(paystack: FakePaystack) -> PaystackGateway:
    return PaystackGateway(paystack.secret_key, api_base=paystack.endpoint, timeout=5)


def payment(purchase_id: str = PURCHASE, **changes) -> PaymentRequest:
    fields = {
        "purchase_id": purchase_id,
        "amount": 250_000,
        "currency": "NGN",
        "description": "Starter pack: 500 credits",
        "email": "ada@example.com",
        "metadata": {"purchase_id": purchase_id, "wallet_id": "usr_ada"},
        "callback_url": "https://app.example.com/paid",
    }
    return PaymentRequest(**{**fields, **changes})


# -- initialize ------------------------------------------------------------------------


def test_initialize_sends_what_paystack_documents(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")

    assert session.reference == REFERENCE
    assert session.access_code
    assert session.authorization_url == f"{paystack.endpoint}/checkout/{session.access_code}"
    assert (session.client_secret, session.checkout_url) == (None, None)

    [call] = paystack.requests_to("/transaction/initialize")
    assert (call.method, call.status) == ("POST", 200)
    assert call.authorization == "Bearer sk_test_integration_only"
    assert call.headers["content-type"] == "application/json"
    assert "idempotency-key" not in call.headers  # Paystack has none; the reference is the key
    assert call.body == {
        "email": "ada@example.com",
        "amount": 250_000,
        "currency": "NGN",
        "reference": REFERENCE,
        "metadata": {"purchase_id": PURCHASE, "wallet_id": "usr_ada"},
        "callback_url": "https://app.example.com/paid",
    }
    assert type(call.body["amount"]) is int


def test_initialize_without_callback_url_leaves_it_out(gateway, paystack):
    gateway.create_payment(payment(callback_url=None), idempotency_key="idem-1")
    [call] = paystack.requests_to("/transaction/initialize")
    assert "callback_url" not in call.body


def test_initialize_always_names_the_purchase_in_metadata(gateway, paystack):
    gateway.create_payment(payment(metadata={"wallet_id": "usr_ada"}), idempotency_key="idem-1")
    [call] = paystack.requests_to("/transaction/initialize")
    assert call.body["metadata"] == {"wallet_id": "usr_ada", "purchase_id": PURCHASE}


def test_duplicate_reference_is_a_gateway_error(gateway, paystack):
    gateway.create_payment(payment(), idempotency_key="idem-1")
    with pytest.raises(GatewayError, match="Duplicate Transaction Reference") as caught:
        gateway.create_payment(payment(), idempotency_key="idem-1")
    assert caught.value.status == 502
    # The same keys on every gateway's error (tollgate.gateways.exceptions.GatewayError).
    assert caught.value.details == {"gateway": "paystack", "gateway_status": 400, "gateway_code": None,
                                    "decline_code": None}
    assert [r.status for r in paystack.requests_to("/transaction/initialize")] == [200, 400]


@pytest.mark.parametrize("email", [None, "", "not-an-email"])
def test_no_email_is_refused_before_any_call(gateway, paystack, email):
    with pytest.raises(ValidationFailed) as caught:
        gateway.create_payment(payment(email=email), idempotency_key="idem-1")
    assert caught.value.status == 422
    assert paystack.requests == []


def test_fake_refuses_what_paystack_refuses(paystack):
    """The fake is only useful if it is as strict as Paystack about request shapes."""

    def initialize(body, key=paystack.secret_key):
        headers = {"authorization": f"Bearer {key}"}
        return paystack.handle("POST", "/transaction/initialize", headers, json.dumps(body).encode())

    good = {"email": "ada@example.com", "amount": 5000, "currency": "NGN"}
    assert initialize(good)[0] == 200
    assert initialize({**good, "amount": "5000"})[0] == 200  # Paystack accepts digit strings
    for bad, message in [
        ({**good, "email": ""}, "Email is not allowed to be empty"),
        ({**good, "email": "ada"}, "Invalid Email Address Passed"),
        ({**good, "amount": 50.5}, "Invalid Amount Sent"),
        ({**good, "amount": "50.00"}, "Invalid Amount Sent"),
        ({**good, "amount": 0}, "You must specify a valid amount"),
        ({k: v for k, v in good.items() if k != "amount"}, "Invalid Amount Sent"),
        ({**good, "currency": "EUR"}, "Currency not supported by merchant"),
        ({**good, "reference": "pur_abc"}, "Invalid character in transaction reference"),
    ]:
        assert initialize(bad) == (400, {"status": False, "message": message}), bad
    assert initialize(good, key="sk_test_wrong") == (401, {"status": False, "message": "Invalid key"})
    assert paystack.handle("GET", "/transaction/verify/x", {}, b"")[0] == 401


# -- verify ----------------------------------------------------------------------------


def test_verify_before_and_after_payment(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")

    before = gateway.verify_payment(session.reference)
    assert (before.succeeded, before.status) == (False, "abandoned")
    assert (before.amount, before.currency, before.purchase_id) == (250_000, "NGN", PURCHASE)

    paystack.complete(session.reference)
    after = gateway.verify_payment(session.reference)
    assert (after.succeeded, after.status, after.reference) == (True, "success", REFERENCE)
    assert (after.amount, after.currency, after.purchase_id) == (250_000, "NGN", PURCHASE)

    [first, second] = paystack.requests_to("/transaction/verify/")
    assert (first.method, first.path, first.body) == ("GET", f"/transaction/verify/{REFERENCE}", None)
    assert second.authorization == "Bearer sk_test_integration_only"


def test_verify_a_failed_payment(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")
    paystack.complete(session.reference, success=False)
    status = gateway.verify_payment(session.reference)
    assert (status.succeeded, status.status) == (False, "failed")


def test_verify_quotes_the_reference(gateway, paystack):
    with pytest.raises(GatewayError, match="Transaction reference not found"):
        gateway.verify_payment("a/b?c=d")
    [call] = paystack.requests_to("/transaction/verify/")
    assert call.path == "/transaction/verify/a%2Fb%3Fc%3Dd"


# -- refund ----------------------------------------------------------------------------


def test_partial_then_full_refund(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")
    paystack.complete(session.reference)

    partial = gateway.refund(session.reference, 100_000, idempotency_key="refund-1")
    assert isinstance(partial, Refund)
    assert (partial.amount, partial.status, partial.tollgate_refund_id) == (100_000, "pending", None)
    assert partial.refund_id.isdigit()

    rest = gateway.refund(session.reference, None, idempotency_key="refund-2")
    assert rest.amount == 150_000
    assert rest.refund_id != partial.refund_id

    first, second = [r for r in paystack.requests_to("/refund") if r.method == "POST"]
    assert first.body == {"transaction": REFERENCE, "amount": 100_000, "merchant_note": "Tollgate refund refund-1"}
    assert second.body == {"transaction": REFERENCE, "merchant_note": "Tollgate refund refund-2"}  # no amount: all
    assert first.authorization == "Bearer sk_test_integration_only"
    assert gateway.verify_payment(session.reference).status == "reversed"

    with pytest.raises(GatewayError, match="Transaction has been fully reversed"):
        gateway.refund(session.reference, 1, idempotency_key="refund-3")


def test_refund_of_an_unpaid_or_unknown_payment_is_a_gateway_error(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")
    with pytest.raises(GatewayError):
        gateway.refund(session.reference, None, idempotency_key="refund-1")
    with pytest.raises(GatewayError, match="Transaction reference not found") as unknown:
        gateway.refund("pur-nosuchthing", None, idempotency_key="refund-2")  # verified before its refunds are listed
    assert not is_transient(unknown.value)
    assert [r.method for r in paystack.requests_to("/refund")] == ["GET", "POST"]  # the unpaid one's list and refusal


# -- errors ----------------------------------------------------------------------------


def test_wrong_key_is_a_gateway_error_that_never_shows_the_key(paystack):
    wrong = "sk_test_not_the_right_one"
    gateway = PaystackGateway(wrong, api_base=paystack.endpoint, timeout=5)
    with pytest.raises(GatewayError, match="Invalid key") as caught:
        gateway.create_payment(payment(), idempotency_key="idem-1")
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value.details)
    with pytest.raises(GatewayError, match="Invalid key"):
        gateway.verify_payment(REFERENCE)
    assert [r.status for r in paystack.requests] == [401, 401]


def test_missing_key_is_not_configured_at_call_time(paystack, monkeypatch):
    monkeypatch.delenv("PAYSTACK_SECRET_KEY", raising=False)
    monkeypatch.delenv("PAYSTACK_SECRET_KEY_PARAM", raising=False)
    monkeypatch.delenv("PAYSTACK_SECRET_KEY_SECRET", raising=False)
    monkeypatch.setenv("PAYSTACK_API_BASE", paystack.endpoint)
    gateway = PaystackGateway.from_config()  # constructing needs no key
    with pytest.raises(GatewayNotConfigured) as caught:
        gateway.verify_payment(REFERENCE)
    assert caught.value.status == 503
    assert paystack.requests == []

    monkeypatch.setenv("PAYSTACK_SECRET_KEY", paystack.secret_key)  # read per call: no restart needed
    with pytest.raises(GatewayError, match="Transaction reference not found"):
        gateway.verify_payment(REFERENCE)


def test_from_config_defaults_to_the_real_api(monkeypatch):
    monkeypatch.delenv("PAYSTACK_API_BASE", raising=False)
    gateway = PaystackGateway.from_config()
    assert (gateway.api_base, gateway.timeout, gateway.name) == (DEFAULT_API_BASE, 10.0, "paystack")


def test_server_that_never_answers_times_out():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never replies
        port = silent.getsockname()[1]
        gateway = PaystackGateway("sk_test_x", api_base=f"http://127.0.0.1:{port}", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(GatewayError, match="timed out"):
            gateway.verify_payment(REFERENCE)
        assert time.monotonic() - started < 3


def test_nothing_listening_is_a_gateway_error():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    gateway = PaystackGateway("sk_test_x", api_base=f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(GatewayError, match="Paystack verify failed"):
        gateway.verify_payment(REFERENCE)


def answering(*answers: tuple[int, bytes]) -> type[BaseHTTPRequestHandler]:
    """A handler answering each request (GET or POST) with the next of ``answers``."""
    replies = iter(answers)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = next(replies)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

    return Handler


def test_status_false_with_200_and_non_json_errors_are_gateway_errors():
    with serving(answering((200, b'{"status": false, "message": "Something odd"}'),
                           (502, b"<html>Bad gateway</html>"))) as url:
        gateway = PaystackGateway("sk_test_x", api_base=url, timeout=5)
        with pytest.raises(GatewayError, match="Something odd"):
            gateway.verify_payment(REFERENCE)
        with pytest.raises(GatewayError, match=r"\(502\): HTTP 502"):
            gateway.verify_payment(REFERENCE)


def test_an_answer_without_what_initialize_returns_is_a_gateway_error():
    started = b'{"status": true, "message": "Authorization URL created", "data": {"reference": "r"}}'
    with serving(answering((200, started))) as url:
        gateway = PaystackGateway("sk_test_x", api_base=url, timeout=5)
        with pytest.raises(GatewayError) as caught:
            gateway.create_payment(payment(), idempotency_key="idem-1")
    assert caught.value.message == (
        "The Paystack answer (initialize) has an unusable authorization_url: Field required")
    assert caught.value.details["gateway"] == "paystack"


# -- the fake's bodies -------------------------------------------------------------------


def _shape(value):
    """A JSON value's keys, all the way down (lists by their first item; metadata is the merchant's own)."""
    if isinstance(value, dict):
        return {key: None if key == "metadata" else _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def _example(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_the_fake_answers_and_sends_paystacks_documented_shapes(paystack):
    """Every body is one of Paystack's examples (tests/fixtures/paystack/) with the fake's values."""
    with WebhookReceiver("/v1/webhooks/paystack", "paystack-webhook-receiver") as receiver:
        paystack.webhook_url = receiver.url
        _drive_every_body(paystack)
    sent = [(d.event["event"], d.event["data"]) for d in receiver.deliveries]
    examples = {"charge.success": "charge_success", "refund.processed": "refund_processed",
                "refund.failed": "refund_failed", "charge.dispute.create": "dispute_create",
                "charge.dispute.resolve": "dispute_resolve"}
    assert [event for event, _ in sent] == list(examples)
    for event, data in sent:
        assert _shape(data) == _shape(_example(examples[event])["data"]), event
    assert sent[0][1]["reference"] == REFERENCE
    assert (sent[1][1]["amount"], sent[2][1]["amount"]) == ("1000", 2000)  # a string, a number: as documented


def _drive_every_body(paystack: FakePaystack) -> None:
    headers = {"authorization": f"Bearer {paystack.secret_key}"}
    status, started = paystack.handle("POST", "/transaction/initialize", headers, json.dumps(
        {"email": "ada@example.com", "amount": 5000, "reference": REFERENCE, "metadata": {"purchase_id": PURCHASE}}
    ).encode())
    assert status == 200 and _shape(started) == _shape(_example("transaction_initialize"))
    paystack.complete(REFERENCE)
    status, verified = paystack.handle("GET", f"/transaction/verify/{REFERENCE}", headers, b"")
    assert status == 200 and _shape(verified) == _shape(_example("transaction_verify"))
    assert (verified["data"]["reference"], verified["data"]["amount"], verified["data"]["metadata"]) == (
        REFERENCE, 5000, {"purchase_id": PURCHASE})
    status, refunded = paystack.handle("POST", "/refund", headers, json.dumps({"transaction": REFERENCE,
                                                                              "amount": 1000}).encode())
    assert status == 200 and _shape(refunded) == _shape(_example("refund_create"))
    paystack.process_refund(refunded["data"]["id"])
    status, failing = paystack.handle("POST", "/refund", headers, json.dumps({"transaction": REFERENCE,
                                                                             "amount": 2000}).encode())
    paystack.process_refund(failing["data"]["id"], success=False)
    status, listed = paystack.handle("GET", f"/refund?transaction={verified['data']['id']}", headers, b"")
    assert status == 200 and _shape(listed) == _shape(_example("refund_list"))
    assert [r["id"] for r in listed["data"]] == [failing["data"]["id"], refunded["data"]["id"]]  # newest first
    status, fetched = paystack.handle("GET", f"/refund/{refunded['data']['id']}", headers, b"")
    assert status == 200 and _shape(fetched) == _shape(_example("refund_fetch"))
    dispute = paystack.open_dispute(REFERENCE)
    paystack.resolve_dispute(dispute["id"], "declined")


# -- webhooks from the fake ------------------------------------------------------------


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A throwaway HTTP server on 127.0.0.1, stopped (and its thread joined) on exit."""
    serving = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), handler), "throwaway").start()
    try:
        yield serving.url
    finally:
        serving.stop()


def test_webhooks_sent_by_the_fake_verify(gateway, paystack):
    with WebhookReceiver("/v1/webhooks/paystack", "paystack-webhook-receiver") as receiver:
        url = receiver.url
        paystack.webhook_url = url
        paystack.refund_outcome("none")  # processed on demand below
        session = gateway.create_payment(payment(), idempotency_key="idem-1")
        paystack.complete(session.reference)  # -> charge.success
        refund = gateway.refund(session.reference, 50_000, idempotency_key="refund-1")
        paystack.process_refund(refund.refund_id)  # -> refund.processed
        dispute = paystack.open_dispute(session.reference, refund_amount=200_000)  # -> charge.dispute.create
        paystack.resolve_dispute(dispute["id"], "declined")  # -> charge.dispute.resolve
        extra = paystack.send_webhook(url, "customeridentification.success", {"customer_id": "9387490384"})
    assert extra == 200
    assert [status for _, _, status in paystack.sent_webhooks] == [200] * 5

    events = [gateway.parse_webhook(d.body, d.headers) for d in receiver.deliveries]
    paid, refunded, opened, closed, other = events
    assert (paid.kind, paid.reference, paid.purchase_id, paid.amount, paid.currency) == (
        "payment_succeeded", REFERENCE, PURCHASE, 250_000, "NGN",
    )
    assert (refunded.kind, refunded.reference, refunded.purchase_id) == ("refund", REFERENCE, PURCHASE)
    assert refunded.refunds[0].amount == 50_000
    assert (opened.kind, opened.purchase_id, opened.dispute_amount) == ("dispute_opened", PURCHASE, 200_000)
    assert (closed.kind, closed.dispute_status, closed.dispute_id) == ("dispute_closed", "won", str(dispute["id"]))
    assert other.kind == "ignored"
    assert len({e.event_id for e in events}) == 5

    raw, headers = receiver.deliveries[0].body, receiver.deliveries[0].headers
    assert headers["Content-Type"] == "application/json"
    forged = {k: v for k, v in headers.items() if k.lower() != "x-paystack-signature"}
    forged["X-Paystack-Signature"] = paystack.sign(raw, "sk_test_someone_else")
    with pytest.raises(InvalidSignature, match="does not match"):
        gateway.parse_webhook(raw, forged)


def test_checkout_page_pays_and_redirects_to_the_callback(gateway, paystack):
    session = gateway.create_payment(payment(), idempotency_key="idem-1")
    with urllib.request.urlopen(session.authorization_url, timeout=5) as page:
        assert b"NGN 2,500.00" in page.read()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    pay = urllib.request.Request(session.authorization_url + "/pay", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(pay, timeout=5)
    assert redirect.value.code == 303
    assert redirect.value.headers["Location"] == f"https://app.example.com/paid?trxref={REFERENCE}&reference={REFERENCE}"
    assert gateway.verify_payment(session.reference).succeeded
