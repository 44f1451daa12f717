"""StripeGateway's payouts (Connect) against localstripe behind the local shim.

localstripe has no Connect; the shim (local/tollgate_local/localstripe_shim.py) adds Express
accounts, Account Links, transfers with Stripe's idempotency keys, a local page standing in
for Stripe's hosted onboarding, and test controls: failures injected into transfer
creation, reversals that send Stripe's signed ``transfer.reversed`` to the webhooks
registered with localstripe, and a list of every transfer made. The shim runs in a
subprocess on a free 127.0.0.1 port with its store in memory, started and stopped by this
module's ``shim`` fixture through tests/integration/servers.py, as is the webhook receiver;
the adapter is configured as a deployment is and sends what it would send Stripe.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.servers import (
    RecordingClient,
    WebhookReceiver,
    form_request,
    free_port,
    localstripe_shim,
    stripe_webhook,
)
from tollgate.gateways import GatewayError, InvalidSignature, PayoutAccount, Transfer, is_transient
from tollgate.gateways.stripe import StripeGateway

API_KEY = "sk_test_tollgate_payouts_7d1e9c3a5b"
WEBHOOK_SECRET = "whsec_tollgate_payouts_it_2b4d6f8a0c"
RETURN_URL = "https://app.example.com/developer/payouts/return"
REFRESH_URL = "https://app.example.com/developer/payouts/refresh"


# ---------------------------------------------------------------------------------------
# Servers: the shim and a webhook receiver (tests/integration/servers.py)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("/v1/webhooks/stripe", "stripe-payouts-receiver") as rec:
        yield rec


@pytest.fixture(scope="module")
def shim(receiver: WebhookReceiver) -> Iterator[str]:
    with localstripe_shim(receiver.url, WEBHOOK_SECRET) as base:
        yield base


@pytest.fixture
def recorder() -> RecordingClient:
    return RecordingClient()


@pytest.fixture
def gateway(shim, recorder, monkeypatch) -> StripeGateway:
    """Configured as a deployment is (env vars read by from_config), without the library's own
    retries so that each injected failure reaches the adapter."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", shim)
    return StripeGateway.from_config(http_client=recorder, max_network_retries=0)


def open_account(gateway: StripeGateway, developer_id: str | None = None, key: str | None = None) -> PayoutAccount:
    return gateway.open_account(developer_id or f"dev_{uuid.uuid4().hex[:12]}", bank=None, return_url=RETURN_URL,
                                refresh_url=REFRESH_URL, idempotency_key=key or f"acct-{uuid.uuid4().hex}")


def onboard(account: PayoutAccount) -> None:
    """What the developer does on Stripe's hosted onboarding (the shim's stand-in page)."""
    assert account.onboarding_url is not None
    status, page = form_request(account.onboarding_url, method="GET")
    assert status == 200 and b"Onboarding complete" in page


@pytest.fixture
def account(gateway) -> PayoutAccount:
    """An onboarded Express account."""
    opened = open_account(gateway)
    onboard(opened)
    return opened


def payout_id() -> str:
    return f"po_{uuid.uuid4().hex[:26]}"


def transfers_at(shim: str, payout: str | None = None) -> list[dict[str, Any]]:
    status, body = form_request(f"{shim}/_tollgate/transfers", method="GET")
    assert status == 200
    return [t for t in json.loads(body)["data"] if payout is None or t["transfer_group"] == payout]


def fail_next(shim: str, status: int, count: int = 1) -> None:
    assert form_request(f"{shim}/_tollgate/transfers/fail", {"status": status, "count": count})[0] == 200


# ---------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------


