"""http: exact JSON parsing, the error format, Idempotency-Key checks (no AWS, no handlers)."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from tollgate import errors
from tollgate.config import settings
from tollgate.http import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    TollgateResolver,
    create_app,
    error_response,
    idempotency_key,
    is_json_media_type,
    parse_json,
    resolve,
)
from tollgate.http import problem as _problem
from tollgate.idempotency import IdempotencyKeyReused
from tollgate.ledger.exceptions import InsufficientCredits, InvalidCursor, WalletNotFound
from tollgate.pricing.exceptions import FeatureNotFound, InvalidUsage, UnknownFeature
from tollgate.reservations.exceptions import ReservationClosed, ReservationNotFound


class TestParseJson:
    def test_decimals_never_floats(self):
        body = parse_json('{"a": 12.5, "b": 0.1, "c": 1e3, "d": -2.5E-2, "e": [0.001, {"f": 1.10}]}')
        assert body == {
            "a": Decimal("12.5"), "b": Decimal("0.1"), "c": Decimal("1E+3"), "d": Decimal("-0.025"),
            "e": [Decimal("0.001"), {"f": Decimal("1.10")}],
        }
        values = [body["a"], body["b"], body["c"], body["d"], body["e"][0], body["e"][1]["f"]]
        assert all(type(v) is Decimal for v in values)

    def test_exactness_is_kept(self):
        body = parse_json('{"a": 0.1, "b": 0.2, "c": 12345678901234567890.123}')
        assert body["a"] + body["b"] == Decimal("0.3")
        assert str(body["c"]) == "12345678901234567890.123"

    def test_integers_stay_ints(self):
        body = parse_json('{"a": 12, "b": -3, "c": 0, "d": 100000000000000000000}')
        assert body == {"a": 12, "b": -3, "c": 0, "d": 10**20}
        assert all(type(v) is int for v in body.values())

    def test_plain_values(self):
        assert parse_json('{"s": "1.5", "t": true, "n": null}') == {"s": "1.5", "t": True, "n": None}
        assert parse_json("[]") == []

    @pytest.mark.parametrize(
        "text",
        ["NaN", "Infinity", "-Infinity", '{"amount": NaN}', '{"amount": Infinity}', '{"amount": -Infinity}',
         '[1, NaN]', '{"a": {"b": [Infinity]}}'],
    )
    def test_nan_and_infinity_rejected(self, text):
        with pytest.raises(json.JSONDecodeError):
            parse_json(text)

    @pytest.mark.parametrize("text", ["", "{", "{'a': 1}", '{"a": 1,}', "nan", '{"a": .5}'])
    def test_invalid_json(self, text):
        with pytest.raises(json.JSONDecodeError):
            parse_json(text)

    def test_quoted_nan_is_just_a_string(self):
        assert parse_json('{"amount": "NaN"}') == {"amount": "NaN"}


class TestProblem:
    def test_value_error_prefix_dropped_and_body_hidden(self):
        problem = _problem({"loc": ("body", "amount"), "msg": "Value error, must not be zero", "type": "value_error"})
        assert problem == {"field": "amount", "message": "amount: must not be zero", "type": "value_error"}

    def test_nested_location(self):
        problem = _problem({"loc": ("body", "usage", "input_tokens"), "msg": "Input should be a valid integer",
                            "type": "int_type"})
        assert problem["field"] == "usage.input_tokens"
        assert problem["message"] == "usage.input_tokens: Input should be a valid integer"

    def test_list_index_in_location(self):
        assert _problem({"loc": ("body", "items", 0, "id"), "msg": "x", "type": "t"})["field"] == "items.0.id"

    def test_query_location(self):
        problem = _problem({"loc": ("query", "limit"), "msg": "Input should be less than or equal to 100",
                            "type": "less_than_equal"})
        assert problem["field"] == "query.limit"

    def test_whole_body(self):
        assert _problem({"loc": ("body",), "msg": "Field required", "type": "missing"})["field"] == "body"
        assert _problem({"msg": "x"})["field"] == "body"
        assert _problem({})["message"] == "body: invalid value"

    def test_invalid_json(self):
        problem = _problem({"loc": ("body", 12), "msg": "JSON decode error", "type": "json_invalid"})
        assert problem == {"field": "body", "message": "body is not valid JSON", "type": "json_invalid"}

    def test_invalid_json_says_why(self):
        problem = _problem({"loc": ("body", 0), "msg": "JSON decode error", "type": "json_invalid",
                            "ctx": {"error": "JSON may nest at most 32 levels"}})
        assert problem == {"field": "body", "message": "body is not valid JSON: JSON may nest at most 32 levels",
                           "type": "json_invalid"}


def app_with_headers(headers):
    return SimpleNamespace(current_event=SimpleNamespace(headers=headers))


class TestIdempotencyKey:
    def test_lowercase_header(self):
        assert idempotency_key(app_with_headers({"idempotency-key": "k-1"}), required=True) == "k-1"

    def test_any_case(self):
        assert idempotency_key(app_with_headers({"Idempotency-Key": "k-2"}), required=True) == "k-2"
        assert idempotency_key(app_with_headers({"IDEMPOTENCY-KEY": "k-3"}), required=False) == "k-3"

    @pytest.mark.parametrize("headers", [{}, {"other": "x"}])
    def test_missing(self, headers):
        assert idempotency_key(app_with_headers(headers), required=False) is None
        with pytest.raises(errors.ValidationFailed) as info:
            idempotency_key(app_with_headers(headers), required=True)
        assert info.value.details == {"field": "Idempotency-Key"}

    @pytest.mark.parametrize("key", ["a", "x" * 255, "550e8400-e29b-41d4-a716-446655440000", "!~#$%&'*+.^_`|", "a:b/c"])
    def test_valid(self, key):
        assert idempotency_key(app_with_headers({"idempotency-key": key}), required=True) == key

    @pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there", "caf\u00e9", "nul\x00", "del\x7f", " lead"])
    def test_invalid(self, key):
        with pytest.raises(errors.ValidationFailed):
            idempotency_key(app_with_headers({"idempotency-key": key}), required=False)

    @pytest.mark.parametrize("key", ["abc\n", "x" * 255 + "\n"], ids=["short", "255-chars"])
    def test_trailing_newline_is_invalid(self, key):
        # The rule is "1-255 visible ASCII characters"; "$" also matches before a final newline.
        with pytest.raises(errors.ValidationFailed):
            idempotency_key(app_with_headers({"idempotency-key": key}), required=False)


class TestErrorResponse:
    def test_shape(self):
        app = SimpleNamespace(
            current_event=SimpleNamespace(request_context=SimpleNamespace(request_id="req-1")), lambda_context=None)
        response = error_response(app, 402, "insufficient_credits", "not enough credits",
                                  {"required": "9", "available": "1", "code": "overridden?"})
        assert response.status_code == 402
        assert response.body == {"error": {"code": "insufficient_credits", "message": "not enough credits",
                                           "request_id": "req-1", "required": "9", "available": "1"}}

    def test_request_id_falls_back_to_the_lambda_context(self):
        app = SimpleNamespace(lambda_context=SimpleNamespace(aws_request_id="lambda-req"))
        assert error_response(app, 404, "not_found", "nope").body["error"]["request_id"] == "lambda-req"
        bare = SimpleNamespace()
        assert error_response(bare, 500, "internal_error", "internal error").body["error"]["request_id"] == ""


_SIGNED_IN = {"authorizer": {"jwt": {"claims": {"sub": "alice"}}}}


class TestBodyLimit:
    def test_missing_principal_is_401_before_anything_parses(self):
        class Exploding(TollgateResolver):
            def resolve(self, event, context):
                raise AssertionError("an unauthenticated request must not reach the resolver")

        event = {"routeKey": "POST /v1/x", "body": "{not json", "requestContext": {"requestId": "req-1"}}
        reply = resolve(Exploding(), event, None)
        assert reply["statusCode"] == 401
        assert json.loads(reply["body"])["error"] == {"code": "unauthorized", "message": "missing or invalid credentials",
                                                      "request_id": "req-1"}

    def test_oversized_body_is_refused_before_parsing(self):
        class Exploding(TollgateResolver):
            def resolve(self, event, context):
                raise AssertionError("an oversized body must not reach the resolver")

        limit = settings().max_body_bytes
        event = {"routeKey": "POST /v1/x", "body": "x" * (limit + 1), "requestContext": {"requestId": "req-9", **_SIGNED_IN}}
        reply = resolve(Exploding(), event, None)
        assert reply["statusCode"] == 413
        body = json.loads(reply["body"])
        assert body["error"]["code"] == "payload_too_large"
        assert body["error"]["request_id"] == "req-9"

    def test_multibyte_characters_count_as_bytes(self):
        class Exploding(TollgateResolver):
            def resolve(self, event, context):
                raise AssertionError("an oversized body must not reach the resolver")

        limit = settings().max_body_bytes
        event = {"routeKey": "POST /v1/x", "body": "\u00e9" * (limit // 2 + 1), "requestContext": _SIGNED_IN}
        reply = resolve(Exploding(), event, None)
        assert reply["statusCode"] == 413

    def test_base64_body_counts_decoded_bytes(self):
        import base64

        class Exploding(TollgateResolver):
            def resolve(self, event, context):
                raise AssertionError("an oversized body must not reach the resolver")

        limit = settings().max_body_bytes
        body = base64.b64encode(b"x" * (limit + 3)).decode()
        event = {"routeKey": "POST /v1/x", "body": body, "isBase64Encoded": True, "requestContext": _SIGNED_IN}
        assert resolve(Exploding(), event, None)["statusCode"] == 413

    def test_body_at_the_limit_passes_through(self):
        class Recording(TollgateResolver):
            def resolve(self, event, context):
                return {"statusCode": 200, "seen": len(event.get("body") or "")}

        limit = settings().max_body_bytes
        event = {"routeKey": "POST /v1/x", "body": "x" * limit, "requestContext": _SIGNED_IN}
        assert resolve(Recording(), event, None) == {"statusCode": 200, "seen": limit}
        empty = {"routeKey": "POST /v1/x", "body": None, "requestContext": _SIGNED_IN}
        assert resolve(Recording(), empty, None)["statusCode"] == 200


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.Unauthorized, 401, "unauthorized"),
        (errors.Forbidden, 403, "forbidden"),
        (errors.NotFound, 404, "not_found"),
        (errors.ValidationFailed, 422, "validation_error"),
        (errors.IdempotencyConflict, 409, "idempotency_conflict"),
        (errors.RateLimited, 429, "rate_limited"),
        (errors.PayloadTooLarge, 413, "payload_too_large"),
        (InsufficientCredits, 402, "insufficient_credits"),
        (IdempotencyKeyReused, 409, "idempotency_conflict"),
        (WalletNotFound, 404, "not_found"),
        (InvalidCursor, 422, "validation_error"),
        (InvalidUsage, 422, "validation_error"),
        (UnknownFeature, 422, "validation_error"),
        (FeatureNotFound, 404, "not_found"),
        (ReservationClosed, 409, "reservation_closed"),
        (ReservationNotFound, 404, "not_found"),
    ],
)
def test_error_codes_match_the_design(exc, status, code):
    assert issubclass(exc, errors.TollgateError)
    error = exc("message", required="9", available="1")
    assert (error.status, error.code, error.message) == (status, code, "message")
    assert error.details == {"required": "9", "available": "1"}
    assert str(error) == "message"


class TestBoundedJson:
    def test_nesting_up_to_the_limit_parses(self):
        assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None

    def test_one_level_more_is_refused_before_parsing(self):
        with pytest.raises(json.JSONDecodeError, match="nest at most"):
            parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))

    def test_brackets_in_strings_are_not_nesting(self):
        text = json.dumps({"s": "[" * 1000 + "{" * 1000 + '\\"[' * 100})
        assert parse_json(text)["s"].startswith("[[[")

    def test_deep_unbalanced_input_is_refused_not_recursed(self):
        for text in ("[" * 100_000, "{\"a\":" * 50_000, "[" * 40 + "1" + "]" * 40):
            with pytest.raises(json.JSONDecodeError):
                parse_json(text)

    def test_numbers_are_bounded_in_length(self):
        assert parse_json("9" * MAX_NUMBER_CHARS) == int("9" * MAX_NUMBER_CHARS)
        for text in ("9" * (MAX_NUMBER_CHARS + 1), "-" + "9" * MAX_NUMBER_CHARS, "0." + "1" * MAX_NUMBER_CHARS,
                     "9" * 4301, "1e99999999999999999999999"):
            with pytest.raises(json.JSONDecodeError):
                parse_json(text)

    def test_unpaired_surrogates_are_refused_and_pairs_kept(self):
        assert parse_json('"\\ud83d\\ude00"') == "\U0001F600"
        for text in ('"\\ud83d"', '"\\ude00"', '{"\\udbff": 1}', '["\\ud800\\ud800"]'):
            with pytest.raises(json.JSONDecodeError, match="surrogate"):
                parse_json(text)


@pytest.mark.parametrize(("content_type", "is_json"), [
    (None, True), ("", True), ("application/json", True), ("APPLICATION/JSON; charset=utf-8", True),
    (" application/json ;q=1", True), ("multipart/form-data", False), ("application/jsonp", False),
    ("text/json", False), ("application/x-www-form-urlencoded", False), ("application/merge-patch+json", False),
])
def test_json_media_type(content_type, is_json):
    assert is_json_media_type(content_type) is is_json


class ThingIn(BaseModel):
    x: int


def test_the_resolver_knows_which_routes_take_a_json_body():
    app = create_app()

    @app.post("/v1/things/<thing_id>")
    def post_thing(thing_id: str, body: ThingIn) -> dict:
        return {}

    @app.post("/v1/things/<thing_id>/ping")
    def ping(thing_id: str) -> dict:
        return {}

    assert app.json_body_routes() == frozenset({"POST /v1/things/{thing_id}"})
