"""Every DynamoDB key Tollgate uses is built in this package, and only here (one module per group of
domains: ``ledger``, ``catalog``, ``money``, ``platform``; shared constants in ``common``); callers
use the names this module re-exports (``keys.wallet(...)``).

One table holds everything (single-table design):

============================  ==================  ===========================================
item                          PK                  SK
============================  ==================  ===========================================
wallet                        ``WALLET#<id>``     ``WALLET``
ledger entry                  ``WALLET#<id>``     ``TX#<transaction_id>``
sharded wallet: shard k >= 1  ``WALLET#<id>#S<k>`` ``SHARD``
sharded wallet's marker       ``WALLET#<id>``     ``SHARDED`` (LSI1SK ``~``: its history merges slots)
sharded wallet's debit entry  ``WALLET#<id>#E<slot>`` ``TX#<transaction_id>``
sharded wallet's crossings    ``WALLET#<id>``     ``CROSSINGS``
ledger archive totals         ``WALLET#<id>``     ``ARCHIVE``
ledger archive checkpoint     ``ARCHIVE#RUN``     ``LAST``
wallet locator -> wallet ids  ``WALLETLOC#<loc>`` ``WALLETLOC``
reservation                   ``RES#<id>``        ``RES``
feature                       ``CATALOG``         ``FEATURE#<feature_id>``
API key                       ``APIKEY#<key_id>`` ``APIKEY``
webhook endpoint              ``WHEP#<id>``       ``WHEP``
wallet's auto top-up          ``WALLET#<id>``     ``AUTOTOPUP``
auto top-ups of a month (TTL) ``TOPUP#<wallet>``  ``PERIOD#<yyyy-mm>``
webhook delivery              ``WHEP#<id>``       ``DELIVERY#<event_id>``
event (outbox, TTL)           ``EVENT#<id>``      ``EVENT``
credit package                ``CATALOG``         ``PACKAGE#<package_id>``
subscription tier             ``CATALOG``         ``TIER#<tier_id>``
wallet's tier subscription    ``WALLET#<id>``     ``WALLET#SUBSCRIPTION``
wallet's grant book           ``WALLET#<id>``     ``WALLET#GRANTS``
checkout settings             ``CONFIG``          ``SETTINGS``
purchase                      ``PURCHASE#<id>``   ``PURCHASE``
gateway reference -> purchase ``GWREF#<gw>#<ref>`` ``GWREF``
webhook event (dedupe, TTL)   ``WEBHOOK#<gw>#<id>`` ``WEBHOOK``
rate-limit counter (TTL)      ``RATE#<what>#<who>`` ``<window>``
earning of one usage entry    ``WALLET#<id>``     ``EARN#<transaction_id>``
developer earnings balance    ``DEV#<id>``        ``EARNINGS``
developer earnings by day     ``DEV#<id>``        ``DAY#<yyyy-mm-dd>``
developer earnings by feature ``DEV#<id>``        ``FEAT#<feature_id>``
developer earnings ledger     ``DEV#<id>``        ``LOG#<created_at>#<id>``
developer payout account      ``DEV#<id>``        ``PAYOUT_ACCOUNT``
payout                        ``PAYOUT#<id>``     ``PAYOUT``
transfer reference -> payout  ``PAYOUTREF#<gw>#<ref>`` ``PAYOUTREF``
organization                  ``ORG#<org_id>``    ``ORG``
organization member           ``ORG#<org_id>``    ``MEMBER#<sub>``
member's spend in a month     ``MEMBERSPEND#<org_id>#<sub>`` ``PERIOD#<yyyy-mm>``
audit record (admin change)   ``AUDIT#<yyyy-mm>`` ``<at>#<audit_id>``
platform figures of a day     ``AGG#<yyyy>#<shard>`` ``T#<yyyy-mm-dd>``
a feature's usage of a day    ``AGG#<yyyy>#<shard>`` ``F#<yyyy-mm-dd>#<feature_id>``
a developer's usage of a day  ``AGG#<yyyy>#<shard>`` ``D#<yyyy-mm-dd>#<developer_id>``
a wallet's usage of a day     ``USAGE#<wallet_id>`` ``DAY#<yyyy-mm-dd>``
ledger export job (TTL)       ``EXPORT#<export_id>`` ``EXPORT``
wallets changed (TTL)         ``RECON#<yyyy-mm-dd>#<n>`` ``WALLETS#<hhmm>``
developers changed (TTL)      ``RECON#<yyyy-mm-dd>#<n>`` ``DEVS#<hhmm>``
key requests a second (TTL)   ``KEYRATE#<key_id>#<n>`` ``<epoch second>``
reconciliation checkpoint     ``RECON#RUN``       ``LAST``
reconciliation run            ``RECONRUN#<run_id>`` ``RUN``
reconciliation finding        ``RECONFINDING#<yyyy-mm>`` ``<at>#<finding_id>``
finding fingerprint (dedupe)  ``RECONFINDINGKEY#<fingerprint>`` ``KEY``
============================  ==================  ===========================================

Indexes:

* ``LSI1`` (``PK``, ``LSI1SK`` = ``<created_at>#<tx>``): a wallet's history, newest first,
  strongly consistent (a debit shows up in the very next history read). It is the only
  index a ledger entry writes: each index write on the debit path costs write units.
* ``GSI1`` (``GSI1PK``, ``GSI1SK``), sparse and overloaded: open holds by expiry, sharded
  (``HOLDS#<n>``) so reservations never share one hot partition; API keys (``APIKEYS``);
  a wallet's purchases (``PURCHASES#<wallet_id>``); webhook endpoints (``WEBHOOK_ENDPOINTS``).
  Also a developer's payouts (``PAYOUTS#<developer_id>``) and the developers with
  automatic payouts on (``AUTOPAYOUT``); the organizations a person belongs to
  (``MEMBEROF#<sub>``).
* ``GSI2`` (``GSI2PK``, ``GSI2SK``), sparse: every purchase, newest first, for admins
  (``PURCHASES``; purchases arrive far below one partition's write rate); every payout
  (``PAYOUTS``) likewise. Also the grant books with a grant to expire, by next expiry, sharded
  by wallet (``GRANTEXPIRY#<n>``; removed when no grant of the book expires). And every ledger
  entry by day, sharded (``LEDGER#<yyyy-mm-dd>#<n>`` / ``<created_at>#<tx>``), for listings and
  exports across wallets: the stream consumer adds the keys when it stamps ``balance_after``, so
  the debit itself still writes no global index.

Aggregates (``tollgate.analytics``) are kept by the stream consumer in partitions of their own,
sharded (``AGG#<yyyy>#<n>``: a burst of debits spreads over the shards, a year's days of one
shard are one Query) and never read or written by a request path that moves money.
"""

