"""What analytics, the usage summary and the cross-wallet listing return. Credits are
millicredits rendered as decimal strings (``CreditsOut``); money is integer minor units."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tollgate.ledger.schemas import EntryOut
from tollgate.schemas import CreditsOut, Schema

GroupBy = Literal["day", "month"]

# Entry types by the side of the ledger they move credits on; any other type is counted as "other".
IN_SOURCES: tuple[str, ...] = ("purchase", "allocation", "grant", "adjustment", "reversal", "refund_reversal")
OUT_KINDS: tuple[str, ...] = ("usage", "refund", "chargeback", "expiry", "adjustment")


class CreditsIn(Schema):
    """Credits added to wallets, by source."""

    purchase: CreditsOut = 0
    allocation: CreditsOut = 0
    grant: CreditsOut = 0
    adjustment: CreditsOut = Field(default=0, description="Positive admin adjustments")
    reversal: CreditsOut = Field(default=0, description="Usage given back, and disputes won")
    refund_reversal: CreditsOut = Field(default=0, description="Refunds that failed, credits restored")
    other: CreditsOut = 0
    total: CreditsOut = 0


class CreditsOutBy(Schema):
    """Credits taken from wallets, by kind."""

    usage: CreditsOut = 0
    refund: CreditsOut = 0
    chargeback: CreditsOut = 0
    expiry: CreditsOut = 0
    adjustment: CreditsOut = Field(default=0, description="Negative admin adjustments")
    other: CreditsOut = 0
    total: CreditsOut = 0


class Money(Schema):
    currency: str
    gateway: str | None = None
    amount_minor: int = Field(description="Integer minor units of the currency (cents, kobo)")


class Figures(Schema):
    credits_in: CreditsIn
    credits_out: CreditsOutBy
    revenue: list[Money] = Field(description="Paid purchases, per currency and gateway")
    refunds: list[Money] = Field(description="Money refunded (refunds that later failed taken off), per currency")
    chargebacks: list[Money] = Field(description="Money clawed back by disputes, per currency")
    purchases: int = Field(description="Purchases paid")
    debits: int = Field(description="Usage entries (settled reservations included)")


class Point(Figures):
    period: str = Field(description="YYYY-MM-DD, or YYYY-MM with group_by=month")
    active_wallets: int = Field(description="Distinct wallets with usage in the period (the day, or the month)")


class AnalyticsOut(Schema):
    from_date: str
    to_date: str
    group_by: GroupBy
    totals: Figures
    series: list[Point] = Field(description="Every period of the range, oldest first, zeros included")


class FeatureUsage(Schema):
    feature: str
    spent: CreditsOut
    calls: int


class DeveloperUsage(Schema):
    developer_id: str
    spent: CreditsOut
    calls: int


class FeatureUsageList(Schema):
    from_date: str
    to_date: str
    data: list[FeatureUsage] = Field(description="Most credits spent first")


class DeveloperUsageList(Schema):
    from_date: str
    to_date: str
    data: list[DeveloperUsage] = Field(description="Most credits spent first")


class DaySpent(Schema):
    date: str
    spent: CreditsOut


class FeatureSpent(Schema):
    feature: str
    spent: CreditsOut
    calls: int


class UsageSummary(Schema):
    wallet_id: str
    from_date: str
    to_date: str
    by_day: list[DaySpent] = Field(description="Every day of the range, oldest first, zeros included")
    by_feature: list[FeatureSpent] = Field(description="Most credits spent first")


class TransactionOut(EntryOut):
    """A ledger entry as history shows it, with the wallet it belongs to and the developer it paid."""

    wallet_id: str
    developer_id: str | None = None


class TransactionPage(Schema):
    data: list[TransactionOut]
    next_cursor: str | None = Field(default=None, description="Pass as cursor for the next page; null at the end")


__all__ = [
    "IN_SOURCES",
    "OUT_KINDS",
    "AnalyticsOut",
    "CreditsIn",
    "CreditsOutBy",
    "DaySpent",
    "DeveloperUsage",
    "DeveloperUsageList",
    "FeatureSpent",
    "FeatureUsage",
    "FeatureUsageList",
    "Figures",
    "GroupBy",
    "Money",
    "Point",
    "TransactionOut",
    "TransactionPage",
    "UsageSummary",
]
