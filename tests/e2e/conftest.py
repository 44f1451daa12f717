"""The e2e tier: the whole local stack (make dev's) on free ports, driven over HTTP."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support import Reply, restore_environment, running_stack

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.e2e)


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(self, method: str, path: str, *, token: str | None = None, body: Any = None,
                raw: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload, status, out = response.read(), response.status, dict(response.headers.items())
        except urllib.error.HTTPError as err:
            payload, status, out = err.read(), err.code, dict(err.headers.items())
        return Reply(status, json.loads(payload) if payload else None, {k.lower(): v for k, v in out.items()})

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Reply:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Reply:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


# One stack for the tier's modules (each start is ~15 s); package-scoped, so its environment is put
# back before any other tier's tests run in the same session.
@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    from tollgate_local.stack import StackConfig

    with running_stack(StackConfig.ephemeral(tmp_path_factory.mktemp("tollgate-dev"))) as local:
        yield local


@pytest.fixture
def own_stack_env():
    """For tests that start stacks of their own: restore the environment they change."""
    saved = dict(os.environ)
    yield
    restore_environment(saved)


@pytest.fixture(scope="module")
def api(stack):
    return Client(stack.url)


@pytest.fixture(scope="module")
def tokens(stack):
    signer = stack.signer
    return {
        "alice": signer.token("alice", ["user"]),
        "bob": signer.token("bob", ["user"]),
        "admin": signer.token("admin", ["admin", "user"]),
    }


@pytest.fixture(scope="module")
def catalog(stack, tokens):
    from tollgate_local.seed import seed_if_empty

    seed_if_empty(stack.url, tokens["admin"])


@pytest.fixture(scope="module")
def stripe_payer(stack):
    """The payer's side: confirming the PaymentIntent with a card, as Stripe.js would."""
    import stripe

    from tollgate_local.stack import STRIPE_LOCAL_KEY

    return stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": stack.stripe_url},
                               http_client=stripe.RequestsClient(timeout=10))


def confirm_card(payer, reference: str, payment_method: str = "pm_card_visa"):
    # localstripe's confirm refuses a payment_method argument: attach the card first.
    payer.v1.payment_intents.update(reference, params={"payment_method": payment_method})
    return payer.v1.payment_intents.confirm(reference)


def local_gateway(stack):
    """The stack's LocalApi: its answered requests let a test wait for a webhook instead of sleeping."""
    return stack.gateway.server.RequestHandlerClass.api
