"""The reconciliation job's runs and findings, as the admin routes show them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tollgate.schemas import Schema

FindingKind = Literal["ledger_sum", "holds_sum", "available", "grants_sum", "earnings", "payout", "refund"]
RunStatus = Literal["running", "completed", "partial"]
RUN_ID_PATTERN = r"^rec_[a-z2-7]{1,60}$"


class RunOut(Schema):
    run_id: str
    source: Literal["schedule", "manual"]
    status: RunStatus = Field(description="completed: every changed wallet and developer up to now was checked; "
                                          "partial: the run reached its bound, the next run goes on where it stopped")
    complete: bool
    days: dict[str, int] = Field(description="Each UTC day read, and how many wallets and developers of it were "
                                             "checked")
    wallets_checked: int
    developers_checked: int
    findings: int = Field(description="Discrepancies this run saw (the ReconciliationFindings metric): 0 when clean")
    new_findings: int = Field(description="Of them, those not recorded by an earlier run")
    checkpoint: str | None = Field(description="The last UTC day checked completely after this run")
    started_at: str
    finished_at: str | None


class FindingOut(Schema):
    finding_id: str
    at: str = Field(description="When it was first seen (UTC)")
    run_id: str = Field(description="The run that first saw it")
    kind: FindingKind = Field(description="ledger_sum: the entries do not sum to the balance; holds_sum: the open "
                                          "holds do not sum to reserved; available: available is not balance - "
                                          "reserved (or is negative); grants_sum: the grants' remaining credits do "
                                          "not sum to the balance; earnings: a developer's earnings balance does not "
                                          "add up (earned = pending + available + in_payout + paid, and the "
                                          "earnings log sums to each); payout / refund: a paid, failed or "
                                          "reversed payout, or a succeeded refund, whose workflow did not "
                                          "record the gateway's side (detail says what is missing; "
                                          "expected_mc its credits, actual_mc 0)")
    wallet_id: str | None
    developer_id: str | None
    expected_mc: int = Field(description="What the figure should be, in millicredits")
    actual_mc: int = Field(description="What it is, in millicredits")
    detail: str | None = Field(description="Which figure, where more than one is compared")


class FindingPage(Schema):
    data: list[FindingOut] = Field(description="Newest first")
    next_cursor: str | None = None


__all__ = ["RUN_ID_PATTERN", "FindingKind", "FindingOut", "FindingPage", "RunOut", "RunStatus"]