def test_open_account_is_onboarding_until_the_link_is_followed(gateway, recorder, shim):
    opened = open_account(gateway, "dev_ada", key="open-account-ada")

    assert (opened.gateway, opened.status, opened.currency) == ("stripe", "onboarding", "USD")
    assert opened.account_id.startswith("acct_")
    assert opened.onboarding_url == f"{shim}/_tollgate/connect/onboard/{opened.account_id}"
    [created] = recorder.to("/v1/accounts")
    assert created.method == "post" and created.headers["Idempotency-Key"] == "open-account-ada"
    assert created.form == {"type": "express", "capabilities[transfers][requested]": "true",
                            "metadata[developer_id]": "dev_ada"}
    [link] = recorder.to("/v1/account_links")
    assert link.form == {"account": opened.account_id, "type": "account_onboarding", "refresh_url": REFRESH_URL,
                         "return_url": RETURN_URL}

    still = gateway.account(opened.account_id, return_url=RETURN_URL, refresh_url=REFRESH_URL)
    assert (still.status, still.onboarding_url) == ("onboarding", opened.onboarding_url)
    assert len(recorder.to("/v1/account_links")) == 2  # a fresh link each time: Stripe's are single-use

    status, page = form_request(opened.onboarding_url, method="GET")
    assert status == 200 and b"Onboarding complete" in page and RETURN_URL.encode() in page

    active = gateway.account(opened.account_id, return_url=RETURN_URL, refresh_url=REFRESH_URL)
    assert active == PayoutAccount(gateway="stripe", account_id=opened.account_id, status="active", currency="USD")
    assert len(recorder.to("/v1/account_links")) == 2  # none for an active account


def test_opening_again_with_the_same_key_is_the_same_account(gateway, recorder):
    first = open_account(gateway, "dev_bo", key="open-account-bo")
    again = open_account(gateway, "dev_bo", key="open-account-bo")
    assert again.account_id == first.account_id
    assert [s.headers["Idempotency-Key"] for s in recorder.to("/v1/accounts")] == ["open-account-bo"] * 2
    with pytest.raises(GatewayError) as info:  # the key with other parameters: Stripe's idempotency error
        open_account(gateway, "dev_someone_else", key="open-account-bo")
    assert info.value.details["gateway_status"] == 400 and not is_transient(info.value)


def test_an_onboarded_account_reopened_is_active(gateway, account):
    shown = gateway.account(account.account_id, return_url=RETURN_URL, refresh_url=REFRESH_URL)
    assert (shown.status, shown.onboarding_url) == ("active", None)


def test_an_unknown_account_is_a_permanent_gateway_error(gateway):
    with pytest.raises(GatewayError) as info:
        gateway.account("acct_doesnotexist000000", return_url=RETURN_URL, refresh_url=REFRESH_URL)
    assert (info.value.status, info.value.details["gateway_status"]) == (502, 404)
    assert not is_transient(info.value)
    assert API_KEY not in info.value.message


# ---------------------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------------------


def test_a_transfer_is_final_and_keyed_by_the_payout(gateway, recorder, shim, account, receiver):
    payout = payout_id()
    first = gateway.transfer(payout, account.account_id, 12_500, "USD")
    again = gateway.transfer(payout, account.account_id, 12_500, "USD")

    assert first == again
    assert first.transfer_id.startswith("tr_")
    assert (first.reference, first.status, first.amount, first.currency, first.failure) == (
        payout, "succeeded", 12_500, "USD", None)
    sends = recorder.to("/v1/transfers")
    assert [s.method for s in sends] == ["post", "post"]
    assert {s.headers["Idempotency-Key"] for s in sends} == {f"payout-{payout}"}
    assert sends[0].form == {"amount": "12500", "currency": "usd", "destination": account.account_id,
                             "transfer_group": payout, "metadata[payout_id]": payout}
    assert [t["id"] for t in transfers_at(shim, payout)] == [first.transfer_id]  # exactly one transfer

    assert gateway.find_transfer(payout) == first
    assert gateway.find_transfer(payout_id()) is None
    listed = recorder.to("/v1/transfers")[-1]
    assert listed.method == "get" and "transfer_group=" in urllib.parse.urlsplit(listed.url).query

    created = stripe_webhook(receiver, "transfer.created", first.transfer_id)  # Stripe sends it; nothing to do on it
    assert gateway.parse_webhook(created.body, created.headers).kind == "ignored"


def test_the_same_payout_with_other_parameters_is_refused(gateway, shim, account):
    payout = payout_id()
    gateway.transfer(payout, account.account_id, 1_000, "USD")
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, account.account_id, 2_000, "USD")
    assert "idempotency key" in info.value.message
    assert info.value.details["gateway_status"] == 400 and not is_transient(info.value)
    assert len(transfers_at(shim, payout)) == 1


