from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tollgate.schemas import CreditsOut, NonNegativeCredits, PositiveCredits, RequestModel, Schema


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


__all__ = ["RolloverIn", "TierIn", "TierList", "TierOut"]
