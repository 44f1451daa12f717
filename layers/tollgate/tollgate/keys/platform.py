"""Keys of organizations, the day index, analytics, usage summaries, the audit trail, exports and reconciliation."""

from __future__ import annotations

import hashlib

from tollgate.keys.common import Key

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
