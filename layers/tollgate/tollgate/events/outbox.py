"""The outbox: each event recorded once, then put on the event bus and queued for every webhook
endpoint subscribed to it.

:func:`publish` records each event (``EVENT#<id>``, a put conditioned on its absence), sends the
events not yet dispatched to EventBridge and one message per (event, subscribed endpoint) to the
delivery queue, then marks them dispatched. A failure anywhere raises, so the stream batch is
delivered again: the events already recorded keep their first body, and those dispatched are not
sent again. What was sent before the failure may be sent twice (at least once, with the same
id); a delivery already made is not repeated (``tollgate.webhook_deliveries``).

``EVENT_BUS_NAME`` and ``WEBHOOK_DELIVERY_QUEUE_URL`` come from the template; where one is not
set (tests of other domains) that half is skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from tollgate import clock, keys
from tollgate.data import ConditionFailed, conditional, get_or_none
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


def _record(event: Event, now_ms: int) -> EventItem:
    """The event as recorded: new, or as first recorded (a redelivered record's event)."""
    item = EventItem(*keys.event(event.id), event_id=event.id, event_type=event.type.value, wallet_id=event.wallet_id,
                     created_at=event.created_at, body=_serialised(event), ttl_epoch=now_ms // 1000 + RETAIN_SECONDS)
    try:
        conditional(lambda: item.save(condition=EventItem.pk.does_not_exist()))
        return item
    except ConditionFailed:
        stored = get_or_none(EventItem, *keys.event(event.id))
        return stored if stored is not None else item


def publish(events: Iterable[Event]) -> int:
    """Record, send and mark ``events``; how many were sent now (not sent before)."""
    now_ms = clock.now_ms()
    unique = {e.id: e for e in events}
    pending = [item for item in (_record(e, now_ms) for e in unique.values()) if item.dispatched_at is None]
    if not pending:
        return 0
    _to_bus(pending)
    _to_endpoints(pending)
    at = clock.iso(clock.now_ms())
    for item in pending:
        try:  # an event that expired meanwhile (TTL) is not written back as a fragment
            conditional(lambda item=item: item.update([EventItem.dispatched_at.set(at)],  # type: ignore[misc]
                                                      condition=EventItem.pk.exists()))
        except ConditionFailed:
            pass
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
    queue = os.environ.get("WEBHOOK_DELIVERY_QUEUE_URL")
    if not queue:
        return
    subscribed = [e for e in endpoints.list_all() if e.status == "enabled"]
    send_messages(queue, [{"event_id": item.event_id, "endpoint_id": endpoint.endpoint_id}
                          for item in items for endpoint in subscribed
                          if "*" in endpoint.events or item.event_type in endpoint.events])
