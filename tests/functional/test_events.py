"""Events and their webhook deliveries (issue 15), through the real handlers against moto.

The ledger stream's records (as its FilterCriteria pass them) go to functions/ledger_stream, which
records each event once in the outbox, puts it on the event bus and queues a delivery per
subscribed endpoint; functions/webhook_delivery consumes the queue as Lambda would, POSTing to a
real HTTP receiver on 127.0.0.1. Time between attempts is the clock moved and the message made
visible again, never a sleep.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from tollgate_sdk import WebhookSignatureError, verify_webhook

from tests import streams
from tests.functional.fake_gateway import FakeGateway
from tests.functional.test_analytics import buy, webhook
from tests.support import (
    ADMIN,
    ALICE,
    LambdaContext,
    advance_clock,
    assert_ledger_invariant,
    invoke,
    load_function,
    sample_event,
    set_gateway,
)
from tollgate import clock
from tollgate.gateways import Refund

DAY_MS = 86_400_000
REGION = "us-east-1"


# -- the outbox's AWS side: a queue, a bus (and a rule copying the bus to a queue we can read) ------


@pytest.fixture
def outbox(aws, monkeypatch):
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    dead = sqs.create_queue(QueueName="deliveries-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="deliveries", Attributes={
        "VisibilityTimeout": "720", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn,
                                                                  "maxReceiveCount": "50"})})["QueueUrl"]
    events.create_event_bus(Name="tollgate-events")
    tap = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything", EventBusName="tollgate-events", EventPattern=json.dumps({"source": ["tollgate"]}))
    events.put_targets(Rule="everything", EventBusName="tollgate-events", Targets=[{"Id": "tap", "Arn": tap_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", "tollgate-events")
    monkeypatch.setenv("WEBHOOK_DELIVERY_QUEUE_URL", queue)
    monkeypatch.setenv("WEBHOOK_URL_POLICY", "allow-loopback-http")  # the receiver is on 127.0.0.1
    return {"sqs": sqs, "queue": queue, "tap": tap}


def drain(sqs, url: str) -> list[dict]:
    out = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for n, m in enumerate(batch)])
    return out


class Deliveries:
    """The delivery queue, consumed as Lambda's SQS event source does."""

    def __init__(self, outbox) -> None:
        self.sqs, self.url = outbox["sqs"], outbox["queue"]
        self.hidden: list[str] = []  # receipt handles of messages waiting out their backoff

    def run(self) -> dict[str, int]:
        """Receive what is visible, hand it to the function, delete what it did not report failed."""
        from tollgate_local.queues import lambda_event

        handled = Counter()
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            result = load_function("webhook_delivery").lambda_handler(lambda_event(messages, "arn:queue"),
                                                                     LambdaContext())
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
            self.hidden += [m["ReceiptHandle"] for m in messages if m["MessageId"] in failed]
            handled.update(done=len(done), retrying=len(failed))
        return {k: v for k, v in handled.items() if v}

    def later(self, ms: int) -> None:
        """Time passes: the clock moves and the messages waiting out their backoff are visible again."""
        advance_clock(ms)
        for handle in self.hidden:
            self.sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=handle, VisibilityTimeout=0)
        self.hidden.clear()


