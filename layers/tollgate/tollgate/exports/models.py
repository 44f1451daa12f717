"""A ledger export job: ``EXPORT#<export_id>`` / ``EXPORT``, listed newest first in GSI1 (``EXPORTS``),
expiring (TTL) after its CSV has."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from tollgate.data import GSI1, IntegerAttribute, TableItem


class ExportItem(TableItem, discriminator="export"):
    """One export of a range of days' ledger entries (every wallet's) to a CSV in the export bucket.

    Status: ``running`` (the workflow writes the CSV in parts) → ``completed`` (``rows``, ``size_bytes``
    and ``object_key`` say what was written) | ``failed`` (``error`` says why; the partial upload is
    aborted). ``upload_id`` names the S3 multipart upload while the CSV is being written.
    """

    listing = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")  # <created_at>#<export_id>
    export_id = UnicodeAttribute()
    from_date = UnicodeAttribute()  # YYYY-MM-DD, inclusive
    to_date = UnicodeAttribute()  # YYYY-MM-DD, inclusive
    entry_type = UnicodeAttribute(null=True)  # only entries of this type; null: every type
    status = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)  # when it completed or failed
    object_key = UnicodeAttribute()
    upload_id = UnicodeAttribute(null=True)
    rows = IntegerAttribute(default=0)
    size_bytes = IntegerAttribute(default=0)
    parts = IntegerAttribute(default=0)
    error = UnicodeAttribute(null=True)
    ttl_epoch = IntegerAttribute()
