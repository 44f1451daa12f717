"""What ``make dev`` adds for the dashboard: the shim's card-element confirmation behind
localstripe's stand-in Stripe.js (local/tollgate_local/localstripe_shim.py), and the dev
server's config.json and ``POST /_dev/token`` (local/tollgate_local/dashboard.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.servers import WebhookReceiver, localstripe_shim
from tollgate_local.dashboard import DashboardServer
from tollgate_local.tokens import AUDIENCE, ISSUER, LocalSigner

SECRET_KEY = "sk_test_tollgate_local"
PUBLISHABLE_KEY = "pk_test_tollgate_local"
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def _call(url: str, *, data: Any = None, auth: str | None = None, form: dict[str, str] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    body = None
    if form is not None:
        body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as err:
        text, status = err.read().decode(), err.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    with WebhookReceiver("/v1/webhooks/stripe", "dashboard-webhooks") as receiver, \
            localstripe_shim(receiver.url, "whsec_dashboard") as base:
        yield base


def _intent(base: str) -> dict[str, Any]:
    status, intent = _call(f"{base}/v1/payment_intents", auth=SECRET_KEY,
                           form={"amount": "1000", "currency": "usd"})
    assert status == 200, intent
    return intent


def test_the_stand_in_stripe_js_confirms_with_the_card_element(localstripe: str) -> None:
    status, script = _call(f"{localstripe}/js.stripe.com/v3/")
    assert status == 200
    assert "/_tollgate/payment_intents/" in script and "confirmCardPayment" in script
    intent = _intent(localstripe)
    status, confirmed = _call(f"{localstripe}/_tollgate/payment_intents/{intent['id']}/confirm_card",
                              data={"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"], "card": CARD})
    assert status == 200, confirmed
    assert confirmed["status"] == "succeeded"


def test_card_confirmation_needs_the_client_secret_and_a_publishable_key(localstripe: str) -> None:
    intent = _intent(localstripe)
    url = f"{localstripe}/_tollgate/payment_intents/{intent['id']}/confirm_card"
    assert _call(url, data={"key": PUBLISHABLE_KEY, "client_secret": "pi_x_secret_y", "card": CARD})[0] == 401
    assert _call(url, data={"key": SECRET_KEY, "client_secret": intent["client_secret"], "card": CARD})[0] == 401
    declined = {**CARD, "number": "4000000000000341"}
    status, body = _call(url, data={"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"], "card": declined})
    assert status in (200, 402), body
    if status == 200:
        assert body["status"] == "requires_payment_method"


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[DashboardServer, LocalSigner]]:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Tollgate</title>")
    signer = LocalSigner(tmp_path / "state")
    server = DashboardServer(port=0, api_url="http://127.0.0.1:3000", signer=signer,
                             stripe_url="http://127.0.0.1:8420", dist=dist).start()
    try:
        yield server, signer
    finally:
        server.stop()


def test_the_dev_server_serves_the_app_its_config_and_dev_tokens(dashboard: tuple[DashboardServer, LocalSigner]) -> None:
    server, signer = dashboard
    assert server.url.startswith("http://127.0.0.1:")
    assert _call(f"{server.url}/")[1].startswith("<!doctype html>")
    status, config = _call(f"{server.url}/config.json")
    assert status == 200
    assert config == {"apiBaseUrl": "http://127.0.0.1:3000", "authMode": "dev",
                      "stripeJsUrl": "http://127.0.0.1:8420/js.stripe.com/v3/", "stripePublishableKey": PUBLISHABLE_KEY}
    status, body = _call(f"{server.url}/_dev/token", data={"sub": "dev-carol", "roles": ["user", "developer"]})
    assert status == 200
    claims = signer.verify(body["token"], issuer=ISSUER, audience=AUDIENCE)
    assert (claims["sub"], claims["roles"]) == ("dev-carol", ["user", "developer"])


@pytest.mark.parametrize("body", [{"sub": "a b"}, {"sub": ""}, {"roles": ["user"]}, {"sub": "alice", "roles": "admin"},
                                  {"sub": "alice", "roles": ["Admin!"]}, ["alice"]])
def test_the_dev_token_refuses_what_is_not_a_sub_and_roles(dashboard: tuple[DashboardServer, LocalSigner], body: Any) -> None:
    status, answer = _call(f"{dashboard[0].url}/_dev/token", data=body)
    assert status == 422
    assert answer["error"]["code"] == "validation_error"
