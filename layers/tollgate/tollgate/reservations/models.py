"""A reservation's record: ``RES#<id>`` / ``RES``, in the open-holds index while open."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI1, ExactMapAttribute, IntegerAttribute, TableItem


class ReservationItem(TableItem, discriminator="reservation"):
    open_holds = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK", null=True)  # HOLDS#<shard> while open
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK", null=True)  # <expires_at>#<id>
    ttl_epoch = IntegerAttribute(null=True)
    reservation_id = UnicodeAttribute()
    wallet_id = UnicodeAttribute()
    feature = UnicodeAttribute()
    pricing = ExactMapAttribute()
    developer_id = UnicodeAttribute(null=True)
    revenue_share_bps = IntegerAttribute(null=True)
    held = IntegerAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    expires_at_ms = IntegerAttribute()
    request_hash = UnicodeAttribute()
    actor = UnicodeAttribute()
    metadata = ExactMapAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    # The release request that closed it (random, per request): a release whose write was applied but
    # whose answer was lost meets its own token on the retry and answers as released, not 409.
    release_token = UnicodeAttribute(null=True)
    cost = IntegerAttribute(null=True)
    released = IntegerAttribute(null=True)
    capped = BooleanAttribute(null=True)
    requested_cost = IntegerAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    settle_hash = UnicodeAttribute(null=True)
    # An org member's hold: their sub; if capped, the month (YYYY-MM) the hold counts in (tollgate.orgs),
    # so settling or releasing gives back what was not charged to that month's spend.
    member = UnicodeAttribute(null=True)
    cap_period = UnicodeAttribute(null=True)
