"""One admin change: ``AUDIT#<yyyy-mm>`` / ``<at>#<audit_id>`` (a month's changes in one small partition)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from tollgate.data import ExactMapAttribute, TableItem


class AuditRecordItem(TableItem, discriminator="audit"):
    """Who changed what, when, and the item's admin view before and after. Kept for good (no TTL)."""

    audit_id = UnicodeAttribute()
    at = UnicodeAttribute()  # clock.iso: the changed item's updated_at
    actor = UnicodeAttribute()  # as ledger entries name actors (Principal.actor): user:<sub>
    action = UnicodeAttribute()  # an AuditAction (tollgate.audit.schemas)
    target = UnicodeAttribute()  # feature:<id> | package:<id> | settings | tier:<id> | wallet:<wallet_id>
    before = ExactMapAttribute(null=True)  # null: the item did not exist
    after = ExactMapAttribute(null=True)  # null: the item was removed
