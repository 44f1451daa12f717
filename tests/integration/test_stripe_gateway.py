"""StripeGateway against localstripe (a stateful fake Stripe server) and a tiny fake Stripe API.

localstripe runs in a subprocess on a free 127.0.0.1 port behind the local stack's shim
(local/tollgate_local/localstripe_shim.py, as local/tollgate_local/stack.py starts it, but with
its store in memory only so these tests never touch a running local stack's state; it and the
webhook receiver come from tests/integration/servers.py). What it can and cannot do, as found
here with stripe 16.1.0:

- PaymentIntents: create, update, confirm, retrieve; ``confirm`` with a ``payment_method``
  answers 500 "Not implemented", so the tests attach the card with ``update`` first.
- Alone it rejects ``description`` and ``receipt_email`` on a PaymentIntent ("400 Unexpected
  description, receipt_email"); the shim takes them, so the adapter sends what it sends Stripe.
- Card 4000000000000341 (or ``pm_card_chargeCustomerFail``) is declined at confirmation (402).
- PaymentIntents carry no ``amount_received``; refunds work (partial and full; a "full"
  refund after a partial one refunds the whole charge again, unlike Stripe), take
  ``metadata`` and show it back, and are ``succeeded`` at once, with no webhook.
- It ignores idempotency keys: a replay creates a second PaymentIntent. So the tests check
  that the key is sent (each request is recorded by the HTTP client), not that it is honoured.
  The shim honours them for refunds (``POST /v1/refunds``), as Stripe does.
- It sends signed ``payment_intent.succeeded`` / ``payment_intent.payment_failed`` webhooks
  (about a second after the change) to every URL registered at ``/_config/webhooks/{id}``.
- It has no Checkout Sessions: the hosted path is checked against a fake Stripe API
  server (below) that records the form-encoded requests.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from tests.integration.servers import RecordingClient, Sent, WebhookReceiver, free_port, localstripe_shim, stripe_webhook
from tollgate.gateways import (
    GatewayError,
    GatewayNotConfigured,
    PaymentRequest,
    PaymentSession,
    Refund,
    is_transient,
)
from tollgate.gateways.stripe import StripeGateway
from tollgate_local.serving import ServerThread

API_KEY = "sk_test_tollgate_dummy_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_tollgate_it_9d2f4b6a8c0e1f3a5b7c9d1e"


# ---------------------------------------------------------------------------------------
# Servers: localstripe and a webhook receiver (tests/integration/servers.py), a fake Stripe API
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("/v1/webhooks/stripe", "stripe-webhook-receiver") as rec:
        yield rec


@pytest.fixture(scope="module")
def localstripe(receiver: WebhookReceiver) -> Iterator[str]:
    with localstripe_shim(receiver.url, WEBHOOK_SECRET) as base:
        yield base


@pytest.fixture
def recorder() -> RecordingClient:
    return RecordingClient()


@pytest.fixture
def gateway(localstripe, recorder, monkeypatch) -> StripeGateway:
    """Configured as a deployment is: env vars, read by from_config."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe)
    return StripeGateway.from_config(http_client=recorder)


