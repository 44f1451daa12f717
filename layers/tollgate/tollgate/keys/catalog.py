"""Keys of the catalog (features, packages, tiers, settings), API keys, webhook endpoints, events,
auto top-ups and subscriptions."""

from __future__ import annotations

import hashlib

from tollgate.keys.common import APIKEY_SK, CATALOG_PK, CONFIG_PK, FEATURE_PREFIX, PACKAGE_PREFIX, SETTINGS_SK, TIER_PREFIX, Key
from tollgate.keys.ledger import wallet_pk


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
