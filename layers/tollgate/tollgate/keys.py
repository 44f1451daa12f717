"""Every DynamoDB key Tollgate uses is built here, and only here.

One table holds everything (single-table design):

============================  ==================  ===========================================
item                          PK                  SK
============================  ==================  ===========================================
wallet                        ``WALLET#<id>``     ``WALLET``
ledger entry                  ``WALLET#<id>``     ``TX#<transaction_id>``
sharded wallet: shard k >= 1  ``WALLET#<id>#S<k>`` ``SHARD``
sharded wallet's marker       ``WALLET#<id>``     ``SHARDED`` (LSI1SK ``~``: its history merges slots)
sharded wallet's debit entry  ``WALLET#<id>#E<slot>`` ``TX#<transaction_id>``
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

import hashlib

WALLET_SK = "WALLET"
RESERVATION_SK = "RES"
CATALOG_PK = "CATALOG"
APIKEY_SK = "APIKEY"
APIKEYS_GSI1PK = "APIKEYS"
HOLD_SHARDS = 16
FEATURE_PREFIX = "FEATURE#"
PACKAGE_PREFIX = "PACKAGE#"
TIER_PREFIX = "TIER#"
ENTRY_PREFIX = "TX#"
CONFIG_PK = "CONFIG"
SETTINGS_SK = "SETTINGS"
ALL_PURCHASES_GSI2PK = "PURCHASES"

Key = tuple[str, str]  # (PK, SK)


def wallet_pk(wallet_id: str) -> str:
    return f"WALLET#{wallet_id}"


def wallet(wallet_id: str) -> Key:
    return wallet_pk(wallet_id), WALLET_SK


def entry_sk(transaction_id: str) -> str:
    return f"{ENTRY_PREFIX}{transaction_id}"


def entry(wallet_id: str, transaction_id: str) -> Key:
    return wallet_pk(wallet_id), entry_sk(transaction_id)


# -- sharded wallets (tollgate.shards) ----------------------------------------------------------

SHARD_SK = "SHARD"
SHARDED_SK = "SHARDED"
SHARDED_LSI1SK = "~"  # after every entry's created_at#tx: a history query newest first meets it first
ENTRY_SLOTS = 32  # a sharded wallet's debit entries are spread over this many partitions, for its life
MAX_SHARDS = 64


def wallet_shard(wallet_id: str, shard: int) -> Key:
    """Shard ``shard`` of a sharded wallet: 0 is the wallet item itself."""
    return wallet(wallet_id) if shard == 0 else (f"{wallet_pk(wallet_id)}#S{shard}", SHARD_SK)


def wallet_sharded(wallet_id: str) -> Key:
    return wallet_pk(wallet_id), SHARDED_SK


def entry_slot(transaction_id: str) -> int:
    """The slot of a sharded wallet's debit entry: from its id alone, so a replay finds it whatever
    the wallet's shard count is by then."""
    return hashlib.sha256(transaction_id.encode()).digest()[0] % ENTRY_SLOTS


def slot_pk(wallet_id: str, slot: int) -> str:
    return f"{wallet_pk(wallet_id)}#E{slot}"


def slotted_entry(wallet_id: str, transaction_id: str) -> Key:
    return slot_pk(wallet_id, entry_slot(transaction_id)), entry_sk(transaction_id)


def home_shard(transaction_id: str, shards: int) -> int:
    """The shard a debit tries first (another if it cannot pay)."""
    return int.from_bytes(hashlib.sha256(transaction_id.encode()).digest()[1:3], "big") % shards


def entry_lsi1sk(created_at: str, transaction_id: str) -> str:
    return f"{created_at}#{transaction_id}"


def ledger_archive(wallet_id: str) -> Key:
    """What of a wallet's ledger is archived (``tollgate.ledger.archive``): in its partition, outside
    the ``TX#`` entries and the ``WALLET...`` view."""
    return wallet_pk(wallet_id), "ARCHIVE"


# The archive totals' row in the history index (LSI1): before every entry (entries' keys start with a
# year), so a history read that reaches the wallet's oldest entry finds it in the same query.
ARCHIVE_HISTORY_SK = "0"


def ledger_archive_checkpoint() -> Key:
    return "ARCHIVE#RUN", "LAST"


# Beside the wallet and sorted with it (``WALLET``, ``WALLET#...``): a wallet view is one Query.
GRANTS_SK = "WALLET#GRANTS"
GRANT_EXPIRY_SHARDS = 16