@pytest.fixture
def stripe_api(localstripe) -> Any:
    """What the payer's side does (confirming with a card), through the official client."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe}, http_client=stripe.RequestsClient(timeout=10))


def purchase(amount: int = 1234, currency: str = "USD", **changes: Any) -> PaymentRequest:
    purchase_id = f"pur_{uuid.uuid4().hex[:26]}"
    fields: dict[str, Any] = {
        "purchase_id": purchase_id, "amount": amount, "currency": currency,
        "description": "Tollgate credits: Starter (1,000 credits)", "email": "ada@example.com",
        "metadata": {"purchase_id": purchase_id, "wallet_id": "usr_8f14e45fceea167a"},
    }
    fields.update(changes)
    return PaymentRequest(**fields)


def pay(stripe_api: Any, reference: str, payment_method: str = "pm_card_visa") -> Any:
    # localstripe's confirm refuses a payment_method (500 "Not implemented"): attach it first.
    stripe_api.v1.payment_intents.update(reference, params={"payment_method": payment_method})
    return stripe_api.v1.payment_intents.confirm(reference)


def declining_card(stripe_api: Any) -> str:
    pm = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    return pm.id


# ---------------------------------------------------------------------------------------
# Against localstripe
# ---------------------------------------------------------------------------------------


def test_payment_succeeds_verifies_and_its_signed_webhook_maps(gateway, stripe_api, recorder, receiver):
    request = purchase(amount=1234, currency="USD")
    session = gateway.create_payment(request, idempotency_key="checkout-key-1")

    assert session.reference.startswith("pi_")
    assert session.client_secret.startswith(f"{session.reference}_secret_")
    assert (session.checkout_url, session.checkout_session_id) == (None, None)
    [sent] = recorder.sent
    assert (sent.method, sent.url) == ("post", gateway.api_base + "/v1/payment_intents")
    assert sent.headers["Idempotency-Key"] == "checkout-key-1"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.form == {
        "amount": "1234", "currency": "usd", "payment_method_types[0]": "card",
        "description": "Tollgate credits: Starter (1,000 credits)", "receipt_email": "ada@example.com",
        "metadata[purchase_id]": request.purchase_id, "metadata[wallet_id]": "usr_8f14e45fceea167a",
    }  # what Stripe gets: the adapter has no local special case
    shown = stripe_api.v1.payment_intents.retrieve(session.reference)
    assert (shown.description, shown.receipt_email) == (request.description, "ada@example.com")

    before = gateway.verify_payment(session.reference)
    assert (before.succeeded, before.status) == (False, "requires_payment_method")

    assert pay(stripe_api, session.reference).status == "succeeded"

    status = gateway.verify_payment(session.reference)
    assert status.succeeded is True
    assert (status.reference, status.status, status.amount, status.currency, status.purchase_id) == (
        session.reference, "succeeded", 1234, "USD", request.purchase_id)

    delivery = stripe_webhook(receiver, "payment_intent.succeeded", session.reference)
    event = gateway.parse_webhook(delivery.body, delivery.headers)
    assert event.kind == "payment_succeeded"
    assert event.event_id == delivery.event["id"] and event.event_id.startswith("evt_")
    assert (event.raw_type, event.reference, event.purchase_id, event.amount, event.currency) == (
        "payment_intent.succeeded", session.reference, request.purchase_id, 1234, "USD")


def test_a_hosted_checkout_is_paid_on_the_local_page_and_verifies(gateway, receiver):
    """Hosted checkout (a Checkout Session) on the local stack: the shim plays Stripe's page."""
    request = purchase(amount=2500, currency="USD", hosted=True, success_url="http://127.0.0.1:9/ok?s={CHECKOUT_SESSION_ID}",
                       cancel_url="http://127.0.0.1:9/cancel")
    session = gateway.create_payment(request, idempotency_key="hosted-key-1")
    assert session.checkout_session_id.startswith("cs_") and session.checkout_url.endswith(session.checkout_session_id)
    assert gateway.create_payment(request, idempotency_key="hosted-key-1") == session  # Stripe's idempotency
    before = gateway.verify_payment(session.checkout_session_id)
    assert (before.succeeded, before.purchase_id) == (False, request.purchase_id)

    with urllib.request.urlopen(session.checkout_url, timeout=5) as page:
        assert b"USD 25.00" in page.read()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    paying = urllib.request.Request(session.checkout_url + "/pay", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(paying, timeout=5)
    assert redirect.value.code == 303
    assert redirect.value.headers["Location"] == f"http://127.0.0.1:9/ok?s={session.checkout_session_id}"

    for reference in (session.checkout_session_id, session.reference):
        paid = gateway.verify_payment(reference)
        assert (paid.succeeded, paid.amount, paid.currency, paid.purchase_id) == (True, 2500, "USD", request.purchase_id)
    completed = stripe_webhook(receiver, "checkout.session.completed", session.checkout_session_id)
    event = gateway.parse_webhook(completed.body, completed.headers)
    assert (event.kind, event.purchase_id) == ("payment_succeeded", request.purchase_id)
    intent = stripe_webhook(receiver, "payment_intent.succeeded", session.reference)
    assert gateway.parse_webhook(intent.body, intent.headers).purchase_id == request.purchase_id


def test_declined_card_fails_and_its_signed_webhook_maps(gateway, stripe_api, receiver):
    request = purchase(amount=4999, currency="EUR")
    session = gateway.create_payment(request, idempotency_key="checkout-key-2")

    with pytest.raises(stripe.CardError) as declined:
        pay(stripe_api, session.reference, declining_card(stripe_api))
    assert declined.value.code == "card_declined"

    status = gateway.verify_payment(session.reference)
    assert status.succeeded is False
    assert (status.status, status.amount, status.currency, status.purchase_id) == (
        "requires_payment_method", 4999, "EUR", request.purchase_id)

    delivery = stripe_webhook(receiver, "payment_intent.payment_failed", session.reference)
    event = gateway.parse_webhook(delivery.body, delivery.headers)
    assert event.kind == "payment_failed"
    assert (event.reference, event.purchase_id, event.amount, event.currency) == (
        session.reference, request.purchase_id, 4999, "EUR")

    # The real delivery, tampered with or checked against another secret, does not verify.
    from tollgate.gateways import InvalidSignature

    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(delivery.body.replace(b"4999", b"9999"), delivery.headers)
    with pytest.raises(InvalidSignature):
        StripeGateway(webhook_secret="whsec_other").parse_webhook(delivery.body, delivery.headers)


def test_refunds(gateway, stripe_api, recorder):
    first = gateway.create_payment(purchase(amount=2000), idempotency_key="checkout-key-3")
    pay(stripe_api, first.reference)

    partial = gateway.refund(first.reference, 500, idempotency_key="refund-key-1")
    assert partial.refund_id.startswith("re_") and partial.amount == 500
    sent = recorder.sent[-1]
    assert sent.url.endswith("/v1/refunds")
    assert sent.form == {"payment_intent": first.reference, "amount": "500"}
    assert sent.headers["Idempotency-Key"] == "refund-key-1"

    second = gateway.create_payment(purchase(amount=750), idempotency_key="checkout-key-4")
    pay(stripe_api, second.reference)
    full = gateway.refund(second.reference, None, idempotency_key="refund-key-2")
    assert full.refund_id.startswith("re_") and full.amount == 750
    assert recorder.sent[-1].form == {"payment_intent": second.reference}

    listed = stripe_api.v1.refunds.list(params={"payment_intent": first.reference})
    assert [(r.id, r.amount) for r in listed.data] == [(partial.refund_id, 500)]

    with pytest.raises(ValueError):
        gateway.refund(first.reference, 0, idempotency_key="refund-key-3")


def test_a_refund_names_its_tollgate_refund_and_is_made_once_per_idempotency_key(gateway, stripe_api, recorder):
    session = gateway.create_payment(purchase(amount=1500), idempotency_key="checkout-key-6")
    pay(stripe_api, session.reference)
    refund_id = f"rf_{uuid.uuid4().hex[:26]}"

    made = gateway.refund(session.reference, 600, idempotency_key=f"refund-{refund_id}", refund_id=refund_id)
    assert made.refund_id.startswith("re_")
    assert made == Refund(made.refund_id, 600, "succeeded", refund_id)  # localstripe: succeeded at once
    sent = recorder.sent[-1]
    assert sent.form == {"payment_intent": session.reference, "amount": "600", "metadata[tollgate_refund_id]": refund_id}
    assert sent.headers["Idempotency-Key"] == f"refund-{refund_id}"

    again = gateway.refund(session.reference, 600, idempotency_key=f"refund-{refund_id}", refund_id=refund_id)
    assert again == made  # the same refund, replayed (the shim honours the key, as Stripe does)
    listed = stripe_api.v1.refunds.list(params={"payment_intent": session.reference})
    assert [(r.id, r.amount, r.metadata.to_dict()) for r in listed.data] == [
        (made.refund_id, 600, {"tollgate_refund_id": refund_id})]

    with pytest.raises(GatewayError) as info:  # the key again, for something else: Stripe's idempotency error
        gateway.refund(session.reference, 700, idempotency_key=f"refund-{refund_id}", refund_id=refund_id)
    assert "idempotency key was used with different parameters" in info.value.message
    assert info.value.details["gateway_status"] == 400 and not is_transient(info.value)
    assert len(stripe_api.v1.refunds.list(params={"payment_intent": session.reference}).data) == 1


def test_refunding_a_failed_payment_is_a_gateway_error(gateway, stripe_api):
    session = gateway.create_payment(purchase(), idempotency_key="checkout-key-5")
    with pytest.raises(stripe.CardError):
        pay(stripe_api, session.reference, declining_card(stripe_api))
    with pytest.raises(GatewayError) as info:
        gateway.refund(session.reference, None, idempotency_key="refund-key-4")
    assert info.value.status == 502
    assert "Cannot refund a failed payment" in info.value.message


def test_a_replay_sends_the_same_idempotency_key(gateway, recorder):
    request = purchase()
    first = gateway.create_payment(request, idempotency_key="checkout-replay")
    again = gateway.create_payment(request, idempotency_key="checkout-replay")
    assert [s.headers["Idempotency-Key"] for s in recorder.sent] == ["checkout-replay", "checkout-replay"]
    assert recorder.sent[0].form == recorder.sent[1].form
    # Stripe would return the same PaymentIntent; localstripe ignores the key and makes a second one.
    assert first.reference.startswith("pi_") and again.reference.startswith("pi_")


def test_an_unknown_payment_is_a_gateway_error(gateway):
    with pytest.raises(GatewayError) as info:
        gateway.verify_payment("pi_doesnotexist000")
    assert info.value.status == 502
    assert "Stripe" in info.value.message
    assert API_KEY not in info.value.message


def test_missing_key_is_reported_at_call_time(monkeypatch, localstripe):
    for name in ("STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY_PARAM", "STRIPE_SECRET_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe)
    gateway = StripeGateway.from_config()  # constructing needs no key
    calls: list[Callable[[], Any]] = [
        lambda: gateway.create_payment(purchase(), idempotency_key="k"),
        lambda: gateway.verify_payment("pi_x"),
        lambda: gateway.refund("pi_x", None, idempotency_key="k"),
    ]
    for call in calls:
        with pytest.raises(GatewayNotConfigured) as info:
            call()
        assert info.value.status == 503
    monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)  # configured later: picked up without a new gateway
    assert gateway.create_payment(purchase(), idempotency_key="k").reference.startswith("pi_")


def test_network_errors_are_gateway_errors(monkeypatch):
    gateway = StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0)
    with pytest.raises(GatewayError) as info:
        gateway.verify_payment("pi_3PqL7vH5Yb2fGk1T0aBcDeFg")
    assert info.value.message == "Could not reach Stripe to look up the payment (network error or timeout)"
    assert API_KEY not in str(info.value)


