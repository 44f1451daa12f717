"""What one wallet's ledger entries add to the aggregates: counters by day, worked out in memory.

The stream consumer hands each entry it attributes (exactly once, in commit order, see
``tollgate.grants.stream``) to its wallet's :class:`WalletTally`; the tallies of a batch are
written together with the wallets' grant books, in one transaction, so they count once whatever
the redelivery (``tollgate.analytics.repository.Delta``).

Counter names (attributes of the aggregate items; credits are millicredits, money minor units):

* ``in:<type>`` / ``out:<type>``: credits an entry type added to / took from wallets;
* ``purchases``, ``debits``: purchase and usage entries;
* ``rev:<CUR>:<gateway>``: money paid for purchases; ``refund:<CUR>``: money refunded (a failed
  refund's reversal takes it off); ``chargeback:<CUR>``: money clawed back by disputes;
* ``active`` / ``active_month``: wallets whose first usage of the day / of the month this is
  (from the book's ``usage_day``), so distinct wallets per day and per month are sums.

Per feature and per developer: ``spent``, ``calls``. Per wallet and day: ``spent``, ``calls``,
and ``spent:<feature>``, ``calls:<feature>``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tollgate.ledger.models import LedgerEntryItem


def _minor(metadata: dict[str, Any], name: str) -> int | None:
    value = metadata.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _currency(metadata: dict[str, Any]) -> str | None:
    value = metadata.get("currency")
    return value.upper() if isinstance(value, str) and value else None


@dataclass
class WalletTally:
    """One wallet's counters by day since its book was last written."""

    wallet_id: str
    totals: dict[str, Counter[str]] = field(default_factory=dict)  # day -> counters
    features: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # (day, feature)
    developers: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # (day, developer)
    usage_days: dict[str, Counter[str]] = field(default_factory=dict)  # day -> the wallet's usage

    def __bool__(self) -> bool:
        return bool(self.totals)

    def add(self, entry: LedgerEntryItem, usage_day: str | None) -> str | None:
        """Count one entry; returns the wallet's last usage day after it (the book keeps it)."""
        day = entry.created_at[:10]
        totals = self.totals.setdefault(day, Counter())
        amount = entry.amount
        if amount > 0:
            totals[f"in:{entry.type}"] += amount
        elif amount < 0:
            totals[f"out:{entry.type}"] += -amount
        metadata = dict(entry.metadata or {})
        currency = _currency(metadata)
        if entry.type == "purchase":
            totals["purchases"] += 1
            paid = _minor(metadata, "amount")
            if currency and paid:
                totals[f"rev:{currency}:{metadata.get('gateway') or 'unknown'}"] += paid
        elif entry.type in ("refund", "chargeback", "refund_reversal"):
            minor = _minor(metadata, "refunded_minor")
            if currency and minor:
                if entry.type == "chargeback":
                    totals[f"chargeback:{currency}"] += minor
                else:
                    totals[f"refund:{currency}"] += -minor if entry.type == "refund_reversal" else minor
        elif entry.type == "usage":
            spent = -amount
            totals["debits"] += 1
            if usage_day is None or day > usage_day:
                totals["active"] += 1
                if usage_day is None or day[:7] != usage_day[:7]:
                    totals["active_month"] += 1
                usage_day = day
            mine = self.usage_days.setdefault(day, Counter())
            mine["spent"] += spent
            mine["calls"] += 1
            if entry.feature:
                mine[f"spent:{entry.feature}"] += spent
                mine[f"calls:{entry.feature}"] += 1
                feature = self.features.setdefault((day, entry.feature), Counter())
                feature["spent"] += spent
                feature["calls"] += 1
            if entry.developer_id:
                developer = self.developers.setdefault((day, entry.developer_id), Counter())
                developer["spent"] += spent
                developer["calls"] += 1
        return usage_day

    def size(self) -> int:
        """Items this tally writes: its usage days and the aggregate items it touches."""
        return len(self.usage_days) + len(self.totals) + len(self.features) + len(self.developers)


__all__ = ["WalletTally"]