class Receiver:
    """A webhook receiver on 127.0.0.1: answers the scripted statuses in turn (then 200), keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.got = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else b"nope")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


def endpoint(url: str, events: list[str]) -> dict:
    reply = invoke("notifications_post_webhook_endpoint.json", caller=ADMIN, body={"url": url, "events": events})
    assert reply.status == 201, reply
    return reply.body


def deliveries_of(endpoint_id: str) -> list[dict]:
    reply = invoke("notifications_list_webhook_deliveries.json", caller=ADMIN, query={},
                   path=f"/v1/admin/webhook-endpoints/{endpoint_id}/deliveries",
                   path_params={"endpoint_id": endpoint_id})
    assert reply.status == 200, reply
    return reply.body["data"]


def resend(endpoint_id: str, event_id: str):
    return invoke("notifications_resend_webhook_delivery.json", caller=ADMIN,
                  path=f"/v1/admin/webhook-endpoints/{endpoint_id}/deliveries/{event_id}/resend",
                  path_params={"endpoint_id": endpoint_id, "event_id": event_id})


def recorded_events() -> list[dict]:
    from tollgate.data import from_attr

    items, kwargs = [], {"TableName": "tollgate-test"}
    client = boto3.client("dynamodb", region_name=REGION)
    while True:
        page = client.scan(**kwargs)
        items += [{k: from_attr(v) for k, v in i.items()} for i in page["Items"] if i["entity"]["S"] == "event"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_feature(feature_id: str, credits: str) -> None:
    reply = invoke("admin_put_feature.json", caller=ADMIN, path=f"/v1/admin/features/{feature_id}",
                   path_params={"feature_id": feature_id},
                   body={"name": feature_id, "pricing": {"type": "per_call", "credits": credits}})
    assert reply.status == 200, reply


def spend(key: str, feature: str = "ten") -> None:
    reply = invoke("deduction_post_usage.json", caller=ALICE, body={"feature": feature},
                   headers={"idempotency-key": key})
    assert reply.status == 201, reply


def set_low_balance(amount: str) -> None:
    assert invoke("notifications_put_wallet_alerts.json", caller=ALICE, body={"low_balance": amount}).status == 200


@pytest.fixture
def shop(aws):
    fakes = {"stripe": FakeGateway("stripe")}
    set_gateway("stripe", fakes["stripe"])
    assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 USD cents
    put_feature("ten", "10")
    yield fakes
    set_gateway("stripe", None)


# -- events ----------------------------------------------------------------------------------------


def test_a_mixed_workload_yields_each_event_once_whatever_the_redelivery(outbox, shop):
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    batches = []

    def delivered() -> None:
        batches.append(stream.pending())
        assert streams.deliver("ledger_stream", batches[-1]) == {"batchItemFailures": []}

    set_low_balance("50")
    paid = buy(shop, ALICE, "stripe", "USD", "a-1")  # purchase.paid, credits.granted (100)
    for n in range(10):  # 90, 80, ... 40 crosses 50 (credits.low), ... 0 (credits.depleted)
        spend(f"s-{n}")
    delivered()
    grant = invoke("admin_post_grant.json", caller=ADMIN, headers={"idempotency-key": "g-1"},
                   path=f"/v1/admin/wallets/{ALICE.wallet_id}/grants", path_params={"wallet_id": ALICE.wallet_id},
                   body={"amount": "30", "reason": "promo"})
    assert grant.status == 201, grant
    held = invoke("deduction_post_reservation.json", caller=ALICE, headers={"idempotency-key": "h-1"},
                  body={"feature": "ten", "max_credits": "5", "ttl_seconds": 2})
    assert held.status == 201, held
    advance_clock(2_500)
    assert load_function("holds").lambda_handler(sample_event("holds_schedule.json"), LambdaContext())["expired"] == 1
    refund = webhook("stripe", event_id="r-1", kind="refund", purchase_id=None, reference=paid["reference"],
                     refunds=[Refund("re_1", 250)])
    assert refund.body["outcome"] == "clawed_back", refund
    started = invoke("checkout_post_checkout.json", caller=ALICE, headers={"idempotency-key": "a-2"},
                     body={"package_id": "starter", "gateway": "stripe", "currency": "USD"}).body
    failed = webhook("stripe", event_id="f-1", kind="payment_failed", purchase_id=started["purchase_id"],
                     reference=started["reference"], amount=started["amount"], currency=started["currency"])
    assert failed.body["outcome"] == "marked_failed", failed
    delivered()

    first = recorded_events()
    kinds = Counter(e["event_type"] for e in first)
    assert kinds == {"purchase.paid": 1, "credits.granted": 2, "credits.low": 1, "credits.depleted": 1,
                     "reservation.expired": 1, "purchase.refunded": 1, "purchase.failed": 1}, kinds
    granted = sorted(json.loads(e["body"])["data"]["source"] for e in first if e["event_type"] == "credits.granted")
    assert granted == ["grant", "purchase"]
    low = next(json.loads(e["body"]) for e in first if e["event_type"] == "credits.low")
    assert (low["wallet_id"], low["data"]["available"], low["data"]["threshold"]) == (ALICE.wallet_id, "40", "50")
    assert set(json.loads(first[0]["body"])) == {"id", "type", "created_at", "wallet_id", "data"}
    assert all(e["dispatched_at"] for e in first)
    on_bus = drain(outbox["sqs"], outbox["tap"])
    assert sorted(json.loads(m["Body"])["detail"]["id"] for m in on_bus) == sorted(e["event_id"] for e in first)

    # The same batches again, then all of them as one: nothing new recorded or sent.
    for batch in batches:
        assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert streams.deliver("ledger_stream", [r for b in batches for r in b]) == {"batchItemFailures": []}
    assert sorted((e["event_id"], e["body"]) for e in recorded_events()) == sorted(
        (e["event_id"], e["body"]) for e in first)
    assert drain(outbox["sqs"], outbox["tap"]) == []
    assert_ledger_invariant(ALICE.wallet_id)


def test_an_event_the_outbox_could_not_send_is_sent_on_redelivery_once(outbox, shop, monkeypatch):
    from tollgate.events import outbox as host_outbox

    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    set_low_balance("50")
    buy(shop, ALICE, "stripe", "USD", "a-1")
    batch = stream.pending()
    namespace_outbox = load_function("ledger_stream").outbox
    assert namespace_outbox is not host_outbox  # the function's own copy of the layer

    def refused(items):
        raise namespace_outbox.PublishFailed("EventBridge is down")

    monkeypatch.setattr(namespace_outbox, "_to_bus", refused)
    with pytest.raises(namespace_outbox.PublishFailed):
        streams.deliver("ledger_stream", batch)
    assert recorded_events() == []  # an event is recorded once sent
    assert drain(outbox["sqs"], outbox["tap"]) == []
    monkeypatch.undo()
    outbox_env(monkeypatch, outbox)

    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}  # Lambda's retry
    assert len(drain(outbox["sqs"], outbox["tap"])) == 2
    assert {e["event_type"] for e in recorded_events()} == {"purchase.paid", "credits.granted"}
    assert all(e["dispatched_at"] for e in recorded_events())
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert drain(outbox["sqs"], outbox["tap"]) == []


def test_an_event_sent_before_a_failure_is_sent_again_and_delivered_once(outbox, shop, receiver, monkeypatch):
    """The bus and the queue took the events but the queue's answer was lost: nothing is recorded, so
    Lambda's retry sends them again (at least once, the same ids) and the endpoint, given the event
    twice, is POSTed it once."""
    from tollgate.data.services import QueueRefused

    hook = receiver()
    created = endpoint(hook.url, ["credits.granted"])
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    buy(shop, ALICE, "stripe", "USD", "a-1")
    batch = stream.pending()
    namespace_outbox = load_function("ledger_stream").outbox
    sent = namespace_outbox.send_messages

    def answer_lost(queue, bodies):
        sent(queue, bodies)
        raise QueueRefused("the answer was lost")

    monkeypatch.setattr(namespace_outbox, "send_messages", answer_lost)
    with pytest.raises(QueueRefused):
        streams.deliver("ledger_stream", batch)
    assert len(drain(outbox["sqs"], outbox["tap"])) == 2
    assert recorded_events() == []
    monkeypatch.undo()
    outbox_env(monkeypatch, outbox)

    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}
    assert len(drain(outbox["sqs"], outbox["tap"])) == 2  # again, with the same ids
    assert streams.deliver("ledger_stream", batch) == {"batchItemFailures": []}  # recorded: nothing more
    assert drain(outbox["sqs"], outbox["tap"]) == []
    assert Deliveries(outbox).run() == {"done": 2}  # two messages, one POST
    (got,) = hook.got
    assert json.loads(got[1])["type"] == "credits.granted"
    (delivery,) = deliveries_of(created["endpoint_id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("delivered", 1)


def test_each_grant_expiring_within_7_days_is_announced_once(outbox, shop):
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    for key, days in (("soon", 9), ("later", 30)):
        reply = invoke("admin_post_grant.json", caller=ADMIN, headers={"idempotency-key": key},
                       path=f"/v1/admin/wallets/{ALICE.wallet_id}/grants", path_params={"wallet_id": ALICE.wallet_id},
                       body={"amount": "30", "reason": key,
                             "expires_at": clock.iso(clock.now_ms() + days * DAY_MS)})
        assert reply.status == 201, reply
    assert stream.drain() == {"batchItemFailures": []}  # the grant book
    drain(outbox["sqs"], outbox["tap"])

    def run() -> int:
        return load_function("grant_expiry").lambda_handler(sample_event("grant_expiry_schedule.json"),
                                                            LambdaContext())["announced"]

    assert run() == 0  # 9 days away: not yet
    advance_clock(3 * DAY_MS)
    assert run() == 1  # 6 days away
    assert run() == 0  # hourly runs: announced once
    advance_clock(DAY_MS)
    assert run() == 0
    (event,) = [json.loads(m["Body"])["detail"] for m in drain(outbox["sqs"], outbox["tap"])]
    assert (event["type"], event["wallet_id"], event["data"]["remaining"], event["data"]["source"]) == (
        "credits.expiring", ALICE.wallet_id, "30", "admin")
    advance_clock(20 * DAY_MS)  # the first has expired (not announced again), the second is 2 days away
    assert run() == 1
    (later,) = [json.loads(m["Body"])["detail"] for m in drain(outbox["sqs"], outbox["tap"])]
    assert later["type"] == "credits.expiring" and later["data"]["grant_id"] != event["data"]["grant_id"]


def outbox_env(monkeypatch, outbox) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "tollgate-events")
    monkeypatch.setenv("WEBHOOK_DELIVERY_QUEUE_URL", outbox["queue"])
    monkeypatch.setenv("WEBHOOK_URL_POLICY", "allow-loopback-http")


# -- deliveries ------------------------------------------------------------------------------------


def low_balance_event(shop) -> None:
    """Alice buys 100 credits with a threshold of 50, then spends 60: one credits.low; the stream delivered."""
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    set_low_balance("50")
    buy(shop, ALICE, "stripe", "USD", "a-1")
    for n in range(6):
        spend(f"s-{n}")
    assert stream.drain() == {"batchItemFailures": []}


def test_a_receiver_failing_3_times_gets_the_event_once_delivered_with_a_valid_signature(outbox, shop, receiver):
    hook = receiver([500, 503, 500])
    created = endpoint(hook.url, ["credits.low"])
    low_balance_event(shop)
    queue = Deliveries(outbox)

    for attempt, backoff_ms in enumerate((60_000, 300_000, 1_800_000), start=1):
        assert queue.run() == {"retrying": 1}
        assert len(hook.got) == attempt
        assert queue.run() == {}  # waiting out its backoff: not visible yet
        (delivery,) = deliveries_of(created["endpoint_id"])
        assert (delivery["status"], delivery["attempt_count"]) == ("pending", attempt)
        queue.later(backoff_ms)
    assert queue.run() == {"done": 1}

    bodies = {body for _, body in hook.got}
    assert len(bodies) == 1  # the same event, byte for byte, on every attempt
    headers, body = hook.got[-1]
    now = clock.now_ms() // 1000  # the layer's clock, moved through the backoffs
    event = verify_webhook(body, headers["Tollgate-Signature"], created["secret"], now=now)
    assert (event["type"], event["wallet_id"], headers["Tollgate-Event-Id"]) == ("credits.low", ALICE.wallet_id,
                                                                              event["id"])
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body.replace(b"credits.low", b"credits.lol"), headers["Tollgate-Signature"], created["secret"],
                       now=now)
    (delivery,) = deliveries_of(created["endpoint_id"])
    assert (delivery["status"], delivery["attempt_count"], delivery["event_id"]) == ("delivered", 4, event["id"])
    assert [a["status_code"] for a in delivery["attempts"]] == [200, 500, 503, 500]  # newest first

    # A second copy of the message (SQS is at least once) does not deliver it again.
    outbox["sqs"].send_message(QueueUrl=outbox["queue"],
                               MessageBody=json.dumps({"event_id": event["id"], "endpoint_id": created["endpoint_id"]}))
    assert queue.run() == {"done": 1}
    assert len(hook.got) == 4

    # Re-sent by hand: delivered once more, signed afresh.
    again = resend(created["endpoint_id"], event["id"])
    assert again.status == 202, again
    assert queue.run() == {"done": 1}
    assert len(hook.got) == 5
    headers, body = hook.got[-1]
    assert verify_webhook(body, headers["Tollgate-Signature"], created["secret"], now=now)["id"] == event["id"]


def test_an_endpoint_failing_for_3_days_is_disabled_and_then_receives_nothing(outbox, shop, receiver):
    hook = receiver([500] * 100)
    created = endpoint(hook.url, ["*"])
    low_balance_event(shop)
    queue = Deliveries(outbox)
    from tollgate.webhook_endpoints.deliveries import BACKOFF_SECONDS

    attempts = 0
    while True:
        outcome = queue.run()
        if outcome.get("done"):
            break
        assert outcome == {"retrying": 3}  # purchase.paid, credits.granted, credits.low
        queue.later(BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)] * 1000)  # as the backoff says
        attempts += 1
    # 60 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 12 h up to 3 days: 11 or 12 attempts each.
    assert 11 <= attempts <= 12, attempts
    shown = invoke("notifications_get_webhook_endpoint.json", caller=ADMIN,
                   path=f"/v1/admin/webhook-endpoints/{created['endpoint_id']}",
                   path_params={"endpoint_id": created["endpoint_id"]}).body
    assert shown["status"] == "disabled" and "3 days" in shown["disabled_reason"]
    assert {d["status"] for d in deliveries_of(created["endpoint_id"])} == {"failed"}
    got = len(hook.got)
    # Every attempt of the 3 days is shown with its answer, none dropped.
    shown_attempts = [len(d["attempts"]) for d in deliveries_of(created["endpoint_id"])]
    assert sum(shown_attempts) == got and min(shown_attempts) >= 11, (shown_attempts, got)
    assert all(a["status_code"] == 500 for d in deliveries_of(created["endpoint_id"]) for a in d["attempts"])

    # Nothing more is queued for it, and a re-send is refused.
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    stream.delivered = len(stream.records())
    buy(shop, ALICE, "stripe", "USD", "a-2")
    assert stream.drain() == {"batchItemFailures": []}
    assert queue.run() == {}
    assert len(hook.got) == got
    refused = resend(created["endpoint_id"], deliveries_of(created["endpoint_id"])[0]["event_id"])
    assert (refused.status, refused.error_code) == (409, "webhook_endpoint_disabled"), refused


def patch_endpoint(endpoint_id: str, body: dict, caller=ADMIN):
    return invoke("notifications_patch_webhook_endpoint.json", caller=caller, body=body,
                  path=f"/v1/admin/webhook-endpoints/{endpoint_id}", path_params={"endpoint_id": endpoint_id})


def test_a_disabled_endpoint_turned_back_on_receives_again_and_the_change_is_audited(outbox, shop, receiver):
    hook = receiver()
    created = endpoint(hook.url, ["purchase.paid"])
    off = patch_endpoint(created["endpoint_id"], {"enabled": False})
    assert (off.status, off.body["status"], off.body["disabled_reason"]) == (
        200, "disabled", "turned off by user:root"), off
    low_balance_event(shop)  # purchase.paid, and more: nothing for a disabled endpoint
    queue = Deliveries(outbox)
    assert queue.run() == {}
    assert hook.got == []

    on = patch_endpoint(created["endpoint_id"], {"enabled": True, "events": ["credits.low", "purchase.paid"],
                                                 "description": "back"})
    assert on.status == 200, on
    assert (on.body["status"], on.body["disabled_reason"], on.body["events"], on.body["description"]) == (
        "enabled", None, ["credits.low", "purchase.paid"], "back")
    assert "secret" not in on.body
    stream = streams.LedgerStream(boto3.client("dynamodb", region_name=REGION))
    stream.delivered = len(stream.records())
    buy(shop, ALICE, "stripe", "USD", "a-2")
    assert stream.drain() == {"batchItemFailures": []}
    assert queue.run() == {"done": 1}
    assert [json.loads(b)["type"] for _, b in hook.got] == ["purchase.paid"]

    trail = invoke("admin_get_audit.json", caller=ADMIN, query={"target": f"webhook_endpoint:{created['endpoint_id']}"})
    assert trail.status == 200, trail
    actions = [r["action"] for r in trail.body["data"]]
    assert actions.count("webhook_endpoint.update") == 2, actions


@pytest.mark.parametrize("body", [{}, {"enabled": None}, {"url": "http://example.com/hook"}, {"events": ["nope"]},
                                  {"events": ["credits.low", "credits.low"]}, {"enabled": "yes"}, {"secret": "x"}])
def test_a_bad_change_to_an_endpoint_is_refused_and_changes_nothing(outbox, body):
    created = endpoint("https://hooks.example.com/a", ["credits.low"])
    before = invoke("notifications_get_webhook_endpoint.json", caller=ADMIN,
                    path=f"/v1/admin/webhook-endpoints/{created['endpoint_id']}",
                    path_params={"endpoint_id": created["endpoint_id"]}).body
    reply = patch_endpoint(created["endpoint_id"], body)
    assert reply.status == 422, reply
    assert reply.error_code in ("validation_error", "webhook_url_refused"), reply
    after = invoke("notifications_get_webhook_endpoint.json", caller=ADMIN,
                   path=f"/v1/admin/webhook-endpoints/{created['endpoint_id']}",
                   path_params={"endpoint_id": created["endpoint_id"]}).body
    assert after == before
    missing = patch_endpoint("we_nope", {"enabled": True})
    assert (missing.status, missing.error_code) == (404, "not_found"), missing
    assert patch_endpoint(created["endpoint_id"], {"enabled": True}, caller=ALICE).status == 403


def test_only_subscribed_live_endpoints_get_an_event(outbox, shop, receiver):
    wanted, other, gone = receiver(), receiver(), receiver()
    endpoint(wanted.url, ["credits.low"])
    endpoint(other.url, ["payout.paid"])
    deleted = endpoint(gone.url, ["*"])
    assert invoke("notifications_delete_webhook_endpoint.json", caller=ADMIN,
                  path=f"/v1/admin/webhook-endpoints/{deleted['endpoint_id']}",
                  path_params={"endpoint_id": deleted["endpoint_id"]}).status == 204
    low_balance_event(shop)
    assert Deliveries(outbox).run() == {"done": 1}
    assert [json.loads(b)["type"] for _, b in wanted.got] == ["credits.low"]
    assert other.got == [] and gone.got == []


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(outbox, shop, receiver):
    target = receiver()
    hook = receiver([302])
    created = endpoint(hook.url, ["credits.low"])
    low_balance_event(shop)
    assert Deliveries(outbox).run() == {"retrying": 1}
    (delivery,) = deliveries_of(created["endpoint_id"])
    assert delivery["attempts"][0]["status_code"] == 302
    assert "redirect" in delivery["attempts"][0]["error"]
    assert target.got == []


def test_resending_unknown_things_is_404_and_queues_nothing(outbox, receiver):
    created = endpoint(receiver().url, ["*"])
    assert resend("we_nope", "evt_nope").status == 404
    assert resend(created["endpoint_id"], "evt_nope").status == 404
    assert outbox["sqs"].receive_message(QueueUrl=outbox["queue"]).get("Messages", []) == []
    listed = invoke("notifications_list_webhook_deliveries.json", caller=ADMIN, query={},
                    path="/v1/admin/webhook-endpoints/we_nope/deliveries", path_params={"endpoint_id": "we_nope"})
    assert listed.status == 404


def test_the_local_policy_takes_a_public_url_but_never_looks_it_up_nor_calls_it(outbox, shop, monkeypatch):
    """make dev and the tests (policy local): an https URL of another host registers as in AWS, and its
    deliveries fail without a DNS query or a connection: nothing leaves the machine."""
    import socket

    monkeypatch.setenv("WEBHOOK_URL_POLICY", "local")
    created = endpoint("https://hooks.example.com/tollgate", ["credits.low"])
    low_balance_event(shop)
    reached: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: reached.append(a))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: reached.append(a))
    assert Deliveries(outbox).run() == {"retrying": 1}
    assert reached == []
    (delivery,) = deliveries_of(created["endpoint_id"])
    attempt = delivery["attempts"][0]
    assert attempt["status_code"] is None and "only to 127.0.0.1" in attempt["error"], attempt


def test_a_host_resolving_to_a_private_address_is_not_reached(outbox, shop, monkeypatch):
    """Registered by name (public-looking), resolved at delivery to the metadata service: refused, no
    connection made; the attempt says why."""
    import socket

    monkeypatch.setenv("WEBHOOK_URL_POLICY", "https-only")
    created = endpoint("https://hooks.example.com/tollgate", ["credits.low"])
    low_balance_event(shop)
    connections = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **_: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))])
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a))
    assert Deliveries(outbox).run() == {"retrying": 1}
    assert connections == []
    (delivery,) = deliveries_of(created["endpoint_id"])
    attempt = delivery["attempts"][0]
    assert attempt["status_code"] is None and "169.254.169.254" in attempt["error"], attempt