# ---------------------------------------------------------------------------------------
# Against a fake Stripe API: Checkout Sessions (localstripe has none) and error replies
# ---------------------------------------------------------------------------------------


@dataclass
class FakeStripe:
    url: str
    replies: dict[tuple[str, str], tuple[int, dict[str, Any]]]
    requests: list[Sent] = field(default_factory=list)


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(url="", replies={})

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else None
            path = urllib.parse.urlsplit(self.path).path
            fake.requests.append(Sent(self.command, path, dict(self.headers.items()), body))
            status, reply = fake.replies.get((self.command, path), (404, {"error": {
                "type": "invalid_request_error", "message": f"Unrecognized request URL ({self.command}: {path})."}}))
            payload = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", "req_fake123")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    serving = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler), "stripe-api").start()
    fake.url = serving.url
    try:
        yield fake
    finally:
        serving.stop()


def _session(session_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": session_id, "object": "checkout.session", "mode": "payment", "payment_intent": None,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0", "status": "open",
            "payment_status": "unpaid", "amount_total": 9900, "currency": "eur", "client_reference_id": None,
            "metadata": {}, **fields}


def test_hosted_checkout_request_shape(fake_stripe):
    session_id = "cs_test_a1Yb2Zc3Xd4We5Vf6Ug7Th8Si9Rj0Qk1Pl2Om3Nn4Mo5Lp6Kq7Jr8Is9"
    fake_stripe.replies[("POST", "/v1/checkout/sessions")] = (200, _session(session_id))
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    request = purchase(amount=9900, currency="EUR", hosted=True, description="Tollgate credits: Team (10,000 credits)",
                       email="grace@example.com", success_url="https://app.example.com/credits?checkout=success",
                       cancel_url="https://app.example.com/credits?checkout=cancelled")

    session = gateway.create_payment(request, idempotency_key="checkout-hosted-1")

    assert session == PaymentSession(
        reference=session_id, checkout_session_id=session_id,
        checkout_url=f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0")
    [sent] = fake_stripe.requests
    assert (sent.method, sent.url) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["Idempotency-Key"] == "checkout-hosted-1"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.form == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "9900",
        "line_items[0][price_data][product_data][name]": "Tollgate credits: Team (10,000 credits)",
        "line_items[0][quantity]": "1",
        "success_url": "https://app.example.com/credits?checkout=success",
        "cancel_url": "https://app.example.com/credits?checkout=cancelled",
        "client_reference_id": request.purchase_id,
        "customer_email": "grace@example.com",
        "metadata[purchase_id]": request.purchase_id,
        "metadata[wallet_id]": "usr_8f14e45fceea167a",
        "payment_intent_data[metadata][purchase_id]": request.purchase_id,
        "payment_intent_data[metadata][wallet_id]": "usr_8f14e45fceea167a",
    }

    # A session that already has its PaymentIntent (older API versions) is referenced by it.
    fake_stripe.replies[("POST", "/v1/checkout/sessions")] = (200, _session(session_id, payment_intent="pi_3PqLC4H5Y"))
    assert gateway.create_payment(request, idempotency_key="checkout-hosted-2").reference == "pi_3PqLC4H5Y"


