"""PaystackGateway's payouts over HTTP against the fake Paystack (tollgate_local.fake_paystack).

The fake checks payout requests as Paystack does (bearer key, ``nuban`` recipients with a
known bank code and a 10-digit account number it can resolve, transfers from the balance
to an active recipient with a 16-50 character reference used once) and settles each
transfer after answering it ``pending``, as its scenario switch says, with Paystack's signed
``transfer.*`` webhook. Every server here is started on 127.0.0.1 by the test and stopped
by it; webhooks are awaited on a condition, never a sleep.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.servers import Delivery, WebhookReceiver
from tollgate.errors import ValidationFailed
from tollgate.gateways import (
    BankAccount,
    GatewayError,
    GatewayEvent,
    InvalidSignature,
    PayoutAccount,
    Transfer,
    is_transient,
    transfer_reference,
)
from tollgate.gateways.paystack import PaystackGateway
from tollgate_local.fake_paystack import FakePaystack

KEY = "sk_test_payouts_integration_only"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "paystack"
BANK = BankAccount(bank_code="058", account_number="0123456789", account_name="Ada Obi")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePaystack]:
    with FakePaystack(secret_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("/v1/webhooks/paystack", "paystack-payouts-receiver") as rec:
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
def recipient(gateway: PaystackGateway, paystack: FakePaystack) -> str:
    code = open_account(gateway).account_id
    paystack.clear_requests()
    return code


def open_account(gateway: PaystackGateway, bank: BankAccount | None = BANK, developer_id: str = "dev_ada") -> PayoutAccount:
    return gateway.open_account(developer_id, bank=bank, return_url="", refresh_url="", idempotency_key="open-1")


def payout_id() -> str:
    return f"po_{uuid.uuid4().hex[:26]}"


def transfer_webhook(receiver: WebhookReceiver, reference: str) -> Delivery:
    """Paystack's ``transfer.*`` webhook about the transfer ``reference``, once it has arrived."""
    return receiver.wait_for(lambda d: d.event["data"].get("reference") == reference, f"transfer webhook for {reference}")


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


