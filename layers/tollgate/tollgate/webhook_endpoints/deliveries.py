"""Deliveries: each event POSTed to each subscribed endpoint, signed, until it answers 2xx.

The delivery queue carries ``{"event_id", "endpoint_id", "event_type", "body"}`` messages
(``tollgate.events.outbox``, which records the event after queueing them); a re-send by hand carries
only the ids and reads the recorded event. An attempt first takes the delivery's lease (one
conditional update), so two copies of a message never POST at once and a delivery made is never
made again; then it POSTs the event's body, signed with the endpoint's secret at the attempt's
time (``tollgate.events.signing``), and records the attempt. A failed attempt is tried again after
``BACKOFF_SECONDS`` (the message comes back when its visibility timeout, set to that, runs out);
after ``GIVE_UP_AFTER_MS`` of failing the delivery is ``failed`` and the endpoint is disabled,
which the ``WebhookEndpointDisabled`` metric alarms on. A re-send by hand queues the message again,
whatever the delivery's status.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum

from tollgate import clock, cursors, keys
from tollgate.data import ConditionFailed, get_or_none
from tollgate.data.services import client
from tollgate.events.models import EventItem
from tollgate.events.signing import HEADER, sign
from tollgate.webhook_endpoints import repository, sender
from tollgate.webhook_endpoints.exceptions import WebhookEndpointDisabled, WebhookEndpointNotFound, WebhookEventNotFound
from tollgate.webhook_endpoints.models import WebhookDeliveryItem
from tollgate.webhook_endpoints.schemas import DeliveryAttemptOut, WebhookDeliveryList, WebhookDeliveryOut

BACKOFF_SECONDS = (60, 300, 1_800, 7_200, 18_000, 36_000, 43_200)  # then every 12 h (SQS's longest)
GIVE_UP_AFTER_MS = 3 * 86_400_000
LEASE_MS = 60_000  # longer than one attempt (a 10 s timeout) and the function's own timeout
ATTEMPTS_KEPT = 16  # every attempt of the 3-day schedule (12 or so), and a few re-sends
RETAIN_SECONDS = 30 * 86_400


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # the attempt failed; the next comes after the backoff
    FAILED = "failed"  # failing for 3 days: given up, the endpoint disabled
    DROPPED = "dropped"  # nothing to do (see the reason)
    BUSY = "busy"  # another copy of the message is attempting it now


@dataclass(frozen=True)
class Result:
    """What became of one message: ``retry_in`` seconds, or None when it is done with."""

    outcome: Outcome
    retry_in: int | None = None
    reason: str | None = None


def backoff(failures: int) -> int:
    """Seconds before the attempt after ``failures`` failed ones."""
    return BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1]


def deliver(event_id: str, endpoint_id: str, *, resend: bool = False, event_type: str | None = None,
            body: str | None = None) -> Result:
    """One attempt at a message; ``event_type`` and ``body`` as the outbox queued them (else the
    recorded event's)."""
    endpoint = repository.get(endpoint_id)
    if endpoint is None:
        return Result(Outcome.DROPPED, reason="endpoint_deleted")
    if endpoint.status != "enabled":
        repository.abandon_delivery(endpoint_id, event_id)  # its retries end with the endpoint
        return Result(Outcome.DROPPED, reason="endpoint_disabled")
    if event_type is None or body is None:
        event = get_or_none(EventItem, *keys.event(event_id))
        if event is None:
            return Result(Outcome.DROPPED, reason="event_expired")
        event_type, body = event.event_type, event.body
    now_ms = clock.now_ms()
    try:
        item = repository.claim_delivery(endpoint_id, event_id, event_type, now_ms=now_ms, lease_ms=LEASE_MS,
                                         retain_seconds=RETAIN_SECONDS, resend=resend)
    except ConditionFailed:
        current = repository.get_delivery(endpoint_id, event_id)
        if current is not None and current.status == "pending":
            return Result(Outcome.BUSY, retry_in=LEASE_MS // 1000)  # another copy's attempt is under way
        return Result(Outcome.DROPPED, reason="already_" + (current.status if current else "gone"))
    lease = now_ms + LEASE_MS
    payload = body.encode()
    outcome = sender.post(endpoint.url, payload, {
        HEADER: sign(endpoint.secret, now_ms // 1000, payload), "Tollgate-Event-Id": event_id,
        "Tollgate-Event-Type": event_type})
    at_ms = clock.now_ms()
    attempt = {"at": clock.iso(at_ms), "status_code": outcome.status_code, "error": outcome.error,
               "duration_ms": outcome.ms, "response": outcome.response}
    first = item.first_attempt_at_ms or now_ms
    failures = (item.attempt_count or 0) + 1
    if outcome.ok:
        status, retry_in, result = "delivered", None, Outcome.DELIVERED
    elif at_ms - first >= GIVE_UP_AFTER_MS:
        status, retry_in, result = "failed", None, Outcome.FAILED
    else:
        status, retry_in, result = "pending", backoff(failures), Outcome.RETRYING
    try:
        repository.finish_attempt(item, lease_until_ms=lease, status=status, attempt=attempt, kept=ATTEMPTS_KEPT,
                                  first_attempt_at_ms=first, delivered_at=attempt["at"] if outcome.ok else None,
                                  next_attempt_at=clock.iso(at_ms + retry_in * 1000) if retry_in else None)
    except ConditionFailed:
        pass  # the lease ran out mid-attempt and another copy took it: that copy records its own
    if status == "failed":
        repository.disable(endpoint_id, f"deliveries failed for {GIVE_UP_AFTER_MS // 86_400_000} days "
                                        f"(last: {outcome.error})", clock.iso(at_ms))
    return Result(result, retry_in, outcome.error)


def resend(endpoint_id: str, event_id: str) -> WebhookDeliveryOut:
    """Queue the event for the endpoint again (a delivery made already is made once more)."""
    endpoint = repository.get(endpoint_id)
    if endpoint is None:
        raise WebhookEndpointNotFound("webhook endpoint not found")
    if endpoint.status != "enabled":
        raise WebhookEndpointDisabled(f"the endpoint is disabled ({endpoint.disabled_reason}); nothing is sent to it")
    event = get_or_none(EventItem, *keys.event(event_id))
    if event is None:
        raise WebhookEventNotFound("no such event (events are kept 30 days)")
    client("sqs").send_message(QueueUrl=os.environ["WEBHOOK_DELIVERY_QUEUE_URL"], MessageBody=json.dumps(
        {"event_id": event_id, "endpoint_id": endpoint_id, "resend": True}, separators=(",", ":")))
    current = repository.get_delivery(endpoint_id, event_id)
    return view(current) if current is not None else WebhookDeliveryOut(
        event_id=event_id, event_type=event.event_type, status="pending", created_at=clock.iso(clock.now_ms()),
        attempt_count=0, attempts=[])


def view(item: WebhookDeliveryItem) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        event_id=item.event_id, event_type=item.event_type, status=item.status,  # type: ignore[arg-type]
        created_at=item.created_at, attempt_count=item.attempt_count or 0,
        attempts=[DeliveryAttemptOut(**a) for a in reversed(item.attempts or [])],
        next_attempt_at=item.next_attempt_at, delivered_at=item.delivered_at)


def list_deliveries(endpoint_id: str, *, limit: int, cursor: str | None) -> WebhookDeliveryList:
    if repository.get(endpoint_id) is None:
        raise WebhookEndpointNotFound("webhook endpoint not found")
    pk = keys.webhook_endpoint(endpoint_id)[0]
    scope = cursors.scope("webhook-deliveries", endpoint_id)
    start = (cursors.decode(cursor, scope, ("PK", "SK", "LSI1SK"), lambda k: k["PK"] == pk)
             if cursor is not None else None)
    items, last = repository.deliveries_page(endpoint_id, limit=limit, start=start)
    return WebhookDeliveryList(data=[view(i) for i in items], next_cursor=cursors.encode(last, scope) if last else None)
