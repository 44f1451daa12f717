"""The weekly payout run: every developer with automatic payouts on and enough available.

Each developer's payout is keyed by the ISO week of the schedule's time (``2026-W49``), so
the schedule's retries, overlapping runs or a manual re-run in the same week pay each
developer at most once that week. A developer who cannot be paid now (below the minimum,
a payout still in flight, an account not active) is skipped until next week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tollgate import clock
from tollgate.errors import TollgateError
from tollgate.payouts import repository, service
from tollgate.payouts.schemas import PayoutIn


@dataclass
class RunReport:
    week: str
    started: list[str] = field(default_factory=list)  # payout ids
    already: list[str] = field(default_factory=list)  # this week's, started by an earlier run
    skipped: dict[str, str] = field(default_factory=dict)  # developer id -> why
    failed: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int | str]:
        return {"week": self.week, "started": len(self.started), "already": len(self.already),
                "skipped": len(self.skipped), "failed": len(self.failed)}


def iso_week(when: str | None) -> str:
    """The ISO week (``2026-W49``) of an RFC 3339 time (now when None)."""
    ms = clock.parse_rfc3339(when) if when else clock.now_ms()
    year, week, _ = datetime.fromtimestamp(ms / 1000, tz=UTC).isocalendar()
    return f"{year}-W{week:02d}"


def run(scheduled_at: str | None) -> RunReport:
    report = RunReport(week=iso_week(scheduled_at))
    key = service.weekly_key(report.week)
    start = None
    while True:
        accounts, start = repository.autopayout_developers(start)
        for account in accounts:
            if account.status != "active":
                report.skipped[account.developer_id] = "account not active"
                continue
            existing = repository.get_payout(service.payout_id_for(account.developer_id, key))
            if existing is not None and existing.status != "requested":
                report.already.append(existing.payout_id)
                continue
            try:
                payout = service.request_payout(account.developer_id, PayoutIn(), key, trigger="schedule")
            except TollgateError as exc:
                report.skipped[account.developer_id] = exc.code
                continue
            except Exception as exc:  # noqa: BLE001 - one developer's failure never stops the others'
                report.failed[account.developer_id] = type(exc).__name__
                continue
            report.started.append(payout.payout_id)
        if not start:
            return report