from __future__ import annotations

from tollgate.keys.catalog import (
    DELIVERY_PREFIX,
    SUBSCRIBER_SHARDS,
    SUBSCRIPTION_SK,
    WEBHOOK_ENDPOINTS_GSI1PK,
    allocation_run,
    allocation_runs_gsi1pk,
    api_key,
    auto_top_up,
    event,
    feature,
    feature_sk,
    package,
    settings,
    subscribers_gsi1pk,
    subscription,
    tier,
    top_up_month,
    webhook_delivery,
    webhook_endpoint,
)
from tollgate.keys.common import (
    ALL_PURCHASES_GSI2PK,
    APIKEY_SK,
    APIKEYS_GSI1PK,
    CATALOG_PK,
    CONFIG_PK,
    ENTRY_PREFIX,
    FEATURE_PREFIX,
    HOLD_SHARDS,
    PACKAGE_PREFIX,
    RESERVATION_SK,
    SETTINGS_SK,
    TIER_PREFIX,
    WALLET_SK,
    Key,
)
from tollgate.keys.ledger import (
    ARCHIVE_HISTORY_SK,
    CROSSINGS_SK,
    ENTRY_SLOTS,
    GRANT_EXPIRY_SHARDS,
    GRANTS_SK,
    MAX_SHARDS,
    SHARD_SK,
    SHARDED_LSI1SK,
    SHARDED_SK,
    WALLET_LOCATOR_SK,
    entry,
    entry_lsi1sk,
    entry_sk,
    entry_slot,
    grant_book,
    grant_expiry_gsi2pk,
    grant_expiry_gsi2sk,
    grant_expiry_shards,
    hold_shard,
    hold_shards,
    home_shard,
    ledger_archive,
    ledger_archive_checkpoint,
    reservation,
    slot_pk,
    slotted_entry,
    wallet,
    wallet_crossings,
    wallet_locator,
    wallet_pk,
    wallet_shard,
    wallet_sharded,
)
from tollgate.keys.money import (
    ALL_EXPORTS_GSI1PK,
    ALL_PAYOUTS_GSI2PK,
    ALL_REFUNDS_GSI2PK,
    AUTOPAYOUT_GSI1PK,
    EARNING_PREFIX,
    EARNINGS_DAY_PREFIX,
    EARNINGS_FEATURE_PREFIX,
    EARNINGS_LOG_PREFIX,
    EARNINGS_SK,
    PAYOUT_ACCOUNT_SK,
    developer_earnings,
    developer_payouts_gsi1pk,
    developer_pk,
    earning,
    earnings_day,
    earnings_day_sk,
    earnings_feature,
    earnings_log,
    gateway_reference,
    key_rate,
    payout,
    payout_account,
    payout_reference,
    purchase,
    rate_counter,
    refund,
    refund_reference,
    wallet_purchases_gsi1pk,
    wallet_refunds_gsi1pk,
    webhook_event,
)
from tollgate.keys.platform import (
    AGG_DEVELOPER,
    AGG_FEATURE,
    AGG_TOTALS,
    AGGREGATE_SHARDS,
    AUDIT_PREFIX,
    EXPORT_SK,
    LEDGER_DAY_SHARDS,
    MEMBER_PREFIX,
    ORG_SK,
    ORG_WALLET_PREFIX,
    RECON_DEVELOPERS,
    RECON_FINDING_PREFIX,
    RECON_SHARDS,
    RECON_WALLETS,
    USAGE_DAY_PREFIX,
    aggregate_developer,
    aggregate_feature,
    aggregate_partitions,
    aggregate_pk,
    aggregate_totals,
    audit_pk,
    audit_record,
    export,
    ledger_day_gsi2pk,
    ledger_day_partitions,
    member_of_gsi1pk,
    member_spend,
    org,
    org_member,
    org_pk,
    org_wallet_id,
    recon_changed,
    recon_changed_pk,
    recon_checkpoint,
    recon_finding,
    recon_finding_key,
    recon_finding_pk,
    recon_run,
    usage_day,
    usage_pk,
)

