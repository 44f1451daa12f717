"""Organizations (``ORG#<id>`` / ``ORG``), their members (``ORG#<id>`` / ``MEMBER#<sub>``) and a capped
member's spend in one month (``MEMBERSPEND#<org>#<sub>`` / ``PERIOD#<yyyy-mm>``, a partition of its own)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from tollgate.data import GSI1, IntegerAttribute, TableItem


class OrgItem(TableItem, discriminator="org"):
    """An organization; its wallet is ``org:<org_id>`` (an ordinary wallet item, made by its first credit)."""

    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


OWNER = "owner"  # the member role that manages the members and the org wallet's settings


class MemberItem(TableItem, discriminator="org_member"):
    """A person's membership: ``owner`` (manages the members) or ``member``; ``monthly_cap_mc`` bounds what
    they may spend from the org wallet in a calendar month (UTC), None for no cap. In GSI1 under
    ``MEMBEROF#<sub>`` (by org id): the organizations a person belongs to."""

    member_of = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    org_id = UnicodeAttribute()
    sub = UnicodeAttribute()
    role = UnicodeAttribute()
    monthly_cap_mc = IntegerAttribute(null=True)
    added_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class MemberSpendItem(TableItem, discriminator="org_member_spend"):
    """What a capped member spent (and holds) from the org wallet in one month: ``ADD``ed in the same
    transaction as each debit or hold, conditioned on staying within the cap. Expires by TTL months later."""

    ttl_epoch = IntegerAttribute(null=True)
    org_id = UnicodeAttribute()
    sub = UnicodeAttribute()
    period = UnicodeAttribute()
    spent_mc = IntegerAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
