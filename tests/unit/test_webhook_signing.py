"""Outbound webhook signatures: what Tollgate signs (tollgate.events.signing) the SDK's verify_webhook
accepts; a tampered body, a wrong secret, a stale or future timestamp or a malformed header it refuses."""

from __future__ import annotations

import json

import pytest
from tollgate_sdk import SIGNATURE_HEADER, WebhookSignatureError, verify_webhook

from tollgate.events import HEADER, new_secret, sign

SECRET = "whsec_" + "ab" * 24
NOW = 1_796_169_555
BODY = json.dumps({"id": "evt_1", "type": "credits.low", "created_at": "2026-12-02T00:00:00.000Z",
                   "wallet_id": "user:alice", "data": {"available": "4.5", "threshold": "5"}}).encode()


def refused(body: bytes, header: str | None, secret: str = SECRET, now: int = NOW) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body, header, secret, now=now)


def test_a_signed_delivery_verifies_and_returns_the_event():
    header = sign(SECRET, NOW, BODY)
    assert header.startswith(f"t={NOW},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_webhook(BODY, header, SECRET, now=NOW + 299)["id"] == "evt_1"
    assert verify_webhook(BODY.decode(), header, SECRET, now=NOW)["type"] == "credits.low"  # a str body too
    assert HEADER == SIGNATURE_HEADER == "Tollgate-Signature"


def test_tampering_a_wrong_secret_or_a_stale_timestamp_fail():
    header = sign(SECRET, NOW, BODY)
    refused(BODY.replace(b"4.5", b"9.5"), header)
    refused(BODY + b" ", header)
    refused(BODY, header, secret="whsec_" + "cd" * 24)
    refused(BODY, header, now=NOW + 301)  # a replay after the tolerance
    refused(BODY, header, now=NOW - 301)  # a timestamp from the future
    # The timestamp is signed: moving it to look fresh breaks the signature.
    refused(BODY, header.replace(f"t={NOW}", f"t={NOW + 1000}"), now=NOW + 1000)


@pytest.mark.parametrize("header", ["", None, "t=1796169555", "v1=abc", "t=soon,v1=abc", "garbage", "t=,v1="])
def test_a_malformed_header_fails(header):
    refused(BODY, header)


def test_any_matching_v1_passes_while_a_secret_is_rolled():
    old, new = new_secret(), new_secret()
    assert old != new and old.startswith("whsec_") and len(old) == len("whsec_") + 48
    header = f"t={NOW},v1={sign(old, NOW, BODY).split('v1=')[1]},v1={sign(new, NOW, BODY).split('v1=')[1]}"
    assert verify_webhook(BODY, header, new, now=NOW)["id"] == "evt_1"
    assert verify_webhook(BODY, header, old, now=NOW)["id"] == "evt_1"
    refused(BODY, header, secret=new_secret())


def test_a_signed_payload_that_is_not_an_event_object_is_refused():
    for body in (b"[1, 2]", b"not json"):
        refused(body, sign(SECRET, NOW, body))
