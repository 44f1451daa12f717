"""The reconciliation job's runs and findings, as the admin routes show them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tollgate.schemas import Schema

FindingKind = Literal["ledger_sum", "holds_sum", "available", "grants_sum", "earnings", "payout", "refund",
                      "payout_gateway", "refund_gateway"]
RunStatus = Literal["running", "completed", "partial"]
RUN_ID_PATTERN = r"^rec_[a-z2-7]{1,60}$"


class RunOut(Schema):
    run_id: str
    source: Literal["schedule", "manual"]
    status: RunStatus = Field(description="completed: every refund and payout that reached a terminal state and "
                                          "every changed wallet and developer up to now was looked at; partial: the "
                                          "run reached its bound, the next run goes on where it stopped")
    complete: bool
    days: dict[str, int] = Field(description="Each UTC day read, and how many wallets and developers of it were "
                                             "checked")
    wallets_checked: int
    developers_checked: int
    refunds_checked: int = Field(description="Refunds that reached a terminal state, checked against their "
                                             "gateway's record")
    payouts_checked: int = Field(description="Payouts that reached a terminal state, checked against their "
                                             "gateway's record")
    gateway_deferred: int = Field(description="Refunds and payouts whose gateway did not answer (unreachable, a "
                                              "timeout, 429, 5xx, not configured): not findings, left for the next "
                                              "run")
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
                                          "reversed payout, or a succeeded or failed refund, whose workflow did "
                                          "not record its steps or the gateway's answer (detail says what is "
                                          "missing; expected_mc its credits, actual_mc 0); payout_gateway / "
                                          "refund_gateway: the gateway's own transfer or refund disagrees with it "
                                          "(status, amount, currency, id or reference), is unknown to the gateway, "
                                          "or no gateway id was recorded (expected_mc: the minor units that moved "
                                          "as Tollgate recorded it, actual_mc: as the gateway reports it; detail "
                                          "names the currency)")
    wallet_id: str | None
    developer_id: str | None
    expected_mc: int = Field(description="What the figure should be, in millicredits (payout_gateway, "
                                         "refund_gateway: minor units of the currency)")
    actual_mc: int = Field(description="What it is, in millicredits (payout_gateway, refund_gateway: minor units)")
    detail: str | None = Field(description="Which figure, where more than one is compared")


class FindingPage(Schema):
    data: list[FindingOut] = Field(description="Newest first")
    next_cursor: str | None = None


__all__ = ["RUN_ID_PATTERN", "FindingKind", "FindingOut", "FindingPage", "RunOut", "RunStatus"]
