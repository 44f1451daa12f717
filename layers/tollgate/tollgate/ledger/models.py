"""The ledger's items: a wallet and its append-only entries (same partition), and wallet locators."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute

from tollgate import keys
from tollgate.data import GSI2, LSI1, ExactMapAttribute, IntegerAttribute, TableItem


class WalletItem(TableItem, discriminator="wallet"):
    """``WALLET#<id>`` / ``WALLET``: balance, reserved and available kept apart (conditions
    have no arithmetic), open holds as ``{reservation_id: {"a": amount, "e": expires_ms}}``,
    and ``last_tx``, from which the stream stamps each entry's ``balance_after``."""

    wallet_id = UnicodeAttribute()
    balance = IntegerAttribute(default=0)
    reserved = IntegerAttribute(default=0)
    available = IntegerAttribute(default=0)
    holds = ExactMapAttribute(default=dict)
    last_tx = UnicodeAttribute(null=True)
    seq = IntegerAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    # The low-balance alert threshold (mc): the stream tells the platform when available crosses
    # below it. Kept here so each change's stream record carries it with the balance it changed.
    low_balance_mc = IntegerAttribute(null=True)
    # The auto top-up threshold (mc), while auto top-up is on (tollgate.autotopup): the same crossing
    # in the stream starts one charge.
    topup_threshold_mc = IntegerAttribute(null=True)
    # A sharded wallet (tollgate.shards): its shard count, how many shard items exist (a layout once
    # larger leaves its retired ones), and until when its debits check for replays of keys used
    # before it was first sharded. None: never sharded.
    shards = IntegerAttribute(null=True)
    shard_items = IntegerAttribute(null=True)
    replay_check_until = UnicodeAttribute(null=True)

    @classmethod
    def keyed(cls, wallet_id: str) -> WalletItem:
        return cls(*keys.wallet(wallet_id))


class HistoryRow(TableItem):
    """What a wallet's history index (``LSI1``) holds: its entries, newest first, and after the
    oldest of them the archive totals (``keys.ARCHIVE_HISTORY_SK``), so the query that reaches the
    wallet's oldest entry also says whether an archive follows. Querying through this class lets
    PynamoDB's discriminator filter pass both."""

    history = LSI1()
    lsi1sk = UnicodeAttribute(attr_name="LSI1SK")


class LedgerEntryItem(HistoryRow, discriminator="ledger_entry"):
    """``WALLET#<id>`` / ``TX#<transaction_id>``: one balance change, written once (the stream
    consumer then stamps ``balance_after``, ``grants`` and the day index keys)."""

    # Every wallet's entries by day (``LEDGER#<day>#<n>`` / ``<created_at>#<tx>``), set off the request path.
    by_day = GSI2()
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK", null=True)
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK", null=True)
    transaction_id = UnicodeAttribute()
    wallet_id = UnicodeAttribute()
    type = UnicodeAttribute()
    amount = IntegerAttribute()
    created_at = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    actor = UnicodeAttribute()
    feature = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    measure = ExactMapAttribute(null=True)
    priced_by = UnicodeAttribute(null=True)
    requested_cost = IntegerAttribute(null=True)
    developer_id = UnicodeAttribute(null=True)
    revenue_share_bps = IntegerAttribute(null=True)
    metadata = ExactMapAttribute(null=True)
    balance_after = IntegerAttribute(null=True)
    # Which grants a balance change drew from or added to ({grant_id: mc}), stamped with balance_after.
    grants = ExactMapAttribute(null=True)
    # A usage entry's credits given back so far by reversals (never more than it cost).
    reversed_mc = IntegerAttribute(null=True)

    @classmethod
    def new(cls, *, wallet_id: str, transaction_id: str, created_at: str, **fields: Any) -> LedgerEntryItem:
        return cls(*keys.entry(wallet_id, transaction_id), wallet_id=wallet_id, transaction_id=transaction_id,
                   created_at=created_at, lsi1sk=keys.entry_lsi1sk(created_at, transaction_id),
                   **{k: v for k, v in fields.items() if v is not None})


class LedgerArchiveItem(HistoryRow, discriminator="ledger_archive"):
    """``WALLET#<id>`` / ``ARCHIVE``: what of the wallet's ledger has moved to the archive
    (``tollgate.ledger.archive``): the entries' total and count, and the months they belong to.
    Added to in the transaction that deletes those entries, so at every instant the live
    entries plus ``archived_total`` add up to the balance."""

    wallet_id = UnicodeAttribute()
    archived_total = IntegerAttribute(default=0)
    archived_count = IntegerAttribute(default=0)
    months = UnicodeSetAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class LedgerArchiveCheckpointItem(TableItem, discriminator="ledger_archive_checkpoint"):
    """``ARCHIVE#RUN`` / ``LAST``: the last day whose changed wallets the archiver has archived."""

    through_day = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)


class WalletLocatorItem(TableItem, discriminator="wallet_locator"):
    """``WALLETLOC#<locator>`` / ``WALLETLOC``: the wallets whose id hashes to this locator
    (``ids.locator``), added by every credit, so a located transaction id finds its wallet.
    A set, so wallets sharing a locator are all listed."""

    wallet_ids = UnicodeSetAttribute(null=True)