def test_a_transfer_to_an_account_still_onboarding_is_refused(gateway, shim):
    opened = open_account(gateway)
    payout = payout_id()
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, opened.account_id, 1_000, "USD")
    assert info.value.details["gateway_code"] == "insufficient_capabilities_for_transfer"
    assert not is_transient(info.value)
    onboard(opened)  # nothing was stored under the key: the same call now pays
    assert gateway.transfer(payout, opened.account_id, 1_000, "USD").status == "succeeded"
    assert len(transfers_at(shim, payout)) == 1


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False)])
def test_failures_are_classified_and_a_retry_pays_once(gateway, shim, account, status, transient):
    payout = payout_id()
    fail_next(shim, status)
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout, account.account_id, 4_200, "USD")
    assert info.value.status == (503 if transient else 502)
    assert info.value.details["gateway_status"] == status
    assert is_transient(info.value) is transient
    assert API_KEY not in info.value.message
    assert transfers_at(shim, payout) == []
    assert gateway.find_transfer(payout) is None

    paid = gateway.transfer(payout, account.account_id, 4_200, "USD")  # the workflow's retry: same key
    assert paid.status == "succeeded"
    assert [t["id"] for t in transfers_at(shim, payout)] == [paid.transfer_id]


def test_the_librarys_own_retry_of_a_5xx_reuses_the_key(shim, recorder, account):
    gateway = StripeGateway(API_KEY, WEBHOOK_SECRET, api_base=shim, http_client=recorder)  # default retries
    payout = payout_id()
    fail_next(shim, 500)
    paid = gateway.transfer(payout, account.account_id, 700, "USD")
    assert paid.status == "succeeded"
    sends = recorder.to("/v1/transfers")
    assert len(sends) == 2 and {s.headers["Idempotency-Key"] for s in sends} == {f"payout-{payout}"}
    assert len(transfers_at(shim, payout)) == 1


def test_a_network_failure_is_transient():
    gateway = StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0)
    with pytest.raises(GatewayError) as info:
        gateway.transfer(payout_id(), "acct_x", 100, "USD")
    assert info.value.details["gateway_status"] is None and is_transient(info.value)


def test_bad_arguments_are_refused_before_any_call(gateway, recorder):
    for amount in (0, -5, True, 1.5):
        with pytest.raises(ValueError):
            gateway.transfer(payout_id(), "acct_x", amount, "USD")
    assert recorder.sent == []


# ---------------------------------------------------------------------------------------
# Reversals
# ---------------------------------------------------------------------------------------


def test_a_reversal_sends_a_signed_transfer_reversed(gateway, shim, account, receiver):
    payout = payout_id()
    paid = gateway.transfer(payout, account.account_id, 9_900, "USD")

    status, body = form_request(f"{shim}/_tollgate/transfers/{paid.transfer_id}/reverse")
    assert status == 200 and json.loads(body)["reversed"] is True

    delivery = stripe_webhook(receiver, "transfer.reversed", paid.transfer_id)
    event = gateway.parse_webhook(delivery.body, delivery.headers)
    assert event.event_id == delivery.event["id"] and event.event_id.startswith("evt_")
    assert (event.kind, event.raw_type, event.payout_id, event.transfer_reference, event.transfer_id) == (
        "transfer_reversed", "transfer.reversed", payout, payout, paid.transfer_id)
    assert (event.amount, event.currency) == (9_900, "USD")

    assert gateway.find_transfer(payout) == Transfer(
        transfer_id=paid.transfer_id, reference=payout, status="reversed", amount=9_900, currency="USD",
        failure="Stripe reversed the transfer")
    assert form_request(f"{shim}/_tollgate/transfers/{paid.transfer_id}/reverse")[0] == 400  # once only

    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(delivery.body.replace(b"9900", b"99000"), delivery.headers)
    with pytest.raises(InvalidSignature):
        StripeGateway(webhook_secret="whsec_other").parse_webhook(delivery.body, delivery.headers)


def test_the_controls_refuse_what_makes_no_sense(shim):
    assert form_request(f"{shim}/_tollgate/transfers/fail", {"status": 200})[0] == 400
    assert form_request(f"{shim}/_tollgate/transfers/fail", {"status": "x"})[0] == 400
    assert form_request(f"{shim}/_tollgate/transfers/tr_unknown/reverse")[0] == 404
    assert form_request(f"{shim}/_tollgate/connect/onboard/acct_unknown", method="GET")[0] == 404
    # The Connect API itself still wants a key, as localstripe's does.
    assert form_request(f"{shim}/v1/transfers", method="GET")[0] == 401