def test_hosted_checkout_needs_a_success_url(fake_stripe):
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    with pytest.raises(GatewayError):
        gateway.create_payment(purchase(hosted=True), idempotency_key="k")
    assert fake_stripe.requests == []


def test_checkout_session_references_verify_and_refund(fake_stripe):
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    fake_stripe.replies[("GET", "/v1/checkout/sessions/cs_test_open")] = (
        200, _session("cs_test_open", client_reference_id="pur_open"))
    status = gateway.verify_payment("cs_test_open")
    assert (status.succeeded, status.status, status.amount, status.currency, status.purchase_id) == (
        False, "open", 9900, "EUR", "pur_open")

    fake_stripe.replies[("GET", "/v1/checkout/sessions/cs_test_paid")] = (200, _session(
        "cs_test_paid", status="complete", payment_status="paid", payment_intent="pi_paid", client_reference_id="pur_p"))
    fake_stripe.replies[("GET", "/v1/payment_intents/pi_paid")] = (200, {
        "id": "pi_paid", "object": "payment_intent", "amount": 9900, "amount_received": 9900, "currency": "eur",
        "status": "succeeded", "metadata": {"purchase_id": "pur_p"}})
    status = gateway.verify_payment("cs_test_paid")
    assert (status.reference, status.succeeded, status.amount, status.currency, status.purchase_id) == (
        "pi_paid", True, 9900, "EUR", "pur_p")

    fake_stripe.replies[("POST", "/v1/refunds")] = (200, {
        "id": "re_fake1", "object": "refund", "amount": 9900, "payment_intent": "pi_paid", "status": "succeeded"})
    assert gateway.refund("cs_test_paid", None, idempotency_key="refund-cs") == Refund("re_fake1", 9900)
    assert fake_stripe.requests[-1].form == {"payment_intent": "pi_paid"}
    assert fake_stripe.requests[-1].headers["Idempotency-Key"] == "refund-cs"


