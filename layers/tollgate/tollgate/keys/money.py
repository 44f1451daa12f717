"""Keys of purchases, gateway references, rate counters, earnings, payouts and refunds."""

from __future__ import annotations

from tollgate.keys.common import Key
from tollgate.keys.ledger import wallet_pk


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
