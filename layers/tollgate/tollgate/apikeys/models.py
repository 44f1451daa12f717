"""A server API key: ``APIKEY#<key_id>`` / ``APIKEY``, listed newest first in GSI1 (``APIKEYS``)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute

from tollgate.data import GSI1, IntegerAttribute, TableItem


class ApiKeyItem(TableItem, discriminator="api_key"):
    listing = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_sha256 = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(default="")
    revoked_at = UnicodeAttribute(null=True)
    rate_limit = IntegerAttribute(null=True)  # requests a second; null: the default (tollgate.ratelimit)
    scopes = UnicodeSetAttribute(null=True)  # null: a key from before scopes, which may do everything