@pytest.mark.parametrize(("stripe_status", "failure_reason", "expected"), [
    ("succeeded", None, ("succeeded", None)),
    ("pending", None, ("pending", None)),
    ("requires_action", None, ("pending", None)),
    ("failed", "expired_or_canceled_card", ("failed", "expired_or_canceled_card")),
    ("failed", None, ("failed", "Stripe reports the refund failed")),
    ("canceled", None, ("failed", "Stripe reports the refund canceled")),
])
def test_a_refund_has_the_status_stripe_answers(fake_stripe, stripe_status, failure_reason, expected):
    fake_stripe.replies[("POST", "/v1/refunds")] = (200, {
        "id": "re_fake2", "object": "refund", "amount": 300, "payment_intent": "pi_paid", "status": stripe_status,
        "failure_reason": failure_reason, "metadata": {"tollgate_refund_id": "rf_1"}})
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    made = gateway.refund("pi_paid", 300, idempotency_key="refund-rf_1", refund_id="rf_1")
    assert made == Refund("re_fake2", 300, expected[0], "rf_1", expected[1])
    assert fake_stripe.requests[-1].form == {"payment_intent": "pi_paid", "amount": "300",
                                             "metadata[tollgate_refund_id]": "rf_1"}


def test_a_payment_without_an_email_sends_no_receipt_email(fake_stripe):
    fake_stripe.replies[("POST", "/v1/payment_intents")] = (200, {
        "id": "pi_fake", "object": "payment_intent", "amount": 500, "currency": "gbp", "client_secret": "pi_fake_secret_x",
        "status": "requires_payment_method"})
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    request = purchase(amount=500, currency="GBP", email=None)
    assert gateway.create_payment(request, idempotency_key="k1") == PaymentSession("pi_fake", client_secret="pi_fake_secret_x")
    assert fake_stripe.requests[-1].form == {
        "amount": "500", "currency": "gbp", "payment_method_types[0]": "card",
        "description": "Tollgate credits: Starter (1,000 credits)",
        "metadata[purchase_id]": request.purchase_id, "metadata[wallet_id]": "usr_8f14e45fceea167a",
    }


