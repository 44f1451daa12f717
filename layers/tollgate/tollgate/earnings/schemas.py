from __future__ import annotations

from tollgate.schemas import CreditsOut, Schema


class FeatureEarnings(Schema):
    feature: str
    earned: CreditsOut
    calls: int


class DayEarnings(Schema):
    date: str
    earned: CreditsOut


class EarningsOut(Schema):
    """A developer's earnings in credits. ``earned = pending + available + in_payout + paid``;
    ``available`` is negative when reversals exceed what is left to pay out."""

    developer_id: str
    earned: CreditsOut
    pending: CreditsOut
    available: CreditsOut
    in_payout: CreditsOut
    paid: CreditsOut
    hold_days: int
    currency_rates: dict[str, str]  # minor units per credit, by payout currency
    by_feature: list[FeatureEarnings]  # all time, most earned first
    by_day: list[DayEarnings]  # the last 30 UTC days, oldest first
