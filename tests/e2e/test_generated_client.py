"""A client generated from the served OpenAPI document round-trips the README tour's responses.

The document is fetched from the running stack (GET /v1/openapi.json, no credentials), turned
into pydantic v2 models by datamodel-code-generator, and every response of the tour (and of
representative errors, ours and API Gateway's) must validate against the model the document
names for that operation and status, and dump back to exactly the body the server sent.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
import warnings
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.e2e.conftest import confirm_card, local_gateway
from tests.support import Reply, assert_ledger_invariant, wait_for

REF_PREFIX = "#/components/schemas/"


# -- the generated client -----------------------------------------------------------------

def _with_grants(wallet: Reply) -> Reply | None:
    """The wallet reply once its grants account for its balance, else None."""
    body = wallet.body or {}
    granted = sum(Decimal(g["remaining"]) for g in body.get("grants") or [])
    return wallet if body.get("grants") and granted == Decimal(body["balance"]) else None


@pytest.fixture(scope="module")
def document(api):
    reply = api.get("/v1/openapi.json")
    assert reply.status == 200, reply
    assert reply.body["openapi"].startswith("3.1"), reply.body.get("openapi")
    return reply.body


@pytest.fixture(scope="module")
def models(document, tmp_path_factory):
    """pydantic v2 models generated from the served document, imported from the file written."""
    from datamodel_code_generator import DataModelType, InputFileType, PythonVersion, generate
    from datamodel_code_generator.format import Formatter

    out = tmp_path_factory.mktemp("generated-client") / "tollgate_models.py"
    with warnings.catch_warnings():
        # The request schemas' oneOf branches repeat fields (CheckoutIn, UsageMeasure); the generator
        # says so and still emits valid classes. Responses are what this test is about.
        warnings.filterwarnings("ignore", message=r"Field name `\w+` is duplicated on ", category=UserWarning)
        generate(
            json.dumps(document),
            input_file_type=InputFileType.OpenAPI,
            output_model_type=DataModelType.PydanticV2BaseModel,
            output=out,
            target_python_version=PythonVersion.PY_311,
            strict_nullable=True,  # a field the document does not make nullable must not accept null
            formatters=[Formatter.BUILTIN],
            disable_timestamp=True,
        )
    name = f"tollgate_generated_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, out)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the postponed annotations through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Contract:
    """What the document promises for one operation and status, checked with the generated models."""

    def __init__(self, document: dict[str, Any], models: Any) -> None:
        self.document = document
        self.models = models

    def model(self, name: str) -> type[BaseModel]:
        cls = getattr(self.models, name, None)
        assert isinstance(cls, type) and issubclass(cls, BaseModel), f"no generated model class {name!r}"
        return cls

    def schema_names(self, method: str, path: str, status: int, body: Any) -> list[str]:
        operation = self.document["paths"].get(path, {}).get(method.lower())
        assert operation is not None, f"the document has no {method} {path} (body {body!r})"
        responses = operation.get("responses", {})
        response = responses.get(str(status))
        assert response is not None, (
            f"{method} {path} answered {status}, which the document does not list ({sorted(responses)}); body {body!r}")
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        assert schema is not None, f"{method} {path} {status} has no application/json schema; body {body!r}"
        options = schema["anyOf"] if "anyOf" in schema else [schema]
        names = []
        for option in options:
            ref = option.get("$ref", "")
            assert ref.startswith(REF_PREFIX), f"{method} {path} {status}: not a component $ref: {option!r}"
            names.append(ref.removeprefix(REF_PREFIX))
        return names

    def matches(self, names: list[str], body: Any, what: str) -> BaseModel:
        """The first named model that validates ``body`` and dumps back to exactly ``body``."""
        tried = []
        for name in names:
            cls = self.model(name)
            try:
                parsed = cls.model_validate(body)
            except ValidationError as err:
                tried.append(f"{name}: rejected it: {err}")
                continue
            dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
            # == alone would let 0 stand for false and 1.0 for 1; the JSON text tells them apart.
            if dumped == body and _json(dumped) == _json(body):
                return parsed
            tried.append(f"{name}: round trip gave {dumped!r}")
        pytest.fail(f"{what}: body {body!r} does not round-trip through {names}:\n  " + "\n  ".join(tried))

    def check(self, method: str, path: str, reply: Reply, *, expect: str | None = None) -> BaseModel:
        """``path`` is the document's template (``/v1/reservations/{reservation_id}/settle``)."""
        assert reply.body is not None, f"{method} {path} {reply.status} has no body"
        names = self.schema_names(method, path, reply.status, reply.body)
        parsed = self.matches(names, reply.body, f"{method} {path} {reply.status}")
        if expect is not None:
            assert type(parsed).__name__ == expect, (type(parsed).__name__, reply.body)
        return parsed