def grant_book(wallet_id: str) -> Key:
    """Which grants a wallet's credits belong to (one item per wallet, beside the wallet)."""
    return wallet_pk(wallet_id), GRANTS_SK


def grant_expiry_gsi2pk(wallet_id: str) -> str:
    """The expiring-grants index partition a wallet's grant book is listed in (sharded)."""
    shard = hashlib.sha256(wallet_id.encode()).digest()[0] % GRANT_EXPIRY_SHARDS
    return f"GRANTEXPIRY#{shard}"


def grant_expiry_shards() -> list[str]:
    return [f"GRANTEXPIRY#{n}" for n in range(GRANT_EXPIRY_SHARDS)]


def grant_expiry_gsi2sk(expires_at: str, wallet_id: str) -> str:
    """``<next expiry (ISO)>#<wallet>``: the books due by an instant sort before ``iso(instant + 1 ms)``."""
    return f"{expires_at}#{wallet_id}"


WALLET_LOCATOR_SK = "WALLETLOC"


def wallet_locator(locator: str) -> Key:
    """The wallets behind a locator (``ids.locator``): how a located transaction id finds its wallet."""
    return f"WALLETLOC#{locator}", WALLET_LOCATOR_SK


def reservation(reservation_id: str) -> Key:
    return f"RES#{reservation_id}", RESERVATION_SK


def hold_shard(reservation_id: str) -> str:
    shard = hashlib.sha256(reservation_id.encode()).digest()[0] % HOLD_SHARDS
    return f"HOLDS#{shard}"


def hold_shards() -> list[str]:
    return [f"HOLDS#{n}" for n in range(HOLD_SHARDS)]


def feature_sk(feature_id: str) -> str:
    return f"{FEATURE_PREFIX}{feature_id}"


def feature(feature_id: str) -> Key:
    return CATALOG_PK, feature_sk(feature_id)


def api_key(key_id: str) -> Key:
    return f"APIKEY#{key_id}", APIKEY_SK


WEBHOOK_ENDPOINTS_GSI1PK = "WEBHOOK_ENDPOINTS"


def webhook_endpoint(endpoint_id: str) -> Key:
    return f"WHEP#{endpoint_id}", "WHEP"


DELIVERY_PREFIX = "DELIVERY#"


def auto_top_up(wallet_id: str) -> Key:
    return wallet_pk(wallet_id), "AUTOTOPUP"


def top_up_month(wallet_id: str, period: str) -> Key:
    return f"TOPUP#{wallet_id}", f"PERIOD#{period}"


def webhook_delivery(endpoint_id: str, event_id: str) -> Key:
    return f"WHEP#{endpoint_id}", f"{DELIVERY_PREFIX}{event_id}"


def event(event_id: str) -> Key:
    return f"EVENT#{event_id}", "EVENT"


def package(package_id: str) -> Key:
    return CATALOG_PK, f"{PACKAGE_PREFIX}{package_id}"


def tier(tier_id: str) -> Key:
    return CATALOG_PK, f"{TIER_PREFIX}{tier_id}"


SUBSCRIPTION_SK = "WALLET#SUBSCRIPTION"
SUBSCRIBER_SHARDS = 16


def subscription(wallet_id: str) -> Key:
    """A wallet's tier, beside the wallet rather than on it: the wallet item stays out of every index."""
    return wallet_pk(wallet_id), SUBSCRIPTION_SK


def subscribers_gsi1pk(wallet_id: str) -> str:
    """The subscribers' index partition a wallet is listed in: sharded, so a monthly run reads them in parallel."""
    shard = hashlib.sha256(wallet_id.encode()).digest()[0] % SUBSCRIBER_SHARDS
    return f"SUBSCRIBERS#{shard}"


def allocation_run(run_id: str) -> Key:
    return f"ALLOCRUN#{run_id}", "ALLOCRUN"


def allocation_runs_gsi1pk(period: str) -> str:
    """Where a period's allocation runs are listed (newest first by start time)."""
    return f"ALLOCRUNS#{period}"


def settings() -> Key:
    return CONFIG_PK, SETTINGS_SK


def purchase(purchase_id: str) -> Key:
    return f"PURCHASE#{purchase_id}", "PURCHASE"


def wallet_purchases_gsi1pk(wallet_id: str) -> str:
    return f"PURCHASES#{wallet_id}"