def _shape(value: Any) -> Any:
    """The keys and nesting of a JSON value (its leaves' values left out)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


# -- accounts: transfer recipients ---------------------------------------------------------


def test_open_account_creates_a_nuban_recipient(gateway, paystack):
    opened = open_account(gateway)

    assert opened.account_id.startswith("RCP_")
    assert opened == PayoutAccount(gateway="paystack", account_id=opened.account_id, status="active", currency="NGN",
                                   details={"bank_name": "Guaranty Trust Bank", "account_last4": "6789"})
    [call] = paystack.requests_to("/transferrecipient")
    assert (call.method, call.status, call.authorization) == ("POST", 201, f"Bearer {KEY}")
    assert call.body == {"type": "nuban", "name": "Ada Obi", "account_number": "0123456789", "bank_code": "058",
                         "currency": "NGN", "metadata": {"developer_id": "dev_ada"}}

    assert gateway.account(opened.account_id, return_url="", refresh_url="") == opened
    assert open_account(gateway).account_id == opened.account_id  # the same bank details: the same recipient
    assert len(paystack.recipients()) == 1


@pytest.mark.parametrize(("bank", "field"), [
    (None, "bank_code"),
    (BankAccount("58", "0123456789", "Ada Obi"), "bank_code"),
    (BankAccount("0588888", "0123456789", "Ada Obi"), "bank_code"),
    (BankAccount("058", "123456789", "Ada Obi"), "account_number"),
    (BankAccount("058", "01234567890", "Ada Obi"), "account_number"),
    (BankAccount("058", "01234-6789", "Ada Obi"), "account_number"),
    (BankAccount("058", "0123456789", ""), "account_name"),
    (BankAccount("058", "0123456789", "x" * 101), "account_name"),
])
def test_a_bad_bank_account_is_refused_before_any_call(gateway, paystack, bank, field):
    with pytest.raises(ValidationFailed) as info:
        open_account(gateway, bank)
    assert (info.value.status, info.value.details["field"]) == (422, field)
    assert paystack.requests == []


@pytest.mark.parametrize(("bank", "said"), [
    (BankAccount("058", "0001234567", "Ada Obi"), "Could not resolve account name"),  # the bank cannot resolve it
    (BankAccount("999", "0123456789", "Ada Obi"), "Unknown bank code: 999"),
])
def test_paystacks_refusal_of_the_account_is_a_422(gateway, paystack, bank, said):
    with pytest.raises(ValidationFailed) as info:
        open_account(gateway, bank)
    assert (info.value.status, info.value.code, info.value.details["field"]) == (422, "validation_error",
                                                                                  "account_number")
    assert said in info.value.message and KEY not in info.value.message
    [call] = paystack.requests_to("/transferrecipient")
    assert call.status in {400, 422}
    assert paystack.recipients() == []


def test_a_wrong_key_is_not_the_accounts_fault(paystack):
    gateway = PaystackGateway("sk_test_wrong", api_base=paystack.endpoint, timeout=5)
    with pytest.raises(GatewayError) as info:
        open_account(gateway)
    assert info.value.details["gateway_status"] == 401 and not is_transient(info.value)


def test_an_inactive_or_unknown_recipient_is_a_permanent_gateway_error(gateway, paystack, recipient):
    status, _ = paystack.handle("DELETE", f"/transferrecipient/{recipient}", {"authorization": f"Bearer {KEY}"}, b"")
    assert status == 200
    with pytest.raises(GatewayError) as inactive:
        gateway.account(recipient, return_url="", refresh_url="")
    assert "inactive" in inactive.value.message and not is_transient(inactive.value)
    with pytest.raises(GatewayError) as unknown:
        gateway.account("RCP_doesnotexist", return_url="", refresh_url="")
    assert unknown.value.details["gateway_status"] == 404 and not is_transient(unknown.value)


def test_the_fake_lists_nigerian_banks(paystack):
    status, body = paystack.handle("GET", "/bank?country=nigeria", {"authorization": f"Bearer {KEY}"}, b"")
    assert status == 200 and body["status"] is True
    assert {"Guaranty Trust Bank", "Access Bank"} <= {bank["name"] for bank in body["data"]}
    assert all(bank["currency"] == "NGN" and bank["type"] == "nuban" for bank in body["data"])
    assert paystack.requests_to("/bank")[0].query == {"country": "nigeria"}
    assert paystack.handle("GET", "/bank?country=ghana", {"authorization": f"Bearer {KEY}"}, b"")[1]["data"] == []


# -- transfers -------------------------------------------------------------------------------


def test_a_transfer_verifies_first_then_sends_what_paystack_documents(gateway, paystack, recipient):
    paystack.transfer_outcome("none")
    payout = payout_id()
    reference = transfer_reference(payout)

    made = gateway.transfer(payout, recipient, 150_000, "NGN")

    assert made.transfer_id.startswith("TRF_")
    assert (made.reference, made.status, made.amount, made.currency, made.failure) == (
        reference, "pending", 150_000, "NGN", None)
    verify, post = paystack.requests
    assert (verify.method, verify.path, verify.status) == ("GET", f"/transfer/verify/{reference}", 404)
    assert (post.method, post.path, post.status) == ("POST", "/transfer", 200)
    assert post.body == {"source": "balance", "amount": 150_000, "recipient": recipient, "reference": reference,
                         "reason": f"Tollgate payout {payout}", "currency": "NGN"}
    assert "idempotency-key" not in post.headers  # Paystack has none; the reference is the key

    assert gateway.find_transfer(payout) == made
    assert gateway.find_transfer(payout_id()) is None  # Paystack's 404 "Transfer not found" is no error


def test_a_second_call_for_the_payout_adopts_its_transfer(gateway, paystack, recipient):
    paystack.transfer_outcome("none")
    payout = payout_id()
    first = gateway.transfer(payout, recipient, 50_000, "NGN")
    again = gateway.transfer(payout, recipient, 50_000, "NGN")
    assert again == first
    assert len(paystack.requests_to("/transfer/verify/")) == 2 and len(paystack.requests_to("/transfer")) == 3
    assert [t["reference"] for t in paystack.transfers()] == [first.reference]  # exactly one transfer
    assert [r.method for r in paystack.requests if r.path == "/transfer"] == ["POST"]


def test_a_lost_answer_is_transient_and_the_retry_adopts_what_was_made(gateway, paystack, recipient):
    paystack.transfer_outcome("none")
    paystack.fail_next_transfers(500, after_creating=True)
    payout = payout_id()
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, recipient, 75_000, "NGN")
    assert info.value.details["gateway_status"] == 500 and is_transient(info.value)
    assert len(paystack.transfers()) == 1  # made all the same

    adopted = gateway.transfer(payout, recipient, 75_000, "NGN")
    assert (adopted.reference, adopted.status, adopted.amount) == (transfer_reference(payout), "pending", 75_000)
    assert len(paystack.transfers()) == 1
    assert [r.status for r in paystack.requests if r.path == "/transfer"] == [500]  # no second POST


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False)])
def test_failures_are_classified_and_nothing_is_made(gateway, paystack, recipient, status, transient):
    paystack.transfer_outcome("none")
    paystack.fail_next_transfers(status)
    payout = payout_id()
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, recipient, 10_000, "NGN")
    assert (info.value.status, info.value.details["gateway_status"]) == (503 if transient else 502, status)
    assert is_transient(info.value) is transient
    assert KEY not in info.value.message
    assert paystack.transfers() == []
    assert gateway.transfer(payout, recipient, 10_000, "NGN").status == "pending"  # then it goes through
    assert len(paystack.transfers()) == 1


def test_a_network_failure_is_transient():
    gateway = PaystackGateway(KEY, api_base="http://127.0.0.1:9", timeout=1)
    with pytest.raises(GatewayError) as info:
        gateway.find_transfer(payout_id())
    assert info.value.details["gateway_status"] is None and is_transient(info.value)


def test_a_duplicate_reference_refusal_adopts_the_transfer_another_attempt_made(gateway, paystack, recipient,
                                                                                 monkeypatch):
    paystack.transfer_outcome("none")
    payout = payout_id()
    other = gateway.transfer(payout, recipient, 20_000, "NGN")  # a concurrent attempt, already done
    real_find, calls = gateway.find_transfer, []

    def find_transfer(payout_id: str) -> Transfer | None:
        calls.append(payout_id)  # our own verify ran before that attempt's POST landed: it found nothing
        return None if len(calls) == 1 else real_find(payout_id)

    monkeypatch.setattr(gateway, "find_transfer", find_transfer)

    assert gateway.transfer(payout, recipient, 20_000, "NGN") == other
    assert calls == [payout, payout]
    assert [r.status for r in paystack.requests if r.path == "/transfer"] == [200, 400]
    assert len(paystack.transfers()) == 1


def test_the_same_payout_for_another_amount_is_refused(gateway, paystack, recipient):
    paystack.transfer_outcome("none")
    payout = payout_id()
    gateway.transfer(payout, recipient, 20_000, "NGN")
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, recipient, 30_000, "NGN")
    assert not is_transient(info.value)
    assert len(paystack.transfers()) == 1


def test_a_transfer_to_an_inactive_recipient_is_refused(gateway, paystack, recipient):
    paystack.handle("DELETE", f"/transferrecipient/{recipient}", {"authorization": f"Bearer {KEY}"}, b"")
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout_id(), recipient, 1_000, "NGN")
    assert "Recipient specified is invalid" in info.value.message
    assert info.value.details["gateway_code"] == "invalid_transfer_recipient" and not is_transient(info.value)


def test_bad_arguments_are_refused_before_any_call(gateway, paystack):
    for amount in (0, -1, False, 2.5):
        with pytest.raises(ValueError):
            gateway.transfer(payout_id(), "RCP_x", amount, "NGN")
    assert paystack.requests == []


# -- outcomes and their webhooks ---------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "event_name", "kind", "status"), [
    ("success", "transfer.success", "transfer_succeeded", "succeeded"),
    ("failed", "transfer.failed", "transfer_failed", "failed"),
    ("reversed", "transfer.reversed", "transfer_reversed", "reversed"),
])
def test_each_outcome_sends_its_signed_webhook_after_the_answer(gateway, paystack, recipient, receiver,
                                                                outcome, event_name, kind, status):
    paystack.webhook_url = receiver.url
    paystack.transfer_outcome(outcome)
    payout = payout_id()

    made = gateway.transfer(payout, recipient, 250_000, "NGN")
    assert made.status == "pending"  # the answer; the outcome follows it

    delivery = transfer_webhook(receiver, made.reference)
    event = gateway.parse_webhook(delivery.body, delivery.headers)
    assert (event.kind, event.raw_type, event.transfer_reference, event.transfer_id) == (
        kind, event_name, made.reference, made.transfer_id)
    assert (event.amount, event.currency, event.payout_id) == (250_000, "NGN", None)
    assert event.event_id.startswith(f"{event_name}:")
    assert (event.failure is None) is (outcome == "success")
    payload = delivery.event
    assert payload["data"]["recipient"].pop("metadata") == {"developer_id": "dev_ada"}  # ours, echoed
    example = json.loads((FIXTURES / "transfer_success.json").read_text())
    del example["data"]["recipient"]["metadata"]
    assert _shape(payload) == _shape(example)  # Paystack's documented shape, with the fake's values

    found = gateway.find_transfer(payout)
    assert (found.status, found.transfer_id) == (status, made.transfer_id)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(delivery.body.replace(b"250000", b"2500000"), delivery.headers)


def test_with_no_outcome_the_transfer_waits_for_a_webhook_sent_on_demand(gateway, paystack, recipient, receiver):
    paystack.transfer_outcome("none")
    made = gateway.transfer(payout_id(), recipient, 5_000, "NGN")
    assert paystack.sent_webhooks == []
    assert paystack.send_transfer_webhook(made.reference, "transfer.failed", url=receiver.url) == 200
    delivery = transfer_webhook(receiver, made.reference)
    event = gateway.parse_webhook(delivery.body, delivery.headers)
    assert (event.kind, event.transfer_reference) == ("transfer_failed", made.reference)
    assert paystack.transfers()[0]["status"] == "failed"


def test_the_http_controls_drive_the_same_switches(gateway, paystack, recipient, receiver):
    paystack.webhook_url = receiver.url
    assert control(paystack, "transfers/outcome", {"outcome": "none"}) == (200, {"outcome": "none"})
    assert control(paystack, "transfers/fail", {"status": 503, "count": 1})[0] == 200
    payout = payout_id()
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, recipient, 8_000, "NGN")
    assert is_transient(info.value)
    made = gateway.transfer(payout, recipient, 8_000, "NGN")

    status, listed = control(paystack, "transfers")
    assert status == 200 and [t["reference"] for t in listed["data"]] == [made.reference]
    assert listed["data"][0]["status"] == "pending"
    assert control(paystack, f"transfers/{made.reference}/webhook", {"event": "transfer.reversed"}) == (
        200, {"receiver_status": 200})
    delivery = transfer_webhook(receiver, made.reference)
    event: GatewayEvent = gateway.parse_webhook(delivery.body, delivery.headers)
    assert event.kind == "transfer_reversed"
    assert gateway.find_transfer(payout).status == "reversed"

    assert control(paystack, "transfers/outcome", {"outcome": "maybe"})[0] == 400
    assert control(paystack, "transfers/fail", {"status": 200})[0] == 400
    assert control(paystack, "transfers/unknown-reference-0000/webhook", {"event": "transfer.success"})[0] == 404
    assert control(paystack, "nothing")[0] == 404
    assert all(not r.path.startswith("/_tollgate") for r in paystack.requests)  # controls are not API calls


def test_the_fake_refuses_what_paystack_refuses_for_transfers(paystack, recipient):
    def post(body, key=KEY):
        return paystack.handle("POST", "/transfer", {"authorization": f"Bearer {key}"}, json.dumps(body).encode())

    good = {"source": "balance", "amount": 1000, "recipient": recipient, "reference": "tollgate-payout-0123456789ab",
            "currency": "NGN"}
    assert post(good)[0] == 200
    assert post(good) == (400, {"status": False, "message": "Duplicate Transfer Reference"})
    for bad in [
        {**good, "reference": "short-ref"},
        {**good, "reference": "Tollgate-Payout-0123456789AB"},
        {**good, "reference": "tollgate.payout.0123456789ab"},
        {**good, "amount": 10.5},
        {**good, "source": "card"},
        {**good, "recipient": "RCP_unknown"},
    ]:
        assert post(bad)[0] == 400, bad
    assert post(good, key="sk_test_wrong")[0] == 401
    assert paystack.handle("GET", "/transfer/verify/nothing-like-it-0000", {"authorization": f"Bearer {KEY}"},
                           b"") == (404, {"status": False, "message": "Transfer not found"})
