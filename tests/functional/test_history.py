"""GET /v1/wallet and /v1/history: own wallet only, newest first, pages, filters, stamping."""

from __future__ import annotations

import itertools

from tests.support import ADMIN, ALICE, BOB, LambdaContext, advance_clock, invoke, load_function, sample_event


def history(query=None, caller=ALICE):
    return invoke("history_get_history.json", caller=caller, query=query or {})


def spend_n(n, feature="dashboard-refresh"):
    for i in range(n):
        reply = invoke("deduction_post_usage.json", body={"feature": feature},
                       headers={"idempotency-key": f"{feature}-{i}"})
        assert reply.status == 201


def test_wallet_defaults_to_the_caller_and_hides_others(catalog, fund):
    fund("user:alice", "12.5")
    reply = invoke("history_get_wallet.json", caller=ALICE)
    assert reply.status == 200
    assert reply.body["wallet_id"] == "user:alice"
    assert (reply.body["balance"], reply.body["reserved"], reply.body["available"]) == ("12.5", "0", "12.5")
    other = invoke("history_get_wallet.json", caller=BOB, query={"wallet_id": "user:alice"})
    assert other.status == 404
    assert other.error_code == "not_found"


def test_new_person_has_an_empty_wallet(aws):
    reply = invoke("history_get_wallet.json", caller=BOB)
    assert reply.status == 200
    assert reply.body["balance"] == "0"


def test_admin_may_read_any_wallet(catalog, fund):
    fund("user:alice", "5")
    reply = invoke("history_get_wallet.json", caller=ADMIN, query={"wallet_id": "user:alice"})
    assert reply.status == 200
    assert reply.body["balance"] == "5"


def test_history_is_newest_first_with_signed_amounts(catalog, fund):
    fund("user:alice", "100")
    spend_n(3)
    reply = history()
    assert reply.status == 200
    data = reply.body["data"]
    assert [e["type"] for e in data] == ["usage", "usage", "usage", "adjustment"]
    assert [e["amount"] for e in data] == ["-3", "-3", "-3", "100"]
    assert data[0]["feature"] == "dashboard-refresh"
    assert data[-1]["reason"] == "test funding"
    assert all(e["balance_after"] is None for e in data)  # not stamped: no stream here
    times = [e["created_at"] for e in data]
    assert times == sorted(times, reverse=True)
    assert reply.body["next_cursor"] is None


def test_pages_with_an_opaque_cursor_cover_everything_once(catalog, fund):
    fund("user:alice", "100")
    spend_n(7)
    seen, cursor = [], None
    pages = 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        reply = history(query)
        assert reply.status == 200
        assert len(reply.body["data"]) <= 3
        seen += [e["transaction_id"] for e in reply.body["data"]]
        cursor = reply.body["next_cursor"]
        pages += 1
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8
    assert pages == 3


def test_a_cursor_from_one_wallet_is_refused_for_another(catalog, fund):
    fund("user:alice", "100")
    fund("user:bob", "100")
    spend_n(3)
    cursor = history({"limit": "1"}).body["next_cursor"]
    assert cursor
    reply = history({"limit": "1", "cursor": cursor}, caller=BOB)
    assert reply.status == 422
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert history({"limit": "1", "cursor": tampered}).status == 422
    # A cursor only fits the filters it was made with.
    assert history({"limit": "1", "cursor": cursor, "type": "usage"}).status == 422


def test_filter_by_type_and_time(catalog, fund):
    from tollgate import clock

    fund("user:alice", "100")
    spend_n(2)
    usage_only = history({"type": "usage"}).body["data"]
    assert [e["type"] for e in usage_only] == ["usage", "usage"]
    adjustments = history({"type": "adjustment"}).body["data"]
    assert len(adjustments) == 1
    boundary = clock.iso(clock.now_ms() + 1)
    advance_clock(10_000)  # for every function, not only the tests' clock
    spend_n(1, feature="ai-insight")
    recent = history({"since": boundary}).body["data"]
    assert [e["feature"] for e in recent] == ["ai-insight"]
    older = history({"until": boundary}).body["data"]
    assert len(older) == 3
    both = history({"type": "usage", "until": boundary}).body["data"]
    assert len(both) == 2