@pytest.fixture(scope="module")
def contract(document, models):
    return Contract(document, models)


# -- the document itself ------------------------------------------------------------------

def test_the_served_document_names_this_api_and_round_trips_as_itself(stack, api, contract, document):
    assert document["servers"][0]["url"] == stack.url, document["servers"]
    contract.check("GET", "/v1/openapi.json", api.get("/v1/openapi.json"), expect="OpenApiDocument")
    contract.check("GET", "/v1/health", api.get("/v1/health"), expect="Health")
    # Every schema a response names has a generated class (so no response falls back to "anything").
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if "content" in response:
                    for name in contract.schema_names(method, path, int(status), None):
                        contract.model(name)


# -- the README tour ------------------------------------------------------------------------

def test_the_readme_tour_round_trips_through_the_generated_models(stack, api, tokens, catalog, contract, stripe_payer):
    # The tour's Alice: a person of her own with the demo seed's 100 credits (the tier's stack is shared).
    sub = f"tour{uuid.uuid4().hex[:8]}"
    alice, admin, wallet_id = stack.signer.token(sub, ["user"]), tokens["admin"], f"user:{sub}"
    assert api.post(f"/v1/admin/wallets/{wallet_id}/adjustments", token=admin, headers={"Idempotency-Key": sub},
                    body={"amount": "100", "reason": "the demo seed"}).status == 201

    wallet = contract.check("GET", "/v1/wallet", api.get("/v1/wallet", token=alice), expect="WalletOut")
    assert (wallet.wallet_id, wallet.balance, wallet.reserved, wallet.available, wallet.open_holds) == \
        (wallet_id, "100", "0", "100", 0)

    # Buy 100 credits with (local) Stripe: checkout, then pay as Stripe.js would.
    started = api.post("/v1/checkout", token=alice, headers={"Idempotency-Key": "buy-1"},
                       body={"package_id": "starter", "gateway": "stripe", "currency": "USD"})
    assert started.status == 201, started
    purchase = contract.check("POST", "/v1/checkout", started, expect="PurchaseOut")
    assert (purchase.status.value, purchase.amount, purchase.currency, purchase.credits) == ("pending", 1000, "USD", "100")
    assert purchase.client_secret and purchase.reference
    seen = len(local_gateway(stack).answered)
    assert confirm_card(stripe_payer, purchase.reference).status == "succeeded"
    assert local_gateway(stack).wait_for("POST", "/v1/webhooks/stripe", after=seen,
                                         containing=purchase.reference.encode())[2] == 200

    listed = api.get("/v1/purchases", token=alice)
    assert listed.status == 200, listed
    purchases = contract.check("GET", "/v1/purchases", listed, expect="PurchaseList")
    assert [(p.purchase_id, p.status.value) for p in purchases.data] == [(purchase.purchase_id, "paid")]
    one = api.get(f"/v1/purchases/{purchase.purchase_id}", token=alice)
    assert one.status == 200, one
    assert contract.check("GET", "/v1/purchases/{purchase_id}", one, expect="PurchaseOut").paid_at

    # Or with (fake) Paystack, in naira.
    naira = api.post("/v1/checkout", token=alice, headers={"Idempotency-Key": "buy-2"},
                     body={"package_id": "starter", "gateway": "paystack", "currency": "NGN"})
    assert naira.status == 201, naira
    paystack = contract.check("POST", "/v1/checkout", naira, expect="PurchaseOut")
    assert paystack.authorization_url and paystack.authorization_url.startswith(stack.paystack.endpoint)
    stack.paystack.complete(paystack.reference)

    # Admins can also grant credits directly.
    granted = api.post(f"/v1/admin/wallets/{wallet_id}/adjustments", token=admin, headers={"Idempotency-Key": "tour-grant-1"},
                       body={"amount": "50", "reason": "tour"})
    assert granted.status == 201, granted
    adjustment = contract.check("POST", "/v1/admin/wallets/{wallet_id}/adjustments", granted, expect="AdjustmentOut")
    assert (adjustment.amount, adjustment.balance) == ("50", "350")

    # Spend: one AI insight (9 credits), then reserve -> settle a token-priced call.
    spent = api.post("/v1/usage", token=alice, headers={"Idempotency-Key": "tour-1"}, body={"feature": "ai-insight"})
    assert spent.status == 201, spent
    usage = contract.check("POST", "/v1/usage", spent, expect="UsageOut")
    assert (usage.cost, usage.balance, usage.available) == ("9", "341", "341")

    held = api.post("/v1/reservations", token=alice, body={"feature": "plugin-generate", "max_credits": "20"})
    assert held.status == 201, held
    reservation = contract.check("POST", "/v1/reservations", held, expect="ReservationOut")
    assert (reservation.held, reservation.available, reservation.status.value) == ("20", "321", "open")
    rid = reservation.reservation_id
    settled = api.post(f"/v1/reservations/{rid}/settle", token=alice,
                       body={"usage": {"input_tokens": 40, "output_tokens": 25}})
    assert settled.status == 200, settled
    settle = contract.check("POST", "/v1/reservations/{reservation_id}/settle", settled, expect="SettleOut")
    assert (settle.cost, settle.released, settle.capped, settle.requested_cost, settle.balance) == \
        ("9", "11", False, "9", "332")
    view = api.get(f"/v1/reservations/{rid}", token=alice)
    assert view.status == 200, view
    assert contract.check("GET", "/v1/reservations/{reservation_id}", view, expect="ReservationView").status.value == "settled"

    # See history (newest first); balance_after is stamped by the stream consumer.
    assert stack.poller.wait_idle(15)
    assert stack.poller.wait_idle(15)
    page = api.get("/v1/history?limit=5", token=alice)
    assert page.status == 200, page
    history = contract.check("GET", "/v1/history", page, expect="HistoryPage")
    assert [(e.type, e.feature, e.amount, e.balance_after) for e in history.data] == [
        ("usage", "plugin-generate", "-9", "332"), ("usage", "ai-insight", "-9", "341"), ("adjustment", None, "50", "350"),
        ("purchase", None, "100", "300"), ("purchase", None, "100", "200"),
    ], page.body
    assert history.next_cursor, page.body  # the seed grant is on the next page
    rest = api.get(f"/v1/history?limit=5&cursor={history.next_cursor}", token=alice)
    assert rest.status == 200, rest
    older = contract.check("GET", "/v1/history", rest, expect="HistoryPage")
    assert [(e.amount, e.balance_after) for e in older.data] == [("100", "100")] and older.next_cursor is None

    features = api.get("/v1/features", token=alice)
    assert features.status == 200, features
    listing = contract.check("GET", "/v1/features", features, expect="FeatureList")
    prices = {f.feature_id: f.pricing for f in listing.data}
    assert (prices["ai-insight"].type.value, prices["ai-insight"].credits) == ("per_call", "9")
    assert (prices["plugin-generate"].input_credits, prices["plugin-generate"].output_credits) == ("0.1", "0.2")

    packages = api.get("/v1/packages", token=alice)
    assert packages.status == 200, packages
    on_sale = contract.check("GET", "/v1/packages", packages, expect="PackageList")
    assert {p.package_id: (p.credits, p.prices) for p in on_sale.data} == {
        "starter": ("100", {"USD": 1000, "NGN": 1500000}), "growth": ("500", {"USD": 4500, "NGN": 6750000})}

    # What an admin frontend reads back.
    seen_by_admin = api.get(f"/v1/admin/wallets/{wallet_id}", token=admin)
    assert seen_by_admin.status == 200, seen_by_admin
    assert contract.check("GET", "/v1/admin/wallets/{wallet_id}", seen_by_admin, expect="WalletOut").balance == "332"
    reconciled = api.get(f"/v1/admin/wallets/{wallet_id}/reconciliation", token=admin)
    assert reconciled.status == 200, reconciled
    assert contract.check("GET", "/v1/admin/wallets/{wallet_id}/reconciliation", reconciled,
                          expect="ReconciliationOut").consistent is True

    state = assert_ledger_invariant(wallet_id)
    assert (state["balance"], state["reserved"]) == (332_000, 0), state  # millicredits


