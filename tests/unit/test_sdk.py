"""The Python SDK (sdk/) against a mock transport: retries and idempotency keys, errors, paging,
holds (release on exception and early exit, streamed usage), usage_from, and the async twin.
No sleeps: the clients take the sleep function the tests give them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from tollgate_sdk import (
    APIConnectionError,
    AsyncTollgate,
    Forbidden,
    IdempotencyConflict,
    InsufficientCredits,
    NotFound,
    Pricing,
    RateLimited,
    ReservationClosed,
    RetryPolicy,
    Tollgate,
    TollgateError,
    Unauthorized,
    UsageNotFound,
    ValidationError,
    format_credits,
    usage_from,
)
from tollgate_sdk.retry import parse_retry_after

BASE = "http://tollgate.test"
PLUGIN_PRICING = {"type": "per_token", "input_credits": "0.1", "output_credits": "0.2"}
FEATURES = {"data": [
    {"feature_id": "plugin-generate", "name": "Plugin", "pricing": PLUGIN_PRICING, "active": True,
     "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"},
    {"feature_id": "ai-insight", "name": "Insight", "pricing": {"type": "per_call", "credits": "9"}, "active": True,
     "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"},
]}


def usage_out(cost: str = "9", balance: str = "91") -> dict[str, Any]:
    return {"transaction_id": "tx_1", "wallet_id": "user:alice", "feature": "ai-insight", "cost": cost,
            "balance": balance, "available": balance}


def reservation_out(rid: str = "rsv_1", status: str = "open", held: str = "20") -> dict[str, Any]:
    return {"reservation_id": rid, "wallet_id": "user:alice", "feature": "plugin-generate", "held": held,
            "expires_at": "2026-12-01T12:05:00Z", "available": "80", "status": status}


def settle_out(rid: str = "rsv_1", cost: str = "9", held: str = "20") -> dict[str, Any]:
    return {"reservation_id": rid, "transaction_id": "tx_s", "cost": cost,
            "released": str(Decimal(held) - Decimal(cost)), "capped": False, "requested_cost": cost, "balance": "91"}


def error(http_status: int, code: str, message: str = "no", /, **details: Any) -> httpx.Response:
    return httpx.Response(http_status, json={"error": {"code": code, "message": message, "request_id": "rq-1", **details}})


@dataclass
class Server:
    """A scripted API: ``routes`` maps "METHOD /path" to a list of answers, given in turn (the last
    one repeats); an answer is a Response, a dict (200 JSON), or an exception to raise."""

    routes: dict[str, list[Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, route: str, *answers: Any) -> Server:
        self.routes[route] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        answers = self.routes.get(route)
        if not answers:
            return httpx.Response(404, json={"message": "Not Found"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, dict):
            status = 201 if request.method == "POST" and route.endswith(("/usage", "/reservations")) else 200
            return httpx.Response(status, json=answer)
        return answer

    def sent(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if f"{r.method} {r.url.path}" == route]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@pytest.fixture
def server() -> Server:
    return Server().on("GET /v1/features", FEATURES)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server, sleeps) -> Tollgate:
    return Tollgate(BASE, token="tok", transport=httpx.MockTransport(server), sleep=sleeps.append,
                    retry=RetryPolicy(jitter=lambda: 1.0))


# -- auth, idempotency keys and retries ------------------------------------------------------------


def test_token_is_a_bearer_and_api_key_is_x_api_key(server):
    Tollgate(BASE, token="tok", transport=httpx.MockTransport(server)).features()
    Tollgate(BASE, api_key="tg_key", transport=httpx.MockTransport(server)).features()
    first, second = server.requests
    assert first.headers["authorization"] == "Bearer tok" and "x-api-key" not in first.headers
    assert second.headers["x-api-key"] == "tg_key" and "authorization" not in second.headers
    with pytest.raises(ValueError, match="not both"):
        Tollgate(BASE, token="a", api_key="b")


def test_a_token_function_is_called_for_every_request(server):
    tokens = iter(["t1", "t2"])
    client = Tollgate(BASE, token=lambda: next(tokens), transport=httpx.MockTransport(server))
    client.features()
    client.features()
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer t1", "Bearer t2"]


def test_use_retries_5xx_and_dropped_connections_with_the_same_idempotency_key(client, server, sleeps):
    server.on("POST /v1/usage", httpx.Response(503, json={"message": "Service Unavailable"}),
              httpx.ReadError("connection dropped"), httpx.Response(500, text="oops"), usage_out())
    result = client.use("ai-insight", metadata={"insight_id": "ins_42"})
    assert (result.cost, result.balance) == (Decimal("9"), Decimal("91"))
    sent = server.sent("POST /v1/usage")
    assert len(sent) == 4
    keys = {r.headers["idempotency-key"] for r in sent}
    assert len(keys) == 1 and next(iter(keys)).startswith("sdk-")
    assert all(body(r) == {"feature": "ai-insight", "metadata": {"insight_id": "ins_42"}} for r in sent)
    assert sleeps == [0.5, 1.0, 2.0]  # exponential (jitter pinned at its top)


def test_each_logical_call_gets_its_own_key_and_a_given_key_is_sent_as_is(client, server):
    server.on("POST /v1/usage", usage_out())
    client.use("ai-insight")
    client.use("ai-insight")
    client.use("ai-insight", idempotency_key="job-42")
    keys = [r.headers["idempotency-key"] for r in server.sent("POST /v1/usage")]
    assert keys[0] != keys[1] and keys[2] == "job-42"


def test_every_money_call_sends_an_idempotency_key(client, server):
    server.on("POST /v1/reservations", reservation_out())
    server.on("POST /v1/reservations/rsv_1/settle", settle_out())
    server.on("POST /v1/reservations/rsv_1/release", {"reservation_id": "rsv_1", "released": "20"})
    server.on("POST /v1/checkout", {"purchase_id": "pur_1", "status": "pending", "gateway": "stripe", "amount": 1000,
                                     "currency": "USD", "credits": "100", "wallet_id": "user:alice",
                                     "created_at": "2026-12-01T12:00:00Z"})
    payout = {"payout_id": "po_1", "developer_id": "dev", "status": "requested", "credits": "10", "amount": 120,
              "currency": "NGN", "gateway": "paystack", "steps": [], "created_at": "2026-12-01T12:00:00Z",
              "updated_at": "2026-12-01T12:00:00Z"}
    server.on("POST /v1/payouts", payout)
    client.reserve("plugin-generate", max_credits="20").open().settle(usage={"input_tokens": 40, "output_tokens": 25})
    client.release_reservation("rsv_1")
    purchase = client.checkout(gateway="stripe", currency="USD", package_id="starter")
    assert (purchase.amount, purchase.credits) == (1000, Decimal(100))
    assert client.request_payout(credits=Decimal("10.000")).credits == Decimal(10)
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 5
    assert all(r.headers.get("idempotency-key") for r in posts)
    assert body(server.sent("POST /v1/payouts")[0]) == {"credits": "10"}


def test_retry_after_is_honoured_and_429_ends_as_rate_limited(server, sleeps):
    client = Tollgate(BASE, token="t", transport=httpx.MockTransport(server), sleep=sleeps.append, max_retries=2)
    server.on("GET /v1/wallet", httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "Too Many Requests"}))
    with pytest.raises(RateLimited) as caught:
        client.wallet()
    assert sleeps == [7.0, 7.0]
    assert caught.value.retry_after == 7.0
    assert caught.value.attempts == 3 and len(server.sent("GET /v1/wallet")) == 3
    assert caught.value.status == 429 and caught.value.message == "Too Many Requests"


def test_retry_after_as_an_http_date_and_capped():
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:10 GMT", now=lambda: 1792567680.0) == 10.0
    assert parse_retry_after("soon") is None
    assert RetryPolicy(max_retry_after=30).delay(0, 3600) == 30
    policy = RetryPolicy(backoff=1, max_backoff=4, jitter=lambda: 0.0)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 2.0, 2.0]  # half the ceiling, at the least


@pytest.mark.parametrize(("status", "code"), [(400, "bad_request"), (402, "insufficient_credits"),
                                              (404, "not_found"), (409, "idempotency_conflict"),
                                              (413, "payload_too_large"), (422, "validation_error")])
def test_no_retry_on_4xx(client, server, sleeps, status, code):
    server.on("POST /v1/usage", error(status, code), usage_out())
    with pytest.raises(TollgateError) as caught:
        client.use("ai-insight")
    assert caught.value.status == status and caught.value.attempts == 1
    assert len(server.sent("POST /v1/usage")) == 1 and sleeps == []


def test_connection_errors_give_up_as_api_connection_error(client, server, sleeps):
    server.on("GET /v1/wallet", httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as caught:
        client.wallet()
    assert caught.value.attempts == 4 and caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 3


def test_a_request_that_cannot_be_sent_is_not_retried(server, sleeps):
    client = Tollgate("http://tollgate.test", token="t", transport=httpx.MockTransport(server), sleep=sleeps.append)
    server.on("GET /v1/wallet", httpx.UnsupportedProtocol("no"))
    with pytest.raises(APIConnectionError):
        client.wallet()
    assert sleeps == []


def test_an_answer_that_is_not_json_is_a_tollgate_error(client, server):
    server.on("GET /v1/wallet", httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(TollgateError, match="not JSON") as caught:
        client.wallet()
    assert caught.value.code == "unexpected_response"
    with pytest.raises(ValueError, match="not both"):
        Tollgate(BASE, token="t", transport=httpx.MockTransport(server), http_client=httpx.Client())


# -- errors ---------------------------------------------------------------------------------------


def test_insufficient_credits_carries_the_figures(client, server):
    server.on("POST /v1/usage", error(402, "insufficient_credits", "not enough credits", required="40", available="12.5"))
    with pytest.raises(InsufficientCredits) as caught:
        client.use("ai-report")
    err = caught.value
    assert (err.required, err.available) == (Decimal("40"), Decimal("12.5"))
    assert (err.status, err.code, err.request_id) == (402, "insufficient_credits", "rq-1")
    assert str(err) == "402 insufficient_credits: not enough credits (request_id rq-1)"


def test_member_cap_exceeded_is_insufficient_credits_with_the_cap(client, server):
    server.on("POST /v1/usage", error(402, "member_cap_exceeded", cap="50", spent="45", required="9", remaining="5"))
    with pytest.raises(InsufficientCredits) as caught:
        client.use("ai-insight", wallet_id="org:acme")
    err = caught.value
    assert (err.code, err.required, err.available, err.cap, err.spent) == (
        "member_cap_exceeded", Decimal(9), Decimal(5), Decimal(50), Decimal(45))


@pytest.mark.parametrize(("response", "cls"), [
    (error(409, "idempotency_conflict"), IdempotencyConflict),
    (error(409, "reservation_closed", status="settled"), ReservationClosed),
    (error(404, "not_found"), NotFound),
    (httpx.Response(404, json={"message": "Not Found"}), NotFound),
    (error(403, "forbidden"), Forbidden),
    (httpx.Response(403, json={"message": "Forbidden"}), Forbidden),
    (httpx.Response(401, json={"message": "Unauthorized"}), Unauthorized),
    (error(422, "validation_error", errors=[{"field": "feature", "message": "required", "type": "missing"}]),
     ValidationError),
    (error(409, "too_many_holds"), TollgateError),
])
def test_errors_map_to_exceptions(client, server, response, cls):
    server.on("POST /v1/reservations", response)
    with pytest.raises(cls) as caught:
        client.reserve("plugin-generate", max_credits=20).open()
    assert type(caught.value) is cls
    assert caught.value.status == response.status_code
    if cls is ReservationClosed:
        assert caught.value.reservation_status == "settled"
    if cls is ValidationError:
        assert caught.value.errors == [{"field": "feature", "message": "required", "type": "missing"}]
    if cls is TollgateError:
        assert caught.value.code == "too_many_holds"


def test_a_5xx_that_never_recovers_is_a_tollgate_error(client, server):
    server.on("GET /v1/wallet", httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(TollgateError) as caught:
        client.wallet()
    assert caught.value.status == 502 and caught.value.attempts == 4 and "Bad Gateway" in caught.value.message


# -- reading and paging ---------------------------------------------------------------------------


def entry(n: int) -> dict[str, Any]:
    return {"transaction_id": f"tx_{n}", "type": "usage", "amount": f"-{n}.5", "balance_after": None,
            "feature": "ai-insight", "reference": None, "created_at": "2026-12-01T12:00:00Z", "metadata": {}}


def test_history_follows_next_cursor_across_pages(client, server):
    pages = {None: ([entry(1), entry(2)], "c1"), "c1": ([entry(3)], "c2"), "c2": ([], None)}

    def page(request: httpx.Request) -> dict[str, Any]:
        data, cursor = pages[request.url.params.get("cursor")]
        return {"data": data, "next_cursor": cursor}

    server.on("GET /v1/history", page)
    entries = client.history(type="usage", since="2026-11-01T00:00:00Z", wallet_id="org:acme", page_size=2)
    assert server.sent("GET /v1/history") == []  # nothing fetched until iterated
    seen = list(entries)
    assert [e.transaction_id for e in seen] == ["tx_1", "tx_2", "tx_3"]
    assert seen[0].amount == Decimal("-1.5") and seen[0].balance_after is None
    sent = server.sent("GET /v1/history")
    assert [r.url.params.get("cursor") for r in sent] == [None, "c1", "c2"]
    assert all(dict(r.url.params) | {"cursor": "x"} == {"type": "usage", "since": "2026-11-01T00:00:00Z",
                                                        "wallet_id": "org:acme", "limit": "2", "cursor": "x"}
               for r in sent)
    with pytest.raises(ValueError, match="page_size"):
        client.history(page_size=500)


def test_wallet_amounts_are_decimals_never_floats(client, server):
    server.on("GET /v1/wallet", {"wallet_id": "user:alice", "balance": "100.125", "reserved": "0.1",
                                 "available": "100.025", "open_holds": 1, "grants": [], "expiring_soon": "0"})
    wallet = client.wallet()
    assert wallet.available == Decimal("100.025") and isinstance(wallet.balance, Decimal)
    assert wallet.balance - wallet.reserved == wallet.available  # exact, as floats would not be
    server.on("GET /v1/wallet", {"wallet_id": "user:alice", "balance": 1.5, "reserved": "0", "available": "0",
                                 "open_holds": 0})
    with pytest.raises(TollgateError, match="unexpected response"):
        client.wallet()


def test_credits_in_are_sent_as_decimal_strings(client, server):
    server.on("POST /v1/reservations", reservation_out())
    for given, sent in [(Decimal("12.50"), "12.5"), (100, "100"), ("0.001", "0.001"), (Decimal("1E+2"), "100")]:
        client.reserve("plugin-generate", max_credits=given).open()
        assert body(server.sent("POST /v1/reservations")[-1])["max_credits"] == sent
    assert format_credits(" 7.000 ") == "7"
    with pytest.raises(TypeError):
        client.use("ai-insight", amount=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one of"):
        client.reserve("plugin-generate", max_credits="5", quantity=2)


# -- holds ----------------------------------------------------------------------------------------


def hold_routes(server: Server, rid: str = "rsv_1", status: str = "open") -> Server:
    server.on("POST /v1/reservations", reservation_out(rid, status))
    server.on(f"POST /v1/reservations/{rid}/settle", settle_out(rid))
    server.on(f"POST /v1/reservations/{rid}/release", {"reservation_id": rid, "released": "20"})
    return server


def test_an_exception_in_the_block_releases_the_hold_and_propagates(client, server):
    hold_routes(server)
    failure = RuntimeError("the model call failed")
    with pytest.raises(RuntimeError) as caught, client.reserve("plugin-generate", max_credits="20") as hold:
        raise failure
    assert caught.value is failure
    assert hold.status == "released"
    assert len(server.sent("POST /v1/reservations/rsv_1/release")) == 1
    assert server.sent("POST /v1/reservations/rsv_1/settle") == []


def test_an_early_exit_releases_the_hold(client, server):
    hold_routes(server)

    def generate(prompts: list[str]) -> str | None:
        for prompt in prompts:
            with client.reserve("plugin-generate", max_credits="20"):
                if prompt == "stop":
                    return prompt
                continue
        return None

    assert generate(["a", "stop", "never"]) == "stop"
    assert len(server.sent("POST /v1/reservations")) == 2
    assert len(server.sent("POST /v1/reservations/rsv_1/release")) == 2


def test_settling_charges_once_and_leaving_then_releases_nothing(client, server):
    hold_routes(server)
    with client.reserve("plugin-generate", max_credits="20") as hold:
        settled = hold.settle(usage={"input_tokens": 40, "output_tokens": 25})
        assert (settled.cost, settled.released) == (Decimal(9), Decimal(11))
        with pytest.raises(ReservationClosed) as again:
            hold.settle(usage={"input_tokens": 1})
        assert again.value.reservation_status == "settled"
    assert hold.settlement is settled and hold.status == "settled"
    assert body(server.sent("POST /v1/reservations/rsv_1/settle")[0]) == {
        "usage": {"input_tokens": 40, "output_tokens": 25}}
    assert len(server.sent("POST /v1/reservations/rsv_1/settle")) == 1
    assert server.sent("POST /v1/reservations/rsv_1/release") == []


def test_a_failed_release_never_hides_the_exception(client, server):
    hold_routes(server)
    server.on("POST /v1/reservations/rsv_1/release", httpx.Response(500, text="down"))
    with pytest.raises(KeyError) as caught, client.reserve("plugin-generate", max_credits="20"):
        raise KeyError("mine")
    assert any("releasing hold rsv_1 failed" in note for note in caught.value.__notes__)


def test_a_hold_closed_meanwhile_is_left_alone_on_exit(client, server):
    hold_routes(server)
    server.on("POST /v1/reservations/rsv_1/release", error(409, "reservation_closed", status="expired"))
    with client.reserve("plugin-generate", max_credits="20") as hold:
        pass
    assert hold.status == "expired"


def test_a_release_whose_answer_was_lost_counts_as_released(client, server, sleeps):
    hold_routes(server)
    server.on("POST /v1/reservations/rsv_1/release", httpx.ReadError("dropped"),
              error(409, "reservation_closed", status="released"))
    server.on("GET /v1/reservations/rsv_1", {**reservation_out(status="released"), "created_at": "2026-12-01T12:00:00Z"})
    released = client.release_reservation("rsv_1")
    assert released.released == Decimal(20)
    # Without a retry, finding it released is the caller's own double release: an error.
    server.on("POST /v1/reservations/rsv_1/release", error(409, "reservation_closed", status="released"))
    with pytest.raises(ReservationClosed):
        client.release_reservation("rsv_1")


def test_process_level_retry_with_the_same_key_finds_the_same_hold_and_releases_it(client, server):
    hold_routes(server)
    # The first process opened the hold and died inside the block (it never left it).
    crashed = client.reserve("plugin-generate", max_credits="20", idempotency_key="job-7").open()
    # The rerun sends the same key and body: the API answers with the same reservation.
    with client.reserve("plugin-generate", max_credits="20", idempotency_key="job-7") as rerun:
        assert rerun.id == crashed.id
    creates = server.sent("POST /v1/reservations")
    assert [r.headers["idempotency-key"] for r in creates] == ["job-7", "job-7"]
    assert body(creates[0]) == body(creates[1])
    assert len(server.sent("POST /v1/reservations/rsv_1/release")) == 1


def test_a_rerun_that_finds_its_hold_settled_raises_and_touches_nothing(client, server):
    hold_routes(server, status="settled")
    entered = False
    with pytest.raises(ReservationClosed) as caught, client.reserve("plugin-generate", max_credits="20",
                                                                    idempotency_key="job-8"):
        entered = True
    assert not entered and caught.value.reservation_status == "settled"
    assert server.sent("POST /v1/reservations/rsv_1/release") == []


def test_streamed_usage_accumulates_and_remaining_is_exact(client, server):
    hold_routes(server)
    with client.reserve("plugin-generate", max_credits="20") as hold:
        assert (hold.held, hold.spent, hold.remaining) == (Decimal(20), Decimal(0), Decimal(20))
        hold.add(usage={"input_tokens": 40})                       # 40 x 0.1 = 4
        for _ in range(3):
            hold.add(usage={"output_tokens": 7})                   # 21 x 0.2 = 4.2
        hold.add(usage=SimpleNamespace(usage=SimpleNamespace(input_tokens=0, output_tokens=4)))  # 0.8
        assert hold.usage == {"input_tokens": 40, "output_tokens": 25}
        assert (hold.spent, hold.remaining) == (Decimal(9), Decimal(11))
        hold.add(usage={"output_tokens": 100})                     # 29 credits in all: more than held
        assert (hold.spent, hold.remaining) == (Decimal(29), Decimal(0))
        with pytest.raises(ValueError, match="tokens or in characters"):
            hold.add(usage={"input_chars": 4})
        hold.settle()
    assert body(server.sent("POST /v1/reservations/rsv_1/settle")[0]) == {
        "usage": {"input_tokens": 40, "output_tokens": 125}}
    assert len(server.sent("GET /v1/features")) == 1


def test_remaining_rounds_up_to_a_millicredit_as_the_api_does(server, client):
    pricing = Pricing(type="per_token", input_credits=Decimal("0.001"), output_credits=Decimal("0.003"))
    assert pricing.cost({"input_chars": 1}) == Decimal("0.001")           # 0.25 mc -> 1 mc
    assert pricing.cost({"input_chars": 5, "output_chars": 6}) == Decimal("0.006")  # (5 + 18) / 4 -> 6 mc
    assert pricing.cost({"input_tokens": 3, "output_tokens": 1}) == Decimal("0.006")
    assert Pricing(type="per_call", credits=Decimal(9)).cost(quantity=3) == Decimal(27)
    assert Pricing(type="per_unit", credits=Decimal("0.5")).cost(quantity=3) == Decimal("1.5")
    with pytest.raises(ValueError, match="per_unit"):
        Pricing(type="per_unit", credits=Decimal(1)).cost()
    hold_routes(server)
    server.on("POST /v1/reservations", reservation_out(held="1"))
    with client.reserve("chat", max_credits="1", pricing=pricing.model_dump()) as hold:
        hold.add(usage={"input_chars": 1})
        hold.add(usage={"input_chars": 1})
        assert hold.spent == Decimal("0.001")   # 2 chars: half a token, one millicredit
        hold.add(usage={"output_chars": 3})
        assert (hold.spent, hold.remaining) == (Decimal("0.003"), Decimal("0.997"))  # (2 + 9) / 4 -> 3 mc
    assert server.sent("GET /v1/features") == []  # the given price was used


def test_an_api_key_hold_has_no_catalog_price_unless_given(server):
    hold_routes(server)
    client = Tollgate(BASE, api_key="tg_key", transport=httpx.MockTransport(server))
    with client.reserve("plugin-generate", max_credits="20") as hold:
        hold.add(usage={"input_tokens": 10})
        with pytest.raises(TollgateError, match="pass pricing="):
            _ = hold.remaining
        hold.settle()
    assert server.sent("GET /v1/features") == []
    assert body(server.sent("POST /v1/reservations/rsv_1/settle")[0]) == {"usage": {"input_tokens": 10}}


# -- usage_from -----------------------------------------------------------------------------------


def test_usage_from_openai_and_anthropic_responses():
    openai_chat = {"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 25, "total_tokens": 65}}
    assert usage_from(openai_chat) == {"input_tokens": 40, "output_tokens": 25}
    openai_object = SimpleNamespace(usage=SimpleNamespace(prompt_tokens=3, completion_tokens=None))
    assert usage_from(openai_object) == {"input_tokens": 3, "output_tokens": 0}
    responses_api = {"usage": {"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}}
    assert usage_from(responses_api) == {"input_tokens": 12, "output_tokens": 8}
    anthropic = SimpleNamespace(usage=SimpleNamespace(input_tokens=10, output_tokens=5,
                                                      cache_creation_input_tokens=100, cache_read_input_tokens=1000))
    assert usage_from(anthropic) == {"input_tokens": 1110, "output_tokens": 5}
    assert usage_from({"prompt_tokens": 1, "completion_tokens": 2}) == {"input_tokens": 1, "output_tokens": 2}
    for nothing in ({"choices": []}, SimpleNamespace(text="hi"), {"usage": None}, "text"):
        with pytest.raises(UsageNotFound, match="no token usage"):
            usage_from(nothing)
    with pytest.raises(UsageNotFound, match="not a token count"):
        usage_from({"usage": {"prompt_tokens": True}})


def test_use_reads_a_response_given_as_usage(client, server):
    server.on("POST /v1/usage", usage_out())
    client.use("plugin-generate", usage={"usage": {"prompt_tokens": 40, "completion_tokens": 25}})
    client.use("plugin-generate", usage={"input_chars": 400, "output_chars": 200})
    sent = [body(r)["usage"] for r in server.sent("POST /v1/usage")]
    assert sent == [{"input_tokens": 40, "output_tokens": 25}, {"input_chars": 400, "output_chars": 200}]


# -- the async twin -------------------------------------------------------------------------------


def async_client(server: Server, sleeps: list[float]) -> AsyncTollgate:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncTollgate(BASE, token="tok", transport=httpx.MockTransport(server), sleep=sleep,
                         retry=RetryPolicy(jitter=lambda: 1.0))


def test_async_use_retries_with_the_same_key(server, sleeps):
    server.on("POST /v1/usage", httpx.ReadError("dropped"), usage_out())

    async def run() -> Decimal:
        async with async_client(server, sleeps) as client:
            return (await client.use("ai-insight")).cost

    assert asyncio.run(run()) == Decimal(9)
    keys = [r.headers["idempotency-key"] for r in server.sent("POST /v1/usage")]
    assert len(keys) == 2 and keys[0] == keys[1] and sleeps == [0.5]


def test_async_hold_releases_on_exception_and_settles_streamed_usage(server, sleeps):
    hold_routes(server)

    async def run() -> None:
        client = async_client(server, sleeps)
        with pytest.raises(RuntimeError, match="stream broke"):
            async with client.reserve("plugin-generate", max_credits="20") as hold:
                raise RuntimeError("stream broke")
        assert hold.status == "released"
        async with client.reserve("plugin-generate", max_credits="20") as hold:
            for chunk in ({"input_tokens": 40}, {"output_tokens": 20}, {"output_tokens": 5}):
                hold.add(usage=chunk)
                if hold.remaining <= 0:
                    break
            assert hold.remaining == Decimal(11)
            await hold.settle()
        with pytest.raises(InsufficientCredits) as caught:
            server.on("POST /v1/usage", error(402, "insufficient_credits", required="40", available="12"))
            await client.use("ai-report")
        assert (caught.value.required, caught.value.available) == (Decimal(40), Decimal(12))
        await client.aclose()

    asyncio.run(run())
    assert len(server.sent("POST /v1/reservations/rsv_1/release")) == 1
    assert len(server.sent("POST /v1/reservations/rsv_1/settle")) == 1


def test_async_history_pages(server, sleeps):
    server.on("GET /v1/history", lambda r: {"data": [entry(1)], "next_cursor": "c"} if not r.url.params.get("cursor")
              else {"data": [entry(2)], "next_cursor": None})

    async def run() -> list[str]:
        client = async_client(server, sleeps)
        return [e.transaction_id async for e in client.history()]

    assert asyncio.run(run()) == ["tx_1", "tx_2"]


def test_the_sync_and_async_clients_offer_the_same_calls():
    def public(cls: type) -> set[str]:
        return {name for name in vars(cls) if not name.startswith("_") and callable(getattr(cls, name))}

    assert public(Tollgate) - {"close"} == public(AsyncTollgate) - {"aclose"}


