"""A direct route (``TollgateResolver.direct_routes``: POST /v1/usage) answers exactly as Powertools'
middleware stack would: same statuses, bodies and headers, for good and bad requests alike."""

from __future__ import annotations

import pytest

from tests.support import ALICE, SERVICE, assert_ledger_invariant, invoke, ledger_state, load_function

USAGE = "POST /v1/usage"

CASES = {
    "debit": {"body": {"feature": "ai-insight"}},
    "debit with usage and metadata": {"body": {"feature": "ai-insight", "quantity": 2, "metadata": {"k": "v"}}},
    "not enough credits": {"body": {"feature": "ai-report", "quantity": 1000}},
    "unknown feature": {"body": {"feature": "no-such-feature"}},
    "missing feature": {"body": {"quantity": 1}},
    "unknown field": {"body": {"feature": "ai-insight", "surprise": 1}},
    "wrong type": {"body": {"feature": "ai-insight", "quantity": "2"}},
    "a float": {"raw_body": '{"feature": "ai-insight", "quantity": 1.5}'},
    "quantity and usage": {"body": {"feature": "ai-insight", "quantity": 1, "usage": {"input_tokens": 5}}},
    "not JSON": {"raw_body": "{not json"},
    "an array": {"raw_body": "[1, 2]"},
    "null": {"raw_body": "null"},
    "empty": {"raw_body": ""},
    "no body": {"body": None},
    "too deep": {"raw_body": "[" * 40 + "]" * 40},
    "a person sets an amount": {"body": {"feature": "ai-insight", "amount": "5"}},
    "someone else's wallet": {"body": {"feature": "ai-insight", "wallet_id": "user:bob"}},
    "bad idempotency key": {"body": {"feature": "ai-insight"}, "headers": {"idempotency-key": "a b"}},
    "service key without a key": {"body": {"feature": "ai-insight", "wallet_id": "user:alice"},
                                  "caller": SERVICE, "drop_headers": ("idempotency-key",)},
    "service key with an amount": {"body": {"feature": "ai-insight", "wallet_id": "user:alice", "amount": "7"},
                                   "caller": SERVICE},
    "wrong media type": {"body": {"feature": "ai-insight"}, "headers": {"content-type": "text/plain"}},
}


def _send(case: dict, key: str):
    kwargs = dict(case)
    headers = {"idempotency-key": key, **kwargs.pop("headers", {})}
    return invoke("deduction_post_usage.json", caller=kwargs.pop("caller", ALICE), headers=headers, **kwargs)


@pytest.mark.parametrize("name", CASES)
def test_a_direct_route_answers_as_the_middleware_stack_does(name, catalog, fund, monkeypatch):
    fund("user:alice", "100")
    app = load_function("deduction").app
    assert USAGE in app.direct_routes
    direct = _send(CASES[name], key=f"eq-{name}")
    before = ledger_state("user:alice")
    monkeypatch.setattr(app, "direct_routes", frozenset())
    # The same request through Powertools' middleware stack: a success replays (same key, same answer).
    stacked = _send(CASES[name], key=f"eq-{name}")
    assert (stacked.status, stacked.body, stacked.headers) == (direct.status, direct.body, direct.headers)
    assert ledger_state("user:alice") == before  # the replay (or the refusal) wrote nothing
    assert_ledger_invariant("user:alice")


def test_only_a_route_whose_one_input_is_its_body_may_be_direct(monkeypatch):
    app = load_function("deduction").app
    monkeypatch.setattr(app, "direct_routes", frozenset({"POST /v1/reservations/{reservation_id}/settle"}))
    with pytest.raises(TypeError, match="cannot be direct"):
        app.direct_bodies()
    monkeypatch.setattr(app, "direct_routes", frozenset({"POST /v1/nowhere"}))
    with pytest.raises(TypeError, match="not registered"):
        app.direct_bodies()
