"""The adapters' read-only look-ups the reconciliation job makes (``get_refund``, ``get_transfer``):
Stripe against localstripe behind the local shim, Paystack against the fake Paystack, both on
127.0.0.1, started and stopped here (tests/integration/servers.py, tollgate_local.fake_paystack).
A look-up of an id the gateway does not know is None; one that cannot reach the gateway is a
transient GatewayError (the job defers, never reports it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from tests.integration.servers import RecordingClient, WebhookReceiver, form_request, free_port, localstripe_shim
from tollgate.gateways import (
    BankAccount,
    GatewayError,
    PaymentRequest,
    Refund,
    Transfer,
    is_transient,
    transfer_reference,
)
from tollgate.gateways.paystack import PaystackGateway
from tollgate.gateways.stripe import StripeGateway
from tollgate_local.fake_paystack import FakePaystack

API_KEY = "sk_test_tollgate_lookups_5c2e8a"
WEBHOOK_SECRET = "whsec_tollgate_lookups_3f9b1d"


@pytest.fixture(scope="module")
def shim() -> Iterator[str]:
    with WebhookReceiver("/v1/webhooks/stripe", "stripe-lookups-receiver") as receiver, \
            localstripe_shim(receiver.url, WEBHOOK_SECRET) as base:
        yield base


@pytest.fixture
def recorder() -> RecordingClient:
    return RecordingClient()


@pytest.fixture
def stripe_gateway(shim, recorder) -> StripeGateway:
    return StripeGateway(API_KEY, WEBHOOK_SECRET, api_base=shim, http_client=recorder, max_network_retries=0)


@pytest.fixture
def stripe_api(shim) -> Any:
    return stripe.StripeClient(API_KEY, base_addresses={"api": shim}, http_client=stripe.RequestsClient(timeout=10))


@pytest.fixture
def paystack() -> Iterator[tuple[FakePaystack, PaystackGateway]]:
    with FakePaystack(secret_key="sk_test_lookups") as fake:
        fake.refund_outcome("none")  # ended by the test, not by a thread racing it
        fake.transfer_outcome("none")
        yield fake, PaystackGateway(fake.secret_key, api_base=fake.endpoint, timeout=5)


# -- Stripe -----------------------------------------------------------------------------------


def test_stripe_refund_is_looked_up_by_its_id(stripe_gateway, stripe_api, recorder):
    purchase_id = f"pur_{uuid.uuid4().hex[:26]}"
    session = stripe_gateway.create_payment(PaymentRequest(purchase_id, 1500, "USD", "credits"),
                                            idempotency_key=f"checkout-{purchase_id}")
    stripe_api.v1.payment_intents.update(session.reference, params={"payment_method": "pm_card_visa"})
    stripe_api.v1.payment_intents.confirm(session.reference)
    made = stripe_gateway.refund(session.reference, 600, idempotency_key="refund-rf_1", refund_id="rf_1")

    assert stripe_gateway.get_refund(made.refund_id) == Refund(made.refund_id, 600, "succeeded", "rf_1",
                                                                currency="USD")
    sent = recorder.sent[-1]
    assert (sent.method, sent.url) == ("get", f"{stripe_gateway.api_base}/v1/refunds/{made.refund_id}")
    assert "Idempotency-Key" not in sent.headers  # a read
    assert stripe_gateway.get_refund("re_nobodyknowsthisone") is None


def test_stripe_transfer_is_looked_up_by_its_id_and_shows_a_reversal(stripe_gateway, shim, recorder):
    account = stripe_gateway.open_account("dev_lookups", bank=None, return_url="https://app.example/r",
                                          refresh_url="https://app.example/f", idempotency_key=uuid.uuid4().hex)
    assert account.onboarding_url is not None
    assert form_request(account.onboarding_url, method="GET")[0] == 200  # onboarded, as the developer would
    payout = f"po_{uuid.uuid4().hex[:26]}"
    paid = stripe_gateway.transfer(payout, account.account_id, 4_200, "USD")

    assert stripe_gateway.get_transfer(payout, paid.transfer_id) == paid
    assert (recorder.sent[-1].method, recorder.sent[-1].url) == (
        "get", f"{stripe_gateway.api_base}/v1/transfers/{paid.transfer_id}")
    # Another payout's id recorded here: Stripe's own group shows whose it is.
    assert stripe_gateway.get_transfer("po_other", paid.transfer_id).reference == payout  # type: ignore[union-attr]
    assert stripe_gateway.get_transfer(payout, None) == paid  # no id recorded: by the payout's transfer group
    assert stripe_gateway.get_transfer(payout, "tr_nobodyknowsthisone") is None

    status, body = form_request(f"{shim}/_tollgate/transfers/{paid.transfer_id}/reverse")
    assert status == 200 and json.loads(body)["reversed"] is True
    assert stripe_gateway.get_transfer(payout, paid.transfer_id) == Transfer(
        paid.transfer_id, payout, "reversed", 4_200, "USD", failure="Stripe reversed the transfer")


def test_stripe_unreachable_is_a_transient_error():
    nowhere = StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0)
    for look_up in (lambda: nowhere.get_refund("re_1"), lambda: nowhere.get_transfer("po_1", "tr_1")):
        with pytest.raises(GatewayError) as info:
            look_up()
        assert is_transient(info.value)


# -- Paystack ---------------------------------------------------------------------------------


def test_paystack_refund_is_fetched_by_its_id(paystack):
    fake, gateway = paystack
    session = gateway.create_payment(PaymentRequest("pur_lookups", 500_000, "NGN", "credits", email="a@example.com"),
                                     idempotency_key="pur_lookups")
    fake.complete(session.reference)
    made = gateway.refund(session.reference, 200_000, idempotency_key="refund-rf_1")

    assert gateway.get_refund(made.refund_id) == Refund(made.refund_id, 200_000, "pending", currency="NGN")
    fake.process_refund(made.refund_id, success=False)
    assert gateway.get_refund(made.refund_id) == Refund(made.refund_id, 200_000, "failed",
                                                        failure="Paystack reports the refund failed", currency="NGN")
    assert [r.path for r in fake.requests_to("/refund/")] == [f"/refund/{made.refund_id}"] * 2
    assert gateway.get_refund("999999999") is None  # Paystack: 404 "Refund not found"


def test_paystack_transfer_is_verified_by_the_payouts_reference(paystack):
    fake, gateway = paystack
    account = gateway.open_account("dev_lookups", bank=BankAccount("058", "0123456789", "Carol Okafor"),
                                   return_url="", refresh_url="", idempotency_key="acct")
    sent = gateway.transfer("po_lookups", account.account_id, 250_000, "NGN")
    fake.settle_transfer(transfer_reference("po_lookups"), "transfer.reversed")

    found = gateway.get_transfer("po_lookups", sent.transfer_id)
    assert found is not None
    assert (found.transfer_id, found.reference, found.status, found.amount, found.currency) == (
        sent.transfer_id, transfer_reference("po_lookups"), "reversed", 250_000, "NGN")
    assert gateway.get_transfer("po_never_sent", "TRF_nowhere") is None


def test_paystack_unreachable_is_a_transient_error():
    nowhere = PaystackGateway("sk_test_lookups", api_base=f"http://127.0.0.1:{free_port()}", timeout=5)
    for look_up in (lambda: nowhere.get_refund("1"), lambda: nowhere.get_transfer("po_1", "TRF_1")):
        with pytest.raises(GatewayError) as info:
            look_up()
        assert is_transient(info.value)