# -- representative errors ------------------------------------------------------------------

def test_errors_ours_and_the_gateways_round_trip(stack, api, tokens, catalog, contract):
    bob = tokens["bob"]
    funded = api.post("/v1/admin/wallets/user:bob/adjustments", token=tokens["admin"], headers={"Idempotency-Key": "bob-5"},
                      body={"amount": "5", "reason": "not enough for an insight"})
    assert funded.status == 201, funded
    contract.check("POST", "/v1/admin/wallets/{wallet_id}/adjustments", funded, expect="AdjustmentOut")
    # The stream consumer attributes the credit to a grant (well under a second): wait for it,
    # so the wallet compared below is the settled one.
    before = wait_for("the credit's grant", lambda: _with_grants(api.get("/v1/wallet", token=bob)))
    assert contract.check("GET", "/v1/wallet", before, expect="WalletOut").balance == "5"

    broke = api.post("/v1/usage", token=bob, headers={"Idempotency-Key": "broke-1"}, body={"feature": "ai-insight"})
    assert broke.status == 402, broke
    error = contract.check("POST", "/v1/usage", broke, expect="ErrorResponse").error
    assert (error.code, error.required, error.available) == ("insufficient_credits", "9", "5")
    assert error.request_id and error.message

    invalid = api.post("/v1/usage", token=bob, headers={"Idempotency-Key": "invalid-1"},
                       body={"feature": "ai-insight", "quantity": "2"})
    assert invalid.status == 422, invalid
    error = contract.check("POST", "/v1/usage", invalid, expect="ErrorResponse").error
    assert error.code == "validation_error"
    assert error.errors and [p.field for p in error.errors] == ["quantity"], invalid.body

    bad_amount = api.post("/v1/admin/wallets/user:bob/adjustments", token=tokens["admin"],
                          headers={"Idempotency-Key": "invalid-2"}, body={"amount": "1.2345", "reason": "too precise"})
    assert bad_amount.status == 422, bad_amount
    assert contract.check("POST", "/v1/admin/wallets/{wallet_id}/adjustments", bad_amount,
                          expect="ErrorResponse").error.code == "validation_error"

    missing = api.get("/v1/purchases/pur_nope", token=bob)
    assert missing.status == 404, missing
    assert contract.check("GET", "/v1/purchases/{purchase_id}", missing, expect="ErrorResponse").error.code == "not_found"

    # API Gateway's own answers: {"message": ...}, listed per operation as GatewayMessage.
    unauthorized = api.get("/v1/wallet")
    assert (unauthorized.status, unauthorized.body) == (401, {"message": "Unauthorized"})
    contract.check("GET", "/v1/wallet", unauthorized, expect="GatewayMessage")
    forbidden = api.post("/v1/usage", body={"feature": "ai-insight"})
    assert (forbidden.status, forbidden.body) == (403, {"message": "Forbidden"})
    contract.check("POST", "/v1/usage", forbidden, expect="GatewayMessage")
    # A path parameter that makes the path match no route.
    unrouted = api.get("/v1/purchases/pur_x/extra", token=bob)
    assert (unrouted.status, unrouted.body) == (404, {"message": "Not Found"})
    contract.check("GET", "/v1/purchases/{purchase_id}", unrouted, expect="GatewayMessage")
    # An unknown path belongs to no operation: the document's GatewayMessage schema is its shape.
    unknown = api.get("/v1/no-such-route", token=bob)
    assert (unknown.status, unknown.body) == (404, {"message": "Not Found"})
    contract.matches(["GatewayMessage"], unknown.body, "GET /v1/no-such-route 404")

    after = api.get("/v1/wallet", token=bob)
    assert after.body == before.body
    state = assert_ledger_invariant("user:bob")
    assert (state["balance"], state["entries"]) == (5_000, [5_000]), state  # millicredits: only the funding


