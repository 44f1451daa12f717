"""The outbox: each event sent once to the event bus and to every webhook endpoint subscribed to
it, then recorded.

:func:`publish` reads which of the events are recorded already (one consistent ``BatchGetItem``
per 100), puts the rest on EventBridge (10 to a request) and queues one message per (event,
subscribed endpoint) carrying the event's body (10 to a request), then records them (``EVENT#<id>``,
one ``BatchWriteItem`` per 25, 30-day TTL). An event is recorded only once it has been sent, so a
recorded event is never sent again: a redelivered stream batch, or the next hourly run announcing
the same expiring grant, sends nothing new. A failure anywhere raises and nothing of that call is
recorded, so the batch is delivered again and its events are sent again with the same ids: at
least once, which is EventBridge's own promise; a webhook delivery already made is not made again
(``tollgate.webhook_endpoints.deliveries`` leases each delivery).

Per new event that is one strongly consistent read (1 RRU) and one write (1 WRU), and about one
request per 20 events, instead of a conditional put and an update each.

``EVENT_BUS_NAME`` and ``WEBHOOK_DELIVERY_QUEUE_URL`` come from the template; where one is not
set (tests of other domains) that half is skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from tollgate import clock, keys
from tollgate.data.services import client, send_messages
from tollgate.events.derive import Event
from tollgate.events.models import EventItem
from tollgate.webhook_endpoints import repository as endpoints

RETAIN_SECONDS = 30 * 86_400
SOURCE = "tollgate"
_CHUNK = 10  # PutEvents takes at most 10 entries


class PublishFailed(Exception):
    """The bus refused some entries (the queue's refusal is ``QueueRefused``): the batch is delivered again."""


def _serialised(event: Event) -> str:
    return json.dumps(event.body(), separators=(",", ":"), sort_keys=True)


def recorded(event_ids: Iterable[str]) -> set[str]:
    """Which of these events are recorded (sent) already."""
    found = EventItem.batch_get([keys.event(i) for i in event_ids], consistent_read=True,
                                attributes_to_get=["PK", "SK", "event_id"])
    return {item.event_id for item in found}


def publish(events: Iterable[Event]) -> int:
    """Send the events not sent before, then record them; how many were sent now."""
    unique = {e.id: e for e in events}
    if not unique:
        return 0
    done = recorded(unique)
    now_ms = clock.now_ms()
    pending = [EventItem(*keys.event(e.id), event_id=e.id, event_type=e.type.value, wallet_id=e.wallet_id,
                         created_at=e.created_at, body=_serialised(e), ttl_epoch=now_ms // 1000 + RETAIN_SECONDS)
               for e in unique.values() if e.id not in done]
    if not pending:
        return 0
    _to_bus(pending)
    _to_endpoints(pending)
    at = clock.iso(clock.now_ms())
    with EventItem.batch_write() as batch:  # unprocessed items are retried; what still fails raises
        for item in pending:
            item.dispatched_at = at
            batch.save(item)
    return len(pending)


def _to_bus(items: list[EventItem]) -> None:
    bus = os.environ.get("EVENT_BUS_NAME")
    if not bus:
        return
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        answer = client("events").put_events(Entries=[
            {"Source": SOURCE, "DetailType": item.event_type, "Detail": item.body, "EventBusName": bus,
             "Resources": []} for item in chunk])
        if answer.get("FailedEntryCount"):
            raise PublishFailed(f"EventBridge refused {answer['FailedEntryCount']} of {len(chunk)} events")


def _to_endpoints(items: list[EventItem]) -> None:
    """One message per (event, subscribed endpoint), with the body: the event is recorded after."""
    queue = os.environ.get("WEBHOOK_DELIVERY_QUEUE_URL")
    if not queue:
        return
    subscribed = [e for e in endpoints.list_all() if e.status == "enabled"]
    send_messages(queue, [{"event_id": item.event_id, "endpoint_id": endpoint.endpoint_id,
                           "event_type": item.event_type, "body": item.body}
                          for item in items for endpoint in subscribed
                          if "*" in endpoint.events or item.event_type in endpoint.events])
