from __future__ import annotations

from typing import Literal

from pydantic import Field

from tollgate.schemas import CreditsOut, PositiveCredits, RequestModel, Schema

RefundStatus = Literal["pending_approval", "approved", "rejected", "processing", "succeeded", "failed"]
IneligibleReason = Literal["not_paid", "window_expired", "already_refunded", "credits_used"]
FailureReason = Literal["credits_used", "already_refunded", "gateway_refused", "gateway_failed"]


class EligibilityOut(Schema):
    eligible: bool
    refundable_credits: CreditsOut = Field(description="Unused credits of the purchase that can come back")
    refundable_amount: int = Field(description="Minor units the refundable credits are worth, rounded down")
    currency: str
    reasons: list[IneligibleReason] = Field(description="Each rule the purchase fails; empty when eligible")
    window_ends_at: str | None = Field(default=None, description="Last moment a refund can be asked for")


class RefundIn(RequestModel):
    credits: PositiveCredits | None = Field(default=None, description="A partial refund; default: all refundable")
    reason: str = Field(min_length=1, max_length=500)


class DecisionIn(RequestModel):
    note: str | None = Field(default=None, min_length=1, max_length=500)


class RefundStep(Schema):
    name: str
    status: str
    at: str
    error: str | None = None


class RefundOut(Schema):
    refund_id: str
    purchase_id: str
    wallet_id: str
    status: RefundStatus
    credits: CreditsOut
    amount: int = Field(description="Minor units")
    currency: str
    gateway: str
    reason: str
    requested_by: str
    decided_by: str | None = None
    decision_note: str | None = None
    failure_reason: FailureReason | None = None
    failure: str | None = None
    gateway_refund_id: str | None = None
    steps: list[RefundStep]
    created_at: str
    updated_at: str
    refunded_at: str | None = None


class RefundList(Schema):
    data: list[RefundOut]
    next_cursor: str | None = None


__all__ = ["DecisionIn", "EligibilityOut", "RefundIn", "RefundList", "RefundOut"]