def gateway_reference(gateway: str, reference: str) -> Key:
    return f"GWREF#{gateway}#{reference}", "GWREF"


def webhook_event(gateway: str, event_id: str) -> Key:
    return f"WEBHOOK#{gateway}#{event_id}", "WEBHOOK"


def rate_counter(what: str, who: str, window: str) -> Key:
    return f"RATE#{what}#{who}", window


def key_rate(key_id: str, shard: int, second: int) -> Key:
    """One shard of a server API key's request counter for one second (``tollgate.ratelimit``)."""
    return f"KEYRATE#{key_id}#{shard}", str(second)


EARNINGS_SK = "EARNINGS"
EARNING_PREFIX = "EARN#"
EARNINGS_DAY_PREFIX = "DAY#"
EARNINGS_FEATURE_PREFIX = "FEAT#"
EARNINGS_LOG_PREFIX = "LOG#"


def developer_pk(developer_id: str) -> str:
    return f"DEV#{developer_id}"


def developer_earnings(developer_id: str) -> Key:
    return developer_pk(developer_id), EARNINGS_SK


def earning(wallet_id: str, transaction_id: str) -> Key:
    """An earning lives beside the usage entry it comes from (same wallet partition), so
    accruing a popular developer's earnings spreads over its customers' partitions."""
    return wallet_pk(wallet_id), f"{EARNING_PREFIX}{transaction_id}"


def earnings_day_sk(day: str) -> str:
    return f"{EARNINGS_DAY_PREFIX}{day}"


def earnings_day(developer_id: str, day: str) -> Key:
    return developer_pk(developer_id), earnings_day_sk(day)


def earnings_feature(developer_id: str, feature_id: str) -> Key:
    return developer_pk(developer_id), f"{EARNINGS_FEATURE_PREFIX}{feature_id}"


def earnings_log(developer_id: str, created_at: str, log_id: str) -> Key:
    return developer_pk(developer_id), f"{EARNINGS_LOG_PREFIX}{created_at}#{log_id}"


PAYOUT_ACCOUNT_SK = "PAYOUT_ACCOUNT"
AUTOPAYOUT_GSI1PK = "AUTOPAYOUT"
ALL_PAYOUTS_GSI2PK = "PAYOUTS"


def payout_account(developer_id: str) -> Key:
    return developer_pk(developer_id), PAYOUT_ACCOUNT_SK


def payout(payout_id: str) -> Key:
    return f"PAYOUT#{payout_id}", "PAYOUT"


def developer_payouts_gsi1pk(developer_id: str) -> str:
    return f"PAYOUTS#{developer_id}"


def payout_reference(gateway: str, reference: str) -> Key:
    return f"PAYOUTREF#{gateway}#{reference}", "PAYOUTREF"


ALL_REFUNDS_GSI2PK = "REFUNDS"
# Every ledger export, listed newest first in GSI1 (``tollgate.exports``).
ALL_EXPORTS_GSI1PK = "EXPORTS"


def refund(refund_id: str) -> Key:
    return f"REFUND#{refund_id}", "REFUND"


def wallet_refunds_gsi1pk(wallet_id: str) -> str:
    return f"REFUNDS#{wallet_id}"


def refund_reference(gateway: str, gateway_refund_id: str) -> Key:
    return f"REFUNDREF#{gateway}#{gateway_refund_id}", "REFUNDREF"


ORG_SK = "ORG"
MEMBER_PREFIX = "MEMBER#"
ORG_WALLET_PREFIX = "org:"


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def org(org_id: str) -> Key:
    return org_pk(org_id), ORG_SK


def org_member(org_id: str, sub: str) -> Key:
    return org_pk(org_id), f"{MEMBER_PREFIX}{sub}"


def member_of_gsi1pk(sub: str) -> str:
    """The index partition listing the organizations a person belongs to."""
    return f"MEMBEROF#{sub}"


def org_wallet_id(org_id: str) -> str:
    return f"{ORG_WALLET_PREFIX}{org_id}"


def member_spend(org_id: str, sub: str, period: str) -> Key:
    """A capped member's spend in one month: its own partition, never the org wallet's (hot) one."""
    return f"MEMBERSPEND#{org_id}#{sub}", f"PERIOD#{period}"


LEDGER_DAY_SHARDS = 16


