from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tollgate.schemas import SLUG_PATTERN, CreditsOut, NonNegativeCredits, PositiveCredits, RequestModel, Schema


class NoRollover(RequestModel):
    type: Literal["none"]


class CappedRollover(RequestModel):
    type: Literal["cap"]
    credits: PositiveCredits = Field(description="At most this much of an unused allocation carries over")


RolloverIn = Annotated[NoRollover | CappedRollover, Field(discriminator="type")]


class TierIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    monthly_credits: NonNegativeCredits = Field(description="Allocated on the 1st of every month (UTC)")
    rollover: RolloverIn = Field(default_factory=lambda: NoRollover(type="none"))
    active: bool = True


class RolloverOut(Schema):
    type: Literal["none", "cap"]
    credits: CreditsOut | None = None


class TierOut(Schema):
    tier_id: str
    name: str
    monthly_credits: CreditsOut
    rollover: RolloverOut
    active: bool
    created_at: str
    updated_at: str


class TierList(Schema):
    data: list[TierOut]


TierId = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)]


class WalletTierIn(RequestModel):
    tier_id: TierId | None = Field(description="The tier to subscribe the wallet to; null ends its subscription")


class WalletTierOut(Schema):
    wallet_id: str
    tier_id: str | None
    period: str = Field(description="This month (UTC), YYYY-MM")
    allocated: CreditsOut = Field(description="Credited by this request: this month's allocation, if not made yet")
    next_allocation_at: str | None = Field(description="When the next monthly allocation is due (none without a tier)")


AllocationRunStatus = Literal["running", "completed", "completed_with_failures", "failed"]


class AllocationRunIn(RequestModel):
    period: str | None = Field(default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                               description="The month to allocate, YYYY-MM (this month or an earlier one); "
                                           "default this month")


class AllocationRunOut(Schema):
    run_id: str
    period: str
    source: Literal["schedule", "manual", "workflow"]
    status: AllocationRunStatus
    started_by: str
    allocated: int = Field(description="Wallets this run credited")
    skipped: int = Field(description="Wallets allocated already this period (by an assignment or another run), "
                                     "or on an inactive or empty tier")
    failed: int = Field(description="Wallets whose allocation failed: run the period again to retry them alone")
    credits_allocated: CreditsOut
    failed_wallets: dict[str, str] = Field(description="Failed wallets and why (at most 50)")
    error: str | None = Field(description="Why the run stopped, if it did")
    started_at: str
    finished_at: str | None


class AllocationRunList(Schema):
    data: list[AllocationRunOut]


__all__ = ["AllocationRunIn", "AllocationRunList", "AllocationRunOut", "AllocationRunStatus", "RolloverIn", "TierIn",
           "TierList", "TierOut", "WalletTierIn", "WalletTierOut"]