# -- the generated models can say no --------------------------------------------------------

WALLET = {"wallet_id": "user:alice", "balance": "100", "reserved": "0", "available": "100", "open_holds": 0}


@pytest.mark.parametrize(("model", "body"), [
    ("WalletOut", {k: v for k, v in WALLET.items() if k != "balance"}),
    ("WalletOut", {**WALLET, "balance": "100.0001"}),    # more than 3 fractional digits
    ("WalletOut", {**WALLET, "balance": 100}),           # amounts are strings
    ("WalletOut", {**WALLET, "updated_at": 7}),
    ("ReservationOut", {"reservation_id": "res_1", "wallet_id": "user:alice", "feature": "f", "held": "1",
                        "expires_at": "2026-01-01T00:00:00Z", "available": "1", "status": "pending"}),
    ("PurchaseOut", {"purchase_id": "pur_1", "status": "paid", "gateway": "stripe", "amount": 1000, "currency": "USD",
                     "credits": "100", "wallet_id": "user:alice", "created_at": "2026-01-01T00:00:00Z",
                     "credits_clawed_back": None}),  # not nullable in the document
    ("HistoryPage", {"data": []}),                       # next_cursor is required (null or a string)
    ("ErrorResponse", {"message": "Unauthorized"}),
    ("GatewayMessage", {"error": {"code": "unauthorized", "message": "no", "request_id": "r"}}),
])
def test_generated_models_reject_what_the_server_never_sends(contract, model, body):
    with pytest.raises(ValidationError):
        contract.model(model).model_validate(body)


