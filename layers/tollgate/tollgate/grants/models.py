"""A wallet's grant book: which grants its credits belong to (``WALLET#<id>`` / ``GRANTS``)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI2, ExactMapAttribute, IntegerAttribute, TableItem


class GrantBookItem(TableItem, discriminator="grant_book"):
    """Every grant of one wallet with credits left, as the ledger stream attributed them.

    ``grants`` maps a grant id (the transaction id of the entry that granted it) to
    ``{"src": source, "amt": granted mc, "rem": remaining mc, "exp": expires (epoch ms) | None,
    "pri": priority, "at": granted at (ISO), "ord": order of arrival, "cap": rollover cap mc | None,
    "rolled": carried over once already}``; a grant with nothing left is dropped. ``last_tx`` and
    ``seq`` are the wallet's at the last balance change applied (a sharded wallet's shard 0's; its
    other shards' are in ``chains``): only the stream consumer writes the book, conditioned on the
    ``version`` it read, so each change applies once and, on one item, in commit order. While a
    grant of it expires, the book is in ``GSI2`` under ``GRANTEXPIRY#<shard>`` by its next expiry
    (``<iso>#<wallet>``), where the hourly expiry job finds it.
    """

    expiring = GSI2()
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK", null=True)
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK", null=True)
    wallet_id = UnicodeAttribute()
    grants = ExactMapAttribute(default=dict)
    last_tx = UnicodeAttribute(null=True)
    seq = IntegerAttribute(null=True)
    balance = IntegerAttribute(default=0)  # the wallet's balance at last_tx: sum of the grants' remaining
    next_order = IntegerAttribute(default=0)
    expired_mc = IntegerAttribute(default=0)  # removed by expiry entries so far
    shortfall_mc = IntegerAttribute(default=0)  # debits no grant could cover (should stay 0)
    usage_day = UnicodeAttribute(null=True)  # the wallet's last day with usage counted by analytics
    # A sharded wallet's: ``{"<shard>": {"tx": last change applied | None, "seq": its seq | None}}``,
    # the debits seen before their funding credit (``deficit_mc``) and whether a chain lost a change.
    chains = ExactMapAttribute(null=True)
    deficit_mc = IntegerAttribute(null=True)
    drifted = BooleanAttribute(null=True)
    version = IntegerAttribute(null=True)  # each write adds one, conditioned on the version read
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


__all__ = ["GrantBookItem"]
