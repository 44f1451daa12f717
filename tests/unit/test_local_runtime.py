"""The local runtime's pure parts: schedules, stream filters, route matching, claim flattening."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tollgate_local.gateway import compile_route
from tollgate_local.schedules import Schedule
from tollgate_local.streams import matches
from tollgate_local.template import Route
from tollgate_local.tokens import flatten_claims

NOW = datetime(2026, 11, 21, 6, 30, 15, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", datetime(2026, 11, 21, 6, 35, 15, tzinfo=UTC)),
        ("rate(1 hour)", datetime(2026, 11, 21, 7, 30, 15, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 11, 22, 6, 30, 15, tzinfo=UTC)),
        ("cron(0 0 1 * ? *)", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),  # monthly allocations
        ("cron(*/15 * * * ? *)", datetime(2026, 11, 21, 6, 45, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),  # next weekday is Monday
        ("cron(30 6,18 * * ? *)", datetime(2026, 11, 21, 18, 30, tzinfo=UTC)),
        ("cron(0 0 ? * 1 *)", datetime(2026, 11, 22, 0, 0, tzinfo=UTC)),  # AWS day 1 is Sunday
    ],
)
def test_next_fire_time(expression, expected):
    assert Schedule("F", "E", expression).next_after(NOW) == expected


def test_unsupported_schedule_is_refused():
    with pytest.raises(ValueError):
        Schedule("F", "E", "every tuesday").next_after(NOW)


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {"Keys": {"SK": {"S": "WALLET"}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {"Keys": {"SK": {"S": "TX#1"}}}}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "REMOVE"}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "MODIFY"}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": ["WALLET"]}}}}, {"dynamodb": {}}, False),
    ],
)
def test_stream_filter_patterns(pattern, record, expected):
    assert matches(pattern, record) is expected


def test_routes_match_parameters_and_prefer_literals():
    settle = compile_route(Route("F", "E", "POST", "/v1/reservations/{reservation_id}/settle", None))
    match = settle.pattern.fullmatch("/v1/reservations/rsv_1/settle")
    assert match and dict(zip(settle.params, match.groups(), strict=True)) == {"reservation_id": "rsv_1"}
    assert settle.pattern.fullmatch("/v1/reservations/rsv_1/settle/extra") is None
    literal = compile_route(Route("F", "E", "GET", "/v1/admin/features", None))
    param = compile_route(Route("F", "E", "GET", "/v1/admin/{thing}", None))
    assert literal.specificity > param.specificity


def test_claims_flatten_as_api_gateway_passes_them():
    flat = flatten_claims({"sub": "a", "roles": ["admin", "user"], "exp": 1795242600, "email_verified": True,
                           "address": {"country": "NG"}})
    assert flat == {"sub": "a", "roles": "[admin user]", "exp": "1795242600", "email_verified": "true",
                    "address": '{"country":"NG"}'}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "HEAD", "PROPFIND", "PATCH"])
def test_a_method_no_route_has_is_api_gateways_404(method):
    from tollgate_local.gateway import LocalApi

    # No function is reached, so the gateway needs no registry or signer to answer.
    api = LocalApi(None, None, issuer="", audience="")  # type: ignore[arg-type]
    status, headers, cookies, body = api.handle(method, "/v1/wallet", {}, b"", "127.0.0.1")
    assert (status, headers, cookies, body) == (404, {"content-type": "application/json"}, [],
                                                 b'{"message":"Not Found"}')


def test_the_gateway_handler_serves_every_method_name():
    from tollgate_local.gateway import _Handler

    handler = _Handler.__new__(_Handler)  # no socket: only method dispatch is looked at
    for method in ("GET", "TRACE", "CONNECT", "PROPFIND", "BREW"):
        assert getattr(handler, f"do_{method}") == handler._serve
    with pytest.raises(AttributeError):
        handler.not_a_method  # the lookup itself is what is tested