def test_a_filtered_page_stops_at_limit_and_its_cursor_continues(catalog, fund):
    fund("user:alice", "6")
    fund("user:alice", "1")
    spend_n(2, feature="dashboard-refresh")
    for _ in range(3):
        fund("user:alice", "1")
    first = history({"type": "adjustment", "limit": "2"})
    assert [e["type"] for e in first.body["data"]] == ["adjustment", "adjustment"]
    assert first.body["next_cursor"]
    seen = [e["transaction_id"] for e in first.body["data"]]
    cursor = first.body["next_cursor"]
    while cursor:
        page = history({"type": "adjustment", "limit": "2", "cursor": cursor})
        assert page.status == 200
        assert all(e["type"] == "adjustment" for e in page.body["data"])
        seen += [e["transaction_id"] for e in page.body["data"]]
        cursor = page.body["next_cursor"]
    assert len(seen) == len(set(seen)) == 5


def test_history_of_another_wallet_is_404(catalog, fund):
    fund("user:alice", "100")
    assert history({"wallet_id": "user:alice"}, caller=BOB).status == 404


def test_balance_after_appears_once_the_stream_stamps_it(catalog, fund, aws):
    """Feed the stream consumer the wallet's real before/after images, as DynamoDB Streams would."""
    def image():
        return aws.get_item(TableName="tollgate-test", Key={"PK": {"S": "WALLET#user:alice"}, "SK": {"S": "WALLET"}},
                            ConsistentRead=True)["Item"]

    fund("user:alice", "100")
    images = [image()]
    for i in range(3):
        invoke("deduction_post_usage.json", body={"feature": "dashboard-refresh"}, headers={"idempotency-key": f"b{i}"})
        images.append(image())
    records = [_stream_record("INSERT", None, images[0])]
    records += [_stream_record("MODIFY", old, new) for old, new in itertools.pairwise(images)]
    result = load_function("ledger_stream").lambda_handler({"Records": records}, LambdaContext())
    assert result == {"batchItemFailures": []}
    data = history().body["data"]
    assert [e["balance_after"] for e in data] == ["91", "94", "97", "100"]
    # Redelivery is harmless.
    load_function("ledger_stream").lambda_handler({"Records": records}, LambdaContext())
    assert [e["balance_after"] for e in history().body["data"]] == ["91", "94", "97", "100"]


def _stream_record(name, old, new):
    record = sample_event("ledger_stream_wallet_update.json")["Records"][0]
    record["eventName"] = name
    record["dynamodb"]["NewImage"] = new
    if old is None:
        record["dynamodb"].pop("OldImage")
    else:
        record["dynamodb"]["OldImage"] = old
    return record


def test_stream_sample_event_is_handled(aws):
    result = load_function("ledger_stream").lambda_handler(sample_event("ledger_stream_wallet_update.json"),
                                                           LambdaContext())
    # The sample names an entry that does not exist in an empty table: nothing to stamp, no failure.
    assert result == {"batchItemFailures": []}


def test_openapi_document_is_served(aws):
    reply = invoke("history_get_openapi.json")
    assert reply.status == 200
    paths = reply.body["paths"]
    for path in ("/v1/usage", "/v1/reservations", "/v1/reservations/{reservation_id}/settle", "/v1/wallet",
                 "/v1/history", "/v1/features", "/v1/admin/features/{feature_id}",
                 "/v1/admin/wallets/{wallet_id}/adjustments", "/v1/admin/api-keys"):
        assert path in paths, path


def test_health_needs_no_credentials(aws):
    reply = invoke("history_get_health.json", caller=None)
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    # Only that route is public: the same function's other routes still need a principal.
    assert invoke("history_get_wallet.json", caller=None).status == 401
