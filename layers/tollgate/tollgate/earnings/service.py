"""What a developer has earned, as they (or an admin) read it: matured on paper, never written."""

from __future__ import annotations

from datetime import timedelta

from tollgate.earnings import maturity, repository
from tollgate.earnings.models import DeveloperEarningsItem
from tollgate.earnings.schemas import DayEarnings, EarningsOut, FeatureEarnings
from tollgate.purchases import catalog

BY_DAY_DAYS = 30


def earnings(developer_id: str) -> EarningsOut:
    """One GetItem and two Queries (days, features); days due to mature count as available."""
    settings = catalog.settings()
    today = maturity.today()
    first = (today - timedelta(days=BY_DAY_DAYS - 1)).isoformat()
    balance = repository.get_balance(developer_id) or DeveloperEarningsItem(developer_id=developer_id)
    since = min(first, maturity.next_day(balance.matured_through))
    days = repository.days(developer_id, since, today.isoformat()) if balance.seq else []
    split = maturity.split(balance, days, maturity.cutoff(settings.earnings_hold_days))
    per_day = {d.day: d.earned for d in days}
    features = sorted(repository.features(developer_id) if balance.seq else [],
                      key=lambda f: (-f.earned, f.feature))
    return EarningsOut(
        developer_id=developer_id,
        earned=balance.earned,
        pending=split.pending,
        available=split.available,
        in_payout=balance.in_payout,
        paid=balance.paid,
        hold_days=settings.earnings_hold_days,
        currency_rates=dict(settings.payout_rates),
        by_feature=[FeatureEarnings(feature=f.feature, earned=f.earned, calls=f.calls) for f in features],
        by_day=[DayEarnings(date=day, earned=per_day.get(day, 0))
                for day in ((today - timedelta(days=n)).isoformat() for n in range(BY_DAY_DAYS - 1, -1, -1))],
    )