def test_an_undocumented_field_or_an_undocumented_status_fails_the_check(contract):
    # Extra fields are dropped by the generated model (the document does not allow them), so the round trip fails.
    with pytest.raises(pytest.fail.Exception, match="round trip gave"):
        contract.check("GET", "/v1/wallet", Reply(200, {**WALLET, "secret": "x"}, {}))
    with pytest.raises(AssertionError, match="does not list"):
        contract.check("GET", "/v1/wallet", Reply(418, {"message": "teapot"}, {}))
    with pytest.raises(pytest.fail.Exception, match="does not round-trip"):
        contract.check("GET", "/v1/wallet", Reply(401, {"msg": "Unauthorized"}, {}))
    # Lax validation turns 0 into false; the round trip must still notice the server sent a number.
    settled = {"reservation_id": "res_1", "transaction_id": "tx_1", "cost": "9", "released": "11", "capped": 0,
               "requested_cost": "9", "balance": "91"}
    with pytest.raises(pytest.fail.Exception, match="round trip gave"):
        contract.check("POST", "/v1/reservations/{reservation_id}/settle", Reply(200, settled, {}))
    assert contract.check("POST", "/v1/reservations/{reservation_id}/settle",
                          Reply(200, {**settled, "capped": False}, {})).capped is False
    assert contract.check("GET", "/v1/wallet", Reply(200, WALLET, {})).balance == "100"
