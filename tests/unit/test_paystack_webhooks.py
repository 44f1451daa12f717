"""Paystack webhooks: signature checking over the raw body, and each event's mapping.

The payloads in tests/fixtures/paystack/ are Paystack's documented examples, verbatim
(PaystackOSS/doc-code-snippets, the source of paystack.com/docs: dist/doc/payments/webhooks/
events.js - ``transaction_successful``, ``charge_dispute_create``, ``charge_dispute_resolve``,
``refund_processed``, ``transfer_successful``; src/doc/payments/webhooks/events/refund-failed.json
- ``refund_failed.json``; the List Refunds answer of src/doc/payments/refunds/list-refunds/index.json
- ``refund_list.json``). The one exception,
``charge_success_tollgate.json``, is the documented ``charge.success`` with the reference,
amount and metadata that Tollgate sends at initialize (Paystack echoes metadata back). Each
body is signed here with a real HMAC-SHA512 over the file's exact bytes, as Paystack signs
what it sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from tollgate.gateways import GatewayError, GatewayNotConfigured, InvalidSignature, MalformedWebhook, Refund
from tollgate.gateways.models import answer_object
from tollgate.gateways.paystack import PaystackGateway, purchase_id_for, reference_for, schemas
from tollgate.gateways.paystack.refunds import carries_marker, refund_from, refund_marker, refund_status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "paystack"
KEY = "sk_test_4f0c1b9d2e7a48d6b3c5a1f0e9d8c7b6a5f4e3d2"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(body: bytes, key: str = KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def parse(body: bytes, headers: dict[str, str] | None = None):
    gateway = PaystackGateway(KEY)
    return gateway.parse_webhook(body, {"x-paystack-signature": signature(body)} if headers is None else headers)


def resigned(name: str, **data_changes) -> bytes:
    payload = json.loads(raw(name))
    payload["data"].update(data_changes)
    return json.dumps(payload).encode()


# -- mappings --------------------------------------------------------------------------


def test_charge_success_as_tollgate_initializes_it():
    event = parse(raw("charge_success_tollgate.json"))
    assert event.kind == "payment_succeeded"
    assert event.raw_type == "charge.success"
    assert event.event_id == "charge.success:302961"
    assert event.reference == "pur-6f3kq2mzr7xa4bnc5d2eyh3uvi"
    assert event.purchase_id == "pur_6f3kq2mzr7xa4bnc5d2eyh3uvi"  # from metadata
    assert event.amount == 250000
    assert isinstance(event.amount, int)
    assert event.currency == "NGN"
    assert event.refunds == ()


def test_charge_success_verbatim_without_metadata_falls_back_to_the_reference():
    event = parse(raw("charge_success.json"))  # documented "metadata": 0
    assert (event.kind, event.reference, event.purchase_id) == ("payment_succeeded", "qTPrJoy9Bx", "qTPrJoy9Bx")
    assert (event.amount, event.currency, event.event_id) == (10000, "NGN", "charge.success:302961")


@pytest.mark.parametrize("metadata", ['{"purchase_id": "pur_abc"}', {"purchase_id": "pur_abc"}])
def test_metadata_may_come_back_as_a_json_string_or_an_object(metadata):
    event = parse(resigned("charge_success.json", metadata=metadata, reference="whatever"))
    assert event.purchase_id == "pur_abc"


@pytest.mark.parametrize("metadata", ["", None, 0, "not json", [], {"purchase_id": ""}])
def test_empty_or_odd_metadata_falls_back_to_our_reference(metadata):
    event = parse(resigned("charge_success.json", metadata=metadata, reference="pur-abc234"))
    assert event.purchase_id == "pur_abc234"


def test_refund_processed_verbatim():
    event = parse(raw("refund_processed.json"))
    assert event.kind == "refund"
    assert event.raw_type == "refund.processed"
    # No "id" in Paystack's refund events: the processor's refund_reference names it.
    assert event.event_id == "refund.processed:132013318360"
    assert event.refunds == (Refund(refund_id="132013318360", amount=5000),)  # "5000", a string, parsed exactly
    assert event.reference == "T2154954_412829_3be32076_6lcg3"
    assert event.purchase_id == "T2154954_412829_3be32076_6lcg3"
    assert event.currency == "NGN"


def test_refund_processed_for_a_tollgate_payment_names_the_purchase():
    event = parse(resigned("refund_processed.json", transaction_reference="pur-abc234", amount=2500))
    assert (event.reference, event.purchase_id) == ("pur-abc234", "pur_abc234")
    assert event.refunds == (Refund("132013318360", 2500),)


def test_refund_event_with_an_id_uses_it():
    event = parse(resigned("refund_processed.json", id=3018284))
    assert event.refunds[0].refund_id == "3018284"
    assert event.event_id == "refund.processed:3018284"


def test_refund_processed_is_a_succeeded_refund():
    event = parse(raw("refund_processed.json"))
    assert (event.refunds[0].status, event.refunds[0].failure, event.failure) == ("succeeded", None, None)
    assert event.refunds[0].tollgate_refund_id is None  # Paystack keeps no metadata on a refund


def test_refund_failed_verbatim():
    event = parse(raw("refund_failed.json"))
    assert event.kind == "refund_failed"
    assert event.raw_type == "refund.failed"
    assert event.event_id == "refund.failed:TRF_9vgfawjnoz58uxy"
    assert event.refunds == (Refund("TRF_9vgfawjnoz58uxy", 20000, "failed", None, "Paystack reports the refund failed"),)
    assert event.failure == "Paystack reports the refund failed"
    assert (event.reference, event.purchase_id, event.currency) == (
        "T9171231_412325_3be2736c_n6tml", "T9171231_412325_3be2736c_n6tml", "NGN")


def test_refund_failed_without_a_reference_gets_a_stable_hash_id():
    body = resigned("refund_failed.json", refund_reference=None, transaction_reference="pur-abc234")
    first, again = parse(body), parse(body)
    assert first.event_id == again.event_id and first.event_id.startswith("refund.failed:h")
    assert first.refunds[0].refund_id == first.event_id.removeprefix("refund.failed:")
    assert first.purchase_id == "pur_abc234"


@pytest.mark.parametrize("name", ["refund.pending", "refund.processing", "refund.needs-attention"])
def test_a_refund_not_over_yet_is_ignored(name):
    payload = json.loads(raw("refund_processed.json"))
    payload["event"], payload["data"]["status"] = name, name.removeprefix("refund.")
    event = parse(json.dumps(payload).encode())
    assert (event.kind, event.raw_type, event.refunds) == ("ignored", name, ())


@pytest.mark.parametrize("amount", ["50.00", 50.0, None, True, "-5", -5, "5e3", ""])
def test_refund_amount_that_is_not_exact_is_refused(amount):
    with pytest.raises(MalformedWebhook) as info:
        parse(resigned("refund_processed.json", amount=amount))
    assert info.value.details == {"gateway": "paystack", "field": "data.amount"}


def test_dispute_create_verbatim():
    event = parse(raw("dispute_create.json"))
    assert event.kind == "dispute_opened"
    assert event.raw_type == "charge.dispute.create"
    assert event.event_id == "charge.dispute.create:358950"
    assert event.dispute_id == "358950"
    assert event.dispute_amount == 5800
    assert event.dispute_status is None
    assert event.reference == "v3mjfgbnc19v97x"  # data.transaction.reference (transaction_reference is null)
    assert event.purchase_id == "v3mjfgbnc19v97x"  # metadata "" -> the reference
    assert event.currency == "NGN"


def test_dispute_resolve_verbatim_auto_accepted_is_lost():
    event = parse(raw("dispute_resolve.json"))
    assert event.kind == "dispute_closed"
    assert event.event_id == "charge.dispute.resolve:358949"
    assert (event.dispute_id, event.dispute_status, event.dispute_amount) == ("358949", "lost", 5700)
    assert event.reference == "5qm4pv2mxs9rltp"


@pytest.mark.parametrize(
    ("resolution", "status"), [("declined", "won"), ("merchant-accepted", "lost"), ("auto-accepted", "lost")]
)
def test_dispute_resolution(resolution, status):
    assert parse(resigned("dispute_resolve.json", resolution=resolution)).dispute_status == status


def test_dispute_on_a_tollgate_payment_names_the_purchase():
    payload = json.loads(raw("dispute_create.json"))
    payload["data"]["transaction"].update(reference="pur-abc234", metadata={"purchase_id": "pur_abc234"})
    event = parse(json.dumps(payload).encode())
    assert (event.reference, event.purchase_id) == ("pur-abc234", "pur_abc234")


def test_unknown_event_is_ignored():
    # transfer.* events are payouts' (tests/unit/test_payout_gateways.py); this one Tollgate does not read.
    body = json.dumps({"event": "customeridentification.success",
                       "data": {"id": 37272792, "customer_id": "9387490384", "email": "ada@example.com"}}).encode()
    event = parse(body)
    assert event.kind == "ignored"
    assert event.raw_type == "customeridentification.success"
    assert event.event_id == "customeridentification.success:37272792"
    assert (event.purchase_id, event.reference, event.amount, event.refunds) == (None, None, None, ())


def test_event_ids_are_stable_across_redeliveries():
    first = parse(raw("dispute_create.json"))
    again = parse(json.dumps(json.loads(raw("dispute_create.json")), indent=None).encode())  # other bytes
    assert first.event_id == again.event_id


def test_event_without_an_id_gets_a_stable_hash():
    body = json.dumps({"event": "subscription.expiring_cards", "data": [{"brand": "visa"}]}).encode()
    first, again = parse(body), parse(body)
    assert first.kind == "ignored"
    assert first.event_id == again.event_id
    assert first.event_id.startswith("subscription.expiring_cards:h")


def test_charge_success_without_a_reference_is_refused():
    with pytest.raises(MalformedWebhook) as info:
        parse(resigned("charge_success.json", reference=None))
    assert (info.value.status, info.value.code) == (422, "validation_error")
    assert info.value.details == {"gateway": "paystack", "field": "data.reference"}


def test_a_dispute_naming_no_transaction_is_refused():
    payload = json.loads(raw("dispute_create.json"))
    payload["data"]["transaction"] = None
    with pytest.raises(MalformedWebhook) as info:
        parse(json.dumps(payload).encode())
    assert info.value.details["field"] == "data.transaction.reference"


@pytest.mark.parametrize(("body", "field"), [
    (b"not json", "body"),
    (b"[]", "body"),
    (b"\xff\xfe", "body"),
    (b'{"data": {}}', "event"),
    (b'{"event": "charge.success", "data": []}', "data"),
    (b'{"event": "charge.success", "data": {"reference": "r", "amount": 19.99}}', "data.amount"),
])
def test_signed_body_that_is_not_an_event_is_refused(body, field):
    with pytest.raises(MalformedWebhook) as info:
        parse(body)
    assert (info.value.status, info.value.code) == (422, "validation_error")
    assert info.value.details == {"gateway": "paystack", "field": field}


# -- signatures --------------------------------------------------------------------------


def test_header_name_is_case_insensitive():
    body = raw("charge_success.json")
    for name in ("X-Paystack-Signature", "X-PAYSTACK-SIGNATURE", "x-paystack-signature"):
        assert parse(body, {"Content-Type": "application/json", name: signature(body)}).kind == "payment_succeeded"


def test_two_different_signature_headers_are_refused():
    body = raw("charge_success.json")
    with pytest.raises(InvalidSignature, match="more than one"):
        parse(body, {"x-paystack-signature": signature(body), "X-Paystack-Signature": "0" * 128})


def test_forged_signature_is_refused():
    body = raw("charge_success.json")
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": "0" * 128})
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": "not-even-hex"})


def test_signature_made_with_another_key_is_refused():
    body = raw("charge_success.json")
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": signature(body, "sk_test_someone_else")})


def test_tampered_body_is_refused():
    body = raw("charge_success_tollgate.json")
    tampered = body.replace(b'"amount": 250000', b'"amount": 2500000')
    assert tampered != body
    with pytest.raises(InvalidSignature):
        parse(tampered, {"x-paystack-signature": signature(body)})
    # Re-serialising the same JSON is a different body too: the signature covers bytes.
    reformatted = json.dumps(json.loads(body)).encode()
    with pytest.raises(InvalidSignature):
        parse(reformatted, {"x-paystack-signature": signature(body)})


def test_missing_signature_is_refused():
    body = raw("charge_success.json")
    with pytest.raises(InvalidSignature):
        parse(body, {"content-type": "application/json"})
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": ""})


def test_sha256_or_truncated_signature_is_refused():
    body = raw("charge_success.json")
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()})
    with pytest.raises(InvalidSignature):
        parse(body, {"x-paystack-signature": signature(body)[:64]})


def test_without_a_key_webhooks_are_unavailable_not_accepted():
    body = raw("charge_success.json")
    with pytest.raises(GatewayNotConfigured):
        PaystackGateway(None).parse_webhook(body, {"x-paystack-signature": signature(body)})
    with pytest.raises(GatewayNotConfigured):
        PaystackGateway(lambda: "").parse_webhook(body, {"x-paystack-signature": signature(body, "")})


# -- references ----------------------------------------------------------------------------


def test_reference_for_a_purchase_id_uses_only_what_paystack_allows():
    assert reference_for("pur_6f3kq2mzr7xa4bnc5d2eyh3uvi") == "pur-6f3kq2mzr7xa4bnc5d2eyh3uvi"
    assert purchase_id_for("pur-6f3kq2mzr7xa4bnc5d2eyh3uvi") == "pur_6f3kq2mzr7xa4bnc5d2eyh3uvi"
    assert purchase_id_for("T685312322670591") == "T685312322670591"
    assert purchase_id_for("a-b-c") == "a-b-c"
    with pytest.raises(ValueError):
        reference_for("pur/../x")


# -- refunds made here (tollgate.gateways.paystack.refunds) ----------------------------------


@pytest.mark.parametrize(("status", "expected"), [
    ("processed", "succeeded"), ("failed", "failed"), ("pending", "pending"), ("processing", "pending"),
    ("needs-attention", "pending"), ("reversed", "pending"), (None, "pending"), (" Processed ", "succeeded"),
])
def test_paystack_refund_statuses(status, expected):
    assert refund_status(status) == expected


def test_the_marker_names_the_key_whole():
    marker = refund_marker("refund-rf_1")
    assert marker == "Tollgate refund refund-rf_1"
    assert carries_marker("Tollgate refund refund-rf_1", marker)
    assert carries_marker("Tollgate refund refund-rf_1 (retried)", marker)
    assert not carries_marker("Tollgate refund refund-rf_12", marker)
    assert not carries_marker("xTollgate refund refund-rf_1", marker)
    assert not carries_marker(None, marker)
    for bad in ("", "k" * 200, "line\nbreak"):
        with pytest.raises(ValueError):
            refund_marker(bad)


def test_list_refunds_items_read_as_refunds():
    """Paystack's List Refunds example: each item, as the adapter reads it."""
    listed = json.loads(raw("refund_list.json"))
    assert listed["meta"] == {"total": 2, "skipped": 0, "perPage": 50, "page": 1, "pageCount": 1}
    items = [answer_object(schemas.Refund, item, gateway="paystack", what="list refunds") for item in listed["data"]]
    assert [(r.id, r.amount, r.status, r.merchant_note) for r in items] == [
        ("747680", 10000, "processed", "Refund for transaction qufywna9w9a5d8v by jen@smith.com"),
        ("742609", 20000, "processed", "yada yada"),
    ]
    assert refund_from(items[0]) == Refund("747680", 10000, "succeeded")


def test_a_created_refund_reads_as_pending_and_a_failed_one_says_so():
    created = answer_object(schemas.Refund, json.loads(raw("refund_create.json"))["data"], gateway="paystack",
                            what="refund")
    assert refund_from(created) == Refund("3018284", 10000, "pending")
    failed = created.model_copy(update={"status": "failed", "amount": None})
    assert refund_from(failed, asked=400) == Refund("3018284", 400, "failed", None, "Paystack reports the refund failed")
    with pytest.raises(GatewayError, match="without the amount"):
        refund_from(failed)