def test_an_answer_that_is_not_the_object_asked_for_is_a_gateway_error(fake_stripe):
    fake_stripe.replies[("GET", "/v1/payment_intents/pi_odd")] = (200, {"object": "payment_intent", "amount": 12.5})
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    with pytest.raises(GatewayError) as info:
        gateway.verify_payment("pi_odd")
    assert (info.value.status, info.value.code) == (503, "try_again")  # no usable answer: a retry may get one
    assert info.value.message.startswith("The Stripe answer (look up the payment) has an unusable ")
    assert info.value.details == {"gateway": "stripe", "gateway_status": None, "gateway_code": None,
                                  "decline_code": None, "retry_after_seconds": 1}


@pytest.mark.parametrize(("status", "error", "expected", "details"), [
    (402, {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
           "message": "Your card has insufficient funds."},
     "Stripe declined the card (create the payment): Your card has insufficient funds.",
     {"gateway_code": "card_declined", "decline_code": "insufficient_funds"}),
    (401, {"type": "invalid_request_error", "message": f"Invalid API Key provided: {API_KEY[:8]}****p7dc"},
     "Stripe refused our credentials (create the payment)", {}),
    (400, {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same "
                                                   "parameters they were first used with."},
     "Stripe refused to create the payment: the idempotency key was used with different parameters", {}),
    (400, {"type": "invalid_request_error", "code": "parameter_invalid_integer", "param": "amount",
           "message": "Invalid integer: 12.5 (the key sk_test_abc should never leak)"},
     "Stripe rejected the request to create the payment: Invalid integer: 12.5 (the key [redacted] should never leak)",
     {"gateway_code": "parameter_invalid_integer"}),
    (429, {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"},
     "Stripe is rate limiting us (create the payment); try again shortly", {}),
    (500, {"type": "api_error", "message": "Something went wrong on Stripe's end."},
     "Stripe failed to create the payment (HTTP 500): Something went wrong on Stripe's end.", {}),
])
def test_stripe_errors_become_gateway_errors(fake_stripe, status, error, expected, details):
    fake_stripe.replies[("POST", "/v1/payment_intents")] = (status, {"error": error})
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=0)
    with pytest.raises(GatewayError) as info:
        gateway.create_payment(purchase(), idempotency_key="k")
    transient = status == 429 or status >= 500
    assert info.value.status == (503 if transient else 502)
    assert info.value.message == expected
    # One shape on every gateway: the same keys, null where Stripe said nothing of the kind (and when
    # a retry may pass, when to try it).
    assert info.value.details == {"gateway": "stripe", "gateway_status": status, "gateway_code": None,
                                  "decline_code": None, **details, **({"retry_after_seconds": 1} if transient else {})}
    assert API_KEY not in info.value.message and "Traceback" not in info.value.message


def test_server_errors_are_retried_with_the_same_idempotency_key(fake_stripe):
    fake_stripe.replies[("POST", "/v1/refunds")] = (503, {"error": {"type": "api_error", "message": "busy"}})
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url, max_network_retries=1)
    with pytest.raises(GatewayError):
        gateway.refund("pi_x", 100, idempotency_key="refund-retry")
    assert [r.headers["Idempotency-Key"] for r in fake_stripe.requests] == ["refund-retry", "refund-retry"]