__all__ = [
    "AGGREGATE_SHARDS",
    "AGG_DEVELOPER",
    "AGG_FEATURE",
    "AGG_TOTALS",
    "ALL_EXPORTS_GSI1PK",
    "ALL_PAYOUTS_GSI2PK",
    "ALL_PURCHASES_GSI2PK",
    "ALL_REFUNDS_GSI2PK",
    "APIKEYS_GSI1PK",
    "APIKEY_SK",
    "ARCHIVE_HISTORY_SK",
    "AUDIT_PREFIX",
    "AUTOPAYOUT_GSI1PK",
    "CATALOG_PK",
    "CONFIG_PK",
    "CROSSINGS_SK",
    "DELIVERY_PREFIX",
    "EARNINGS_DAY_PREFIX",
    "EARNINGS_FEATURE_PREFIX",
    "EARNINGS_LOG_PREFIX",
    "EARNINGS_SK",
    "EARNING_PREFIX",
    "ENTRY_PREFIX",
    "ENTRY_SLOTS",
    "EXPORT_SK",
    "FEATURE_PREFIX",
    "GRANTS_SK",
    "GRANT_EXPIRY_SHARDS",
    "HOLD_SHARDS",
    "LEDGER_DAY_SHARDS",
    "MAX_SHARDS",
    "MEMBER_PREFIX",
    "ORG_SK",
    "ORG_WALLET_PREFIX",
    "PACKAGE_PREFIX",
    "PAYOUT_ACCOUNT_SK",
    "RECON_DEVELOPERS",
    "RECON_FINDING_PREFIX",
    "RECON_SHARDS",
    "RECON_WALLETS",
    "RESERVATION_SK",
    "SETTINGS_SK",
    "SHARDED_LSI1SK",
    "SHARDED_SK",
    "SHARD_SK",
    "SUBSCRIBER_SHARDS",
    "SUBSCRIPTION_SK",
    "TIER_PREFIX",
    "USAGE_DAY_PREFIX",
    "WALLET_LOCATOR_SK",
    "WALLET_SK",
    "WEBHOOK_ENDPOINTS_GSI1PK",
    "Key",
    "aggregate_developer",
    "aggregate_feature",
    "aggregate_partitions",
    "aggregate_pk",
    "aggregate_totals",
    "allocation_run",
    "allocation_runs_gsi1pk",
    "api_key",
    "audit_pk",
    "audit_record",
    "auto_top_up",
    "developer_earnings",
    "developer_payouts_gsi1pk",
    "developer_pk",
    "earning",
    "earnings_day",
    "earnings_day_sk",
    "earnings_feature",
    "earnings_log",
    "entry",
    "entry_lsi1sk",
    "entry_sk",
    "entry_slot",
    "event",
    "export",
    "feature",
    "feature_sk",
    "gateway_reference",
    "grant_book",
    "grant_expiry_gsi2pk",
    "grant_expiry_gsi2sk",
    "grant_expiry_shards",
    "hold_shard",
    "hold_shards",
    "home_shard",
    "key_rate",
    "ledger_archive",
    "ledger_archive_checkpoint",
    "ledger_day_gsi2pk",
    "ledger_day_partitions",
    "member_of_gsi1pk",
    "member_spend",
    "org",
    "org_member",
    "org_pk",
    "org_wallet_id",
    "package",
    "payout",
    "payout_account",
    "payout_reference",
    "purchase",
    "rate_counter",
    "recon_changed",
    "recon_changed_pk",
    "recon_checkpoint",
    "recon_finding",
    "recon_finding_key",
    "recon_finding_pk",
    "recon_run",
    "refund",
    "refund_reference",
    "reservation",
    "settings",
    "slot_pk",
    "slotted_entry",
    "subscribers_gsi1pk",
    "subscription",
    "tier",
    "top_up_month",
    "usage_day",
    "usage_pk",
    "wallet",
    "wallet_crossings",
    "wallet_locator",
    "wallet_pk",
    "wallet_purchases_gsi1pk",
    "wallet_refunds_gsi1pk",
    "wallet_shard",
    "wallet_sharded",
    "webhook_delivery",
    "webhook_endpoint",
    "webhook_event",
]