def ledger_day_gsi2pk(created_at: str, transaction_id: str) -> str:
    """The day-sharded index partition of an entry (``LEDGER#<yyyy-mm-dd>#<n>``), sharded by its id
    so a day's writes spread over the shards."""
    shard = hashlib.sha256(transaction_id.encode()).digest()[0] % LEDGER_DAY_SHARDS
    return f"LEDGER#{created_at[:10]}#{shard}"


def ledger_day_partitions(day: str) -> list[str]:
    return [f"LEDGER#{day}#{n}" for n in range(LEDGER_DAY_SHARDS)]


AGGREGATE_SHARDS = 16
AGG_TOTALS = "T#"
AGG_FEATURE = "F#"
AGG_DEVELOPER = "D#"


def aggregate_pk(year: str, shard: int) -> str:
    return f"AGG#{year}#{shard}"


def aggregate_partitions(year: str) -> list[str]:
    return [aggregate_pk(year, n) for n in range(AGGREGATE_SHARDS)]


def aggregate_totals(day: str, shard: int) -> Key:
    return aggregate_pk(day[:4], shard), f"{AGG_TOTALS}{day}"


def aggregate_feature(day: str, shard: int, feature_id: str) -> Key:
    return aggregate_pk(day[:4], shard), f"{AGG_FEATURE}{day}#{feature_id}"


def aggregate_developer(day: str, shard: int, developer_id: str) -> Key:
    return aggregate_pk(day[:4], shard), f"{AGG_DEVELOPER}{day}#{developer_id}"


USAGE_DAY_PREFIX = "DAY#"


def usage_pk(wallet_id: str) -> str:
    return f"USAGE#{wallet_id}"


def usage_day(wallet_id: str, day: str) -> Key:
    """A wallet's usage of one day: its own partition, not the wallet's (hot, and one Query per summary)."""
    return usage_pk(wallet_id), f"{USAGE_DAY_PREFIX}{day}"


AUDIT_PREFIX = "AUDIT#"


def audit_pk(period: str) -> str:
    """The audit records of one month (``YYYY-MM``, UTC): admin changes are rare, so a month is one
    small partition, read newest first."""
    return f"{AUDIT_PREFIX}{period}"


def audit_record(at: str, audit_id: str) -> Key:
    """One change's record, sorted by when it was made (``at``: ``clock.iso``, so it sorts as text)."""
    return audit_pk(at[:7]), f"{at}#{audit_id}"


EXPORT_SK = "EXPORT"


def export(export_id: str) -> Key:
    """A ledger export job (``tollgate.exports``): its range, status and, once written, its CSV's key;
    it expires (TTL) after the CSV has."""
    return f"EXPORT#{export_id}", EXPORT_SK


RECON_SHARDS = 16
RECON_WALLETS = "WALLETS#"
RECON_DEVELOPERS = "DEVS#"


def recon_changed_pk(day: str, shard: int) -> str:
    """One shard of a day's changed-subject sets (``tollgate.reconciliation``)."""
    return f"RECON#{day}#{shard}"


def recon_changed(day: str, minute: str, shard: int, prefix: str) -> Key:
    """The set of wallets (``RECON_WALLETS``) or developers (``RECON_DEVELOPERS``) the stream
    changed in one UTC minute (``hhmm``), on one shard: a string set, each minute its own item, so a
    set stays small (an ``ADD`` costs a write unit per KB of the item it rewrites, and an item holds
    400 KB); the 16 shards of a day are one Query each."""
    return recon_changed_pk(day, shard), f"{prefix}{minute}"


def recon_checkpoint() -> Key:
    """The last day the reconciliation job has checked completely (and where a cut-short run stopped)."""
    return "RECON#RUN", "LAST"


def recon_run(run_id: str) -> Key:
    return f"RECONRUN#{run_id}", "RUN"


RECON_FINDING_PREFIX = "RECONFINDING#"


def recon_finding_pk(period: str) -> str:
    """The findings of one month (``YYYY-MM``, UTC), newest first, like the audit trail."""
    return f"{RECON_FINDING_PREFIX}{period}"


def recon_finding(at: str, finding_id: str) -> Key:
    return recon_finding_pk(at[:7]), f"{at}#{finding_id}"


def recon_finding_key(fingerprint: str) -> Key:
    """A finding's identity (kind, subject, expected, actual): written once, so the same discrepancy
    seen again (a re-run, a crashed run done again) records nothing new."""
    return f"RECONFINDINGKEY#{fingerprint}", "KEY"
