"""Tollgate's Python SDK: a typed client of the Tollgate credits API (sync and asyncio).

    from tollgate_sdk import Tollgate, usage_from

    client = Tollgate("http://127.0.0.1:3000", token=token)
    with client.reserve("plugin-generate", max_credits="20") as hold:
        response = call_model(...)
        hold.settle(usage=usage_from(response))
"""

from __future__ import annotations

from ._calls import VERSION as __version__
from ._calls import new_idempotency_key
from .async_client import AsyncTollgate
from .client import Tollgate
from .errors import (
    APIConnectionError,
    Forbidden,
    IdempotencyConflict,
    InsufficientCredits,
    NotFound,
    RateLimited,
    ReservationClosed,
    TollgateError,
    Unauthorized,
    ValidationError,
)
from .models import (
    Credits,
    CreditsLike,
    DayEarnings,
    DaySpent,
    Earnings,
    Entry,
    Feature,
    FeatureEarnings,
    FeatureSpent,
    Health,
    Package,
    Payout,
    Pricing,
    Purchase,
    Refund,
    RefundEligibility,
    Release,
    Reservation,
    Settlement,
    Step,
    UsageResult,
    UsageSummary,
    Wallet,
    WalletGrant,
    format_credits,
)
from .reservations import AsyncHold, Hold
from .retry import RetryPolicy
from .usage import UsageNotFound, usage_from
from .webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify_webhook

__all__ = [
    "SIGNATURE_HEADER",
    "APIConnectionError",
    "AsyncHold",
    "AsyncTollgate",
    "Credits",
    "CreditsLike",
    "DayEarnings",
    "DaySpent",
    "Earnings",
    "Entry",
    "Feature",
    "FeatureEarnings",
    "FeatureSpent",
    "Forbidden",
    "Health",
    "Hold",
    "IdempotencyConflict",
    "InsufficientCredits",
    "NotFound",
    "Package",
    "Payout",
    "Pricing",
    "Purchase",
    "RateLimited",
    "Refund",
    "RefundEligibility",
    "Release",
    "Reservation",
    "ReservationClosed",
    "RetryPolicy",
    "Settlement",
    "Step",
    "Tollgate",
    "TollgateError",
    "Unauthorized",
    "UsageNotFound",
    "UsageResult",
    "UsageSummary",
    "ValidationError",
    "Wallet",
    "WalletGrant",
    "WebhookSignatureError",
    "__version__",
    "format_credits",
    "new_idempotency_key",
    "usage_from",
    "verify_webhook",
]
