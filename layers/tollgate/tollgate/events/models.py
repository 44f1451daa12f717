"""An event as the outbox keeps it: ``EVENT#<id>`` / ``EVENT``, expiring 30 days on (TTL)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from tollgate.data import IntegerAttribute, TableItem


class EventItem(TableItem, discriminator="event"):
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    wallet_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    body = UnicodeAttribute()  # the JSON every receiver gets, byte for byte (it is what is signed)
    dispatched_at = UnicodeAttribute(null=True)  # sent to the bus and the delivery queue
    ttl_epoch = IntegerAttribute()
