"""The payout side of the gateways, without a network: transfer references, which failures are
transient, the bank account checks made before any call, Paystack's transfer statuses, and
the ``transfer.*`` webhooks of both gateways (signed here as each gateway signs).

The Paystack ``transfer.success`` body is Paystack's documented example, verbatim
(tests/fixtures/paystack/transfer_success.json); ``transfer.failed`` and ``transfer.reversed``
have its shape with another status. The Stripe ``transfer.reversed`` event is a Transfer
object shaped as in Stripe's API reference.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tollgate.errors import ValidationFailed
from tollgate.gateways import (
    PAYOUT_CURRENCIES,
    BankAccount,
    GatewayError,
    GatewayEvent,
    MalformedWebhook,
    PaymentGateway,
    PayoutGateway,
    get_payout_gateway,
    is_transient,
    set_payout_gateway,
    transfer_reference,
)
from tollgate.gateways.paystack import PaystackGateway
from tollgate.gateways.paystack.payouts import checked_bank, transfer_status
from tollgate.gateways.stripe import StripeGateway

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "paystack"
PAYSTACK_KEY = "sk_test_0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
STRIPE_SECRET = "whsec_3a1c5e7f9b2d4f6a8c0e2b4d6f8a1c3e"
REFERENCE_SHAPE = re.compile(r"[a-z0-9_-]{16,50}")
PAYOUT = "po_6f3kq2mzr7xa4bnc5d2eyh3uvi"

payout_ids = st.one_of(
    st.text(min_size=1, max_size=200),
    st.from_regex(r"po_[a-z2-7]{26}", fullmatch=True),
)


# -- transfer references ------------------------------------------------------------------


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(payout_id=payout_ids)
def test_a_transfer_reference_is_what_paystack_accepts_and_the_same_every_time(payout_id):
    reference = transfer_reference(payout_id)
    assert REFERENCE_SHAPE.fullmatch(reference), reference
    assert transfer_reference(payout_id) == reference


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(ids=st.lists(payout_ids, min_size=2, max_size=20, unique=True))
def test_distinct_payouts_get_distinct_references(ids):
    assert len({transfer_reference(i) for i in ids}) == len(ids)


def test_a_transfer_reference_is_pinned():
    # A stored payout must keep finding its transfer: the derivation may never change.
    assert transfer_reference(PAYOUT) == "tollgate-payout-" + hashlib.sha256(PAYOUT.encode()).hexdigest()[:32]


# -- transient failures -------------------------------------------------------------------


def _error(status: int | None) -> GatewayError:
    return GatewayError("it failed", gateway="paystack", gateway_status=status)


@pytest.mark.parametrize(("status", "transient"), [
    (None, True),  # no answer at all: network error or timeout
    (429, True),
    (500, True), (502, True), (503, True), (504, True),
    (200, False),  # answered, and the answer will not change (an inactive recipient)
    (400, False), (401, False), (402, False), (403, False), (404, False), (409, False), (422, False),
])
def test_is_transient(status, transient):
    assert is_transient(_error(status)) is transient


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(status=st.integers(min_value=100, max_value=599))
def test_only_429_and_5xx_answers_are_transient(status):
    assert is_transient(_error(status)) is (status == 429 or status >= 500)


# -- the bank account checks, before any call ----------------------------------------------


GOOD_BANK = BankAccount(bank_code="058", account_number="0123456789", account_name="Ada Obi")


@pytest.mark.parametrize(("bank", "field"), [
    (None, "bank_code"),
    (BankAccount("58", "0123456789", "Ada Obi"), "bank_code"),
    (BankAccount("1234567", "0123456789", "Ada Obi"), "bank_code"),
    (BankAccount("05a", "0123456789", "Ada Obi"), "bank_code"),
    (BankAccount("٠٥٨", "0123456789", "Ada Obi"), "bank_code"),  # Arabic-Indic digits are not digits here
    (BankAccount("058", "012345678", "Ada Obi"), "account_number"),
    (BankAccount("058", "01234567890", "Ada Obi"), "account_number"),
    (BankAccount("058", "012345678x", "Ada Obi"), "account_number"),
    (BankAccount("058", "0123456789\n", "Ada Obi"), "account_number"),
    (BankAccount("058", "0123456789", ""), "account_name"),
    (BankAccount("058", "0123456789", "   "), "account_name"),
    (BankAccount("058", "0123456789", "A" * 101), "account_name"),
    (BankAccount("058", "0123456789", "Ada\x00Obi"), "account_name"),
])
def test_a_bad_bank_account_is_a_422_naming_the_field(bank, field):
    with pytest.raises(ValidationFailed) as info:
        checked_bank(bank)
    assert (info.value.status, info.value.code, info.value.details["field"]) == (422, "validation_error", field)


def test_a_good_bank_account_passes_with_its_name_trimmed():
    assert checked_bank(GOOD_BANK) == GOOD_BANK
    assert checked_bank(BankAccount("50211", "0123456789", "  Ada Obi ")).account_name == "Ada Obi"
    assert checked_bank(BankAccount("058", "0123456789", "A" * 100)).account_name == "A" * 100


def test_paystack_refuses_a_bad_bank_account_without_a_key_or_a_call():
    # No key and an unroutable API base: a call would fail differently (503 or 502), so a 422 means none was made.
    gateway = PaystackGateway(None, api_base="http://127.0.0.1:9", timeout=0.1)
    with pytest.raises(ValidationFailed) as info:
        gateway.open_account("dev_1", bank=BankAccount("058", "123", "Ada"), return_url="", refresh_url="",
                             idempotency_key="k")
    assert info.value.details["field"] == "account_number"


# -- Paystack transfer statuses -------------------------------------------------------------


@pytest.mark.parametrize(("status", "shown"), [
    ("success", "succeeded"), ("SUCCESS", "succeeded"),
    ("failed", "failed"), ("abandoned", "failed"), ("rejected", "failed"),
    ("reversed", "reversed"),
    ("pending", "pending"), ("processing", "pending"), ("received", "pending"), ("otp", "pending"),
    ("queued", "pending"), ("", "pending"), (None, "pending"), ("something new", "pending"),
])
def test_paystack_transfer_statuses(status, shown):
    assert transfer_status(status) == shown


# -- Paystack transfer.* webhooks ------------------------------------------------------------


def paystack_parse(body: bytes) -> GatewayEvent:
    signature = hmac.new(PAYSTACK_KEY.encode(), body, hashlib.sha512).hexdigest()
    return PaystackGateway(PAYSTACK_KEY).parse_webhook(body, {"x-paystack-signature": signature})


def transfer_body(event: str = "transfer.success", **data_changes) -> bytes:
    payload = json.loads((FIXTURES / "transfer_success.json").read_bytes())
    payload["event"] = event
    payload["data"].update(data_changes)
    return json.dumps(payload).encode()


def test_paystack_transfer_success_verbatim():
    event = paystack_parse((FIXTURES / "transfer_success.json").read_bytes())
    assert event == GatewayEvent(
        event_id="transfer.success:37272792", kind="transfer_succeeded", raw_type="transfer.success",
        transfer_reference="1jhbs3ozmen0k7y5efmw", transfer_id="TRF_wpl1dem4967avzm", amount=30000, currency="NGN",
    )
    assert event.payout_id is None  # Paystack knows only the reference


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("transfer.failed", "failed", "transfer_failed"),
    ("transfer.reversed", "reversed", "transfer_reversed"),
])
def test_paystack_transfer_failed_and_reversed(name, status, kind):
    reference = transfer_reference(PAYOUT)
    event = paystack_parse(transfer_body(name, status=status, reference=reference, amount="150000"))
    assert (event.kind, event.raw_type, event.event_id) == (kind, name, f"{name}:37272792")
    assert (event.transfer_reference, event.amount, event.currency, event.payout_id) == (reference, 150000, "NGN", None)
    assert event.failure == f"Paystack reports the transfer {status}"
    given = paystack_parse(transfer_body(name, status=status, gateway_response="Beneficiary bank unavailable"))
    assert given.failure == "Beneficiary bank unavailable"


def test_paystack_transfer_events_are_told_apart_and_stable():
    success, reversed_ = paystack_parse(transfer_body()), paystack_parse(transfer_body("transfer.reversed"))
    assert success.event_id != reversed_.event_id
    assert paystack_parse(transfer_body()).event_id == success.event_id
    no_id = paystack_parse(transfer_body(id=None))
    assert no_id.event_id == "transfer.success:TRF_wpl1dem4967avzm"


@pytest.mark.parametrize(("changes", "field"), [
    ({"reference": None}, "data.reference"),
    ({"amount": 300.5}, "data.amount"),
    ({"amount": -1}, "data.amount"),
])
def test_a_paystack_transfer_event_without_what_it_needs_is_malformed(changes, field):
    with pytest.raises(MalformedWebhook) as info:
        paystack_parse(transfer_body(**changes))
    assert info.value.details == {"gateway": "paystack", "field": field}


# -- Stripe transfer.reversed -----------------------------------------------------------------


def stripe_transfer(**changes) -> dict:
    transfer = {
        "id": "tr_1PqLX2H5Yb2fGk1TqW3eR4tY", "object": "transfer", "amount": 12500, "amount_reversed": 12500,
        "balance_transaction": "txn_1PqLX2H5Yb2fGk1T8nM7bV6c", "created": 1724320000, "currency": "usd",
        "description": None, "destination": "acct_1PqLW9Q2x3y4z5A6", "livemode": False,
        "metadata": {"payout_id": PAYOUT}, "reversed": True, "source_transaction": None, "transfer_group": PAYOUT,
        "reversals": {"object": "list", "data": [{"id": "trr_1PqLY3H5Yb2fGk1T", "object": "transfer_reversal",
                                                  "amount": 12500, "currency": "usd"}], "has_more": False},
    }
    transfer.update(changes)
    return transfer


def stripe_parse(event_type: str, obj: dict) -> GatewayEvent:
    body = json.dumps({"id": "evt_1PqLY4H5Yb2fGk1TzX9cV8bN", "object": "event", "type": event_type,
                       "data": {"object": obj}}).encode()
    t = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return StripeGateway(api_key=None, webhook_secret=STRIPE_SECRET).parse_webhook(
        body, {"Stripe-Signature": f"t={t},v1={mac}"})


def test_stripe_transfer_reversed():
    event = stripe_parse("transfer.reversed", stripe_transfer())
    assert event == GatewayEvent(
        event_id="evt_1PqLY4H5Yb2fGk1TzX9cV8bN", kind="transfer_reversed", raw_type="transfer.reversed",
        payout_id=PAYOUT, transfer_reference=PAYOUT, transfer_id="tr_1PqLX2H5Yb2fGk1TqW3eR4tY", amount=12500,
        currency="USD", failure="Stripe reversed the transfer",
    )


def test_stripe_transfer_reversed_names_the_payout_by_group_or_metadata():
    by_group = stripe_parse("transfer.reversed", stripe_transfer(metadata={}))
    assert (by_group.payout_id, by_group.transfer_reference) == (PAYOUT, PAYOUT)
    by_metadata = stripe_parse("transfer.reversed", stripe_transfer(transfer_group=None))
    assert (by_metadata.payout_id, by_metadata.transfer_reference) == (PAYOUT, PAYOUT)
    neither = stripe_parse("transfer.reversed", stripe_transfer(transfer_group=None, metadata={}))
    assert (neither.kind, neither.payout_id) == ("transfer_reversed", None)  # not ours: the service decides
    partial = stripe_parse("transfer.reversed", stripe_transfer(amount_reversed=2500, reversed=False))
    assert partial.amount == 2500


@pytest.mark.parametrize("event_type", ["transfer.created", "transfer.updated"])
def test_other_stripe_transfer_events_are_ignored(event_type):
    assert stripe_parse(event_type, stripe_transfer(reversed=False, amount_reversed=0)).kind == "ignored"


def test_a_stripe_transfer_reversed_without_an_amount_is_malformed():
    obj = stripe_transfer()
    del obj["amount"]
    with pytest.raises(MalformedWebhook) as info:
        stripe_parse("transfer.reversed", obj)
    assert info.value.details == {"gateway": "stripe", "field": "data.object.amount"}


# -- the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "adapter"), [("stripe", StripeGateway), ("paystack", PaystackGateway)])
def test_get_payout_gateway_builds_each_adapter_once(name, adapter):
    set_payout_gateway(name, None)
    try:
        gateway = get_payout_gateway(name)  # building one needs no key
        assert isinstance(gateway, adapter) and isinstance(gateway, PayoutGateway)
        assert isinstance(gateway, PaymentGateway)  # one adapter, both interfaces
        assert get_payout_gateway(name) is gateway
        assert gateway.name == name and PAYOUT_CURRENCIES[name] in {"USD", "NGN"}
    finally:
        set_payout_gateway(name, None)


def test_set_payout_gateway_is_a_test_hook():
    class Fake(PayoutGateway):
        name = "stripe"

        def open_account(self, developer_id, *, bank, return_url, refresh_url, idempotency_key):
            raise NotImplementedError

        def account(self, account_id, *, return_url, refresh_url):
            raise NotImplementedError

        def transfer(self, payout_id, account_id, amount, currency):
            raise NotImplementedError

        def find_transfer(self, payout_id):
            return None

    fake = Fake()
    set_payout_gateway("stripe", fake)
    try:
        assert get_payout_gateway("stripe") is fake
    finally:
        set_payout_gateway("stripe", None)
    assert get_payout_gateway("stripe") is not fake
    set_payout_gateway("stripe", None)
    with pytest.raises(KeyError):
        get_payout_gateway("paypal")
