"""Analytics from the aggregates alone: platform figures and series, top features and developers,
and a wallet's usage summary. Every read is a bounded number of Queries of aggregate items
(``tollgate.analytics.repository``), never the ledger."""

from __future__ import annotations

from collections import Counter

from tollgate import keys
from tollgate.analytics import repository
from tollgate.analytics.schemas import (
    IN_SOURCES,
    OUT_KINDS,
    AnalyticsOut,
    CreditsIn,
    CreditsOutBy,
    DaySpent,
    DeveloperUsage,
    DeveloperUsageList,
    FeatureSpent,
    FeatureUsage,
    FeatureUsageList,
    Figures,
    GroupBy,
    Money,
    Point,
    UsageSummary,
)
from tollgate.days import DayRange, last_days


def _side(counters: Counter[str], prefix: str, known: tuple[str, ...]) -> dict[str, int]:
    amounts = {name[len(prefix):]: value for name, value in counters.items() if name.startswith(prefix)}
    side = {kind: amounts.get(kind, 0) for kind in known}
    side["other"] = sum(v for k, v in amounts.items() if k not in known)
    side["total"] = sum(amounts.values())
    return side


def _money(counters: Counter[str], prefix: str, with_gateway: bool) -> list[Money]:
    out = []
    for name, value in sorted(counters.items()):
        if name.startswith(prefix) and value:
            parts = name[len(prefix):].split(":", 1)
            out.append(Money(currency=parts[0], gateway=parts[1] if with_gateway and len(parts) > 1 else None,
                             amount_minor=value))
    return out


def figures(counters: Counter[str]) -> dict[str, object]:
    return {
        "credits_in": CreditsIn(**_side(counters, "in:", IN_SOURCES)),
        "credits_out": CreditsOutBy(**_side(counters, "out:", OUT_KINDS)),
        "revenue": _money(counters, "rev:", True),
        "refunds": _money(counters, "refund:", False),
        "chargebacks": _money(counters, "chargeback:", False),
        "purchases": counters["purchases"],
        "debits": counters["debits"],
    }


def analytics(days: DayRange, group_by: GroupBy) -> AnalyticsOut:
    """Totals over the range and one point per day or month of it (zeros included)."""
    daily = repository.daily_totals(days)
    totals: Counter[str] = Counter()
    buckets: dict[str, Counter[str]] = {}
    for day in days.each():
        counters = daily.get(day, Counter())
        totals.update(counters)
        period = day if group_by == "day" else day[:7]
        bucket = buckets.setdefault(period, Counter())
        bucket.update(counters)
    series = [Point(period=period, active_wallets=c["active"] if group_by == "day" else c["active_month"],
                    **figures(c)) for period, c in buckets.items()]
    return AnalyticsOut(from_date=days.first.isoformat(), to_date=days.last.isoformat(), group_by=group_by,
                        totals=Figures(**figures(totals)), series=series)


def _ranked(found: dict[str, Counter[str]], limit: int) -> list[tuple[str, Counter[str]]]:
    return sorted(found.items(), key=lambda kv: (-kv[1]["spent"], -kv[1]["calls"], kv[0]))[:limit]


def top_features(days: DayRange, limit: int) -> FeatureUsageList:
    ranked = _ranked(repository.named_totals(days, keys.AGG_FEATURE), limit)
    return FeatureUsageList(from_date=days.first.isoformat(), to_date=days.last.isoformat(),
                            data=[FeatureUsage(feature=k, spent=c["spent"], calls=c["calls"]) for k, c in ranked])


def top_developers(days: DayRange, limit: int) -> DeveloperUsageList:
    ranked = _ranked(repository.named_totals(days, keys.AGG_DEVELOPER), limit)
    return DeveloperUsageList(from_date=days.first.isoformat(), to_date=days.last.isoformat(),
                              data=[DeveloperUsage(developer_id=k, spent=c["spent"], calls=c["calls"])
                                    for k, c in ranked])


def usage_summary(wallet_id: str, days: int) -> UsageSummary:
    """A wallet's usage by day (each of the last ``days``, today included) and by feature: one Query."""
    window = last_days(days)
    found = repository.usage_days(wallet_id, window)
    by_feature: dict[str, Counter[str]] = {}
    for counters in found.values():
        for name, value in counters.items():
            kind, _, feature = name.partition(":")
            if feature and kind in ("spent", "calls"):
                by_feature.setdefault(feature, Counter())[kind] += value
    return UsageSummary(
        wallet_id=wallet_id, from_date=window.first.isoformat(), to_date=window.last.isoformat(),
        by_day=[DaySpent(date=day, spent=found.get(day, Counter())["spent"]) for day in window.each()],
        by_feature=[FeatureSpent(feature=k, spent=c["spent"], calls=c["calls"]) for k, c in _ranked(by_feature, 1000)],
    )


__all__ = ["analytics", "figures", "top_developers", "top_features", "usage_summary"]
