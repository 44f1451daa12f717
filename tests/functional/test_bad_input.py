"""Bad input: every kind gets its 4xx with an error code and changes nothing."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support import ADMIN, ALICE, SERVICE, LambdaContext, invoke, ledger_state, load_function, sample_event

WALLET = "user:alice"


def _usage(**kw):
    return invoke("deduction_post_usage.json", caller=kw.pop("caller", ALICE), **kw)


BAD_USAGE = {
    "negative amount": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "-1"}),
    "zero amount": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "0"}),
    "too many decimals": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "1.0001"}),
    "huge amount": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "1e30"}),
    "huge numeric amount": dict(caller=SERVICE, raw_body='{"feature":"ai-insight","wallet_id":"user:alice","amount":1e30}'),
    "NaN amount (string)": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "NaN"}),
    "NaN amount (literal)": dict(caller=SERVICE, raw_body='{"feature":"ai-insight","wallet_id":"user:alice","amount":NaN}'),
    "Infinity amount": dict(caller=SERVICE, raw_body='{"feature":"ai-insight","wallet_id":"user:alice","amount":Infinity}'),
    "non-numeric amount": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": "ten"}),
    "boolean amount": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": WALLET, "amount": True}),
    "float with 4 decimals": dict(caller=SERVICE, raw_body='{"feature":"ai-insight","wallet_id":"user:alice","amount":0.0001}'),
    "unknown feature": dict(body={"feature": "no-such-feature"}),
    "feature of wrong type": dict(body={"feature": 42}),
    "feature with bad characters": dict(body={"feature": "AI Insight!"}),
    "missing feature": dict(body={}),
    "unexpected field": dict(body={"feature": "ai-insight", "price": "0"}),
    "malformed JSON": dict(raw_body='{"feature": "ai-insight"'),
    "JSON array body": dict(raw_body='["ai-insight"]'),
    "empty body": dict(raw_body=""),
    "oversized body": dict(raw_body=json.dumps({"feature": "ai-insight", "metadata": {"x": "y" * 20_000}})),
    "oversized metadata": dict(body={"feature": "ai-insight", "metadata": {"blob": "z" * 2000}}),
    "metadata not an object": dict(body={"feature": "ai-insight", "metadata": ["a"]}),
    "metadata too deep": dict(body={"feature": "ai-insight", "metadata": {"a": {"b": {"c": {"d": 1}}}}}),
    "quantity zero": dict(body={"feature": "dashboard-refresh", "quantity": 0}),
    "quantity negative": dict(body={"feature": "dashboard-refresh", "quantity": -2}),
    "quantity as string": dict(body={"feature": "dashboard-refresh", "quantity": "2"}),
    "quantity fractional": dict(body={"feature": "dashboard-refresh", "quantity": 1.5}),
    "per_unit without quantity": dict(body={"feature": "ai-translate"}),
    "per_token without usage": dict(body={"feature": "ai-plugin-generate"}),
    "tokens and chars mixed": dict(body={"feature": "ai-plugin-generate",
                                         "usage": {"input_tokens": 1, "input_chars": 4}}),
    "negative tokens": dict(body={"feature": "ai-plugin-generate", "usage": {"input_tokens": -1}}),
    "usage on a per_call feature": dict(body={"feature": "ai-insight", "usage": {"input_tokens": 5}}),
    "wallet_id malformed": dict(caller=SERVICE, body={"feature": "ai-insight", "wallet_id": "alice"}),
    "over-long Idempotency-Key": dict(body={"feature": "ai-insight"}, headers={"idempotency-key": "k" * 256}),
    "Idempotency-Key with spaces": dict(body={"feature": "ai-insight"}, headers={"idempotency-key": "a key"}),
    "explicit amount from a person": dict(body={"feature": "ai-insight", "amount": "1"}),
    "another person's wallet": dict(body={"feature": "ai-insight", "wallet_id": "user:bob"}),
    "no principal at all": dict(caller=None, body={"feature": "ai-insight"}),
}


@pytest.mark.parametrize("case", list(BAD_USAGE), ids=list(BAD_USAGE))
def test_bad_usage_is_a_4xx_and_changes_nothing(catalog, fund, case):
    fund(WALLET, "100")
    fund("user:bob", "100")
    before, before_bob = ledger_state(WALLET), ledger_state("user:bob")
    reply = _usage(**BAD_USAGE[case])
    assert 400 <= reply.status < 500, (case, reply)
    error = reply.body["error"]
    assert error["code"] in {"validation_error", "forbidden", "not_found", "unauthorized", "payload_too_large"}
    assert error["message"]
    assert "request_id" in error
    assert "Traceback" not in json.dumps(reply.body)
    assert ledger_state(WALLET) == before
    assert ledger_state("user:bob") == before_bob


def test_amount_errors_are_422_validation_error(catalog, fund):
    fund(WALLET, "100")
    for case in ("negative amount", "zero amount", "too many decimals", "huge amount", "NaN amount (string)",
                 "NaN amount (literal)", "non-numeric amount", "malformed JSON", "unknown feature"):
        reply = _usage(**BAD_USAGE[case])
        assert reply.status == 422, case
        assert reply.error_code == "validation_error", case


def test_oversized_body_is_413(catalog):
    assert _usage(**BAD_USAGE["oversized body"]).status == 413


def test_base64_body_is_decoded(catalog, fund):
    fund(WALLET, "100")
    raw = base64.b64encode(json.dumps({"feature": "ai-insight"}).encode()).decode()
    event = sample_event("deduction_post_usage.json")
    event["body"], event["isBase64Encoded"] = raw, True
    response = load_function("deduction").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 201, response
    assert json.loads(response["body"])["cost"] == "9"


BAD_ADJUSTMENTS = {
    "zero": {"amount": "0", "reason": "x"},
    "too many decimals": {"amount": "0.0005", "reason": "x"},
    "missing reason": {"amount": "5"},
    "empty reason": {"amount": "5", "reason": ""},
    "amount as list": {"amount": ["5"], "reason": "x"},
    "over the maximum": {"amount": "1000000000.001", "reason": "x"},
}


@pytest.mark.parametrize("case", list(BAD_ADJUSTMENTS), ids=list(BAD_ADJUSTMENTS))
def test_bad_adjustments_change_nothing(aws, fund, case):
    fund(WALLET, "100")
    before = ledger_state(WALLET)
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body=BAD_ADJUSTMENTS[case],
                   headers={"idempotency-key": f"bad-{case.replace(' ', '-')}"})
    assert reply.status == 422, reply
    assert reply.error_code == "validation_error"
    assert ledger_state(WALLET) == before


def test_json_number_with_three_decimals_is_exact(aws, fund):
    # 0.125 parses as Decimal("0.125"), never a float: accepted exactly.
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, raw_body='{"amount": 0.125, "reason": "x"}',
                   headers={"idempotency-key": "decimal-number"})
    assert reply.status == 201
    assert reply.body["amount"] == "0.125"
    assert ledger_state(WALLET)["balance"] == 125


def test_negative_adjustment_never_goes_below_zero(aws, fund):
    fund(WALLET, "10")
    reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": "-10.001", "reason": "clawback"},
                   headers={"idempotency-key": "neg"})
    assert reply.status == 402
    assert ledger_state(WALLET)["balance"] == 10_000


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor!"},
        {"cursor": base64.urlsafe_b64encode(b'{"pk":"WALLET#user:bob","sk":"TX#x","ix":"x","f":"y"}').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[1,2,3]").decode()},
        {"type": "bogus"},
        {"since": "yesterday"},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
)
def test_bad_history_queries_are_422(aws, fund, query):
    fund(WALLET, "100")
    reply = invoke("history_get_history.json", query=query)
    assert reply.status == 422, (query, reply)
    assert reply.error_code == "validation_error"
