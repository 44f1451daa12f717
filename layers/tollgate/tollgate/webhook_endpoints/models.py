"""A webhook endpoint (``WHEP#<endpoint_id>`` / ``WHEP``, listed newest first in GSI1, ``WEBHOOK_ENDPOINTS``)
and its deliveries (in its partition)."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from tollgate.data import GSI1, LSI1, ExactMapAttribute, IntegerAttribute, TableItem


class WebhookEndpointItem(TableItem, discriminator="webhook_endpoint"):
    listing = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    endpoint_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute)  # event types, or ["*"] for every type
    description = UnicodeAttribute(default="")
    # The signing secret. Deliveries are signed with it, so it is kept (the table is encrypted at
    # rest) and shown once, when the endpoint is created; the API never returns it again.
    secret = UnicodeAttribute()
    status = UnicodeAttribute(default="enabled")  # enabled | disabled
    disabled_reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(default="")
    updated_at = UnicodeAttribute()


class WebhookDeliveryItem(TableItem, discriminator="webhook_delivery"):
    """One event's delivery to one endpoint: ``WHEP#<endpoint_id>`` / ``DELIVERY#<event_id>``, listed
    newest first in the endpoint's partition of LSI1 (``<first queued at>#<event_id>``)."""

    history = LSI1()
    lsi1sk = UnicodeAttribute(attr_name="LSI1SK")
    endpoint_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | delivered | failed
    created_at = UnicodeAttribute()
    attempt_count = IntegerAttribute(default=0)
    attempts = ListAttribute(of=ExactMapAttribute, default=list)  # the latest ATTEMPTS_KEPT: at, status_code, error, ms
    first_attempt_at_ms = IntegerAttribute(null=True)
    last_attempt_at = UnicodeAttribute(null=True)
    next_attempt_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    lease_until_ms = IntegerAttribute(null=True)  # an attempt is under way until then
    ttl_epoch = IntegerAttribute()
