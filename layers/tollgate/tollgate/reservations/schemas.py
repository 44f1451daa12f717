from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from tollgate.ledger.schemas import Metadata
from tollgate.schemas import (
    CreditsOut,
    FeatureId,
    NonNegativeCredits,
    OptionalCreditsOut,
    PositiveCredits,
    RequestModel,
    Schema,
    WalletId,
    at_most_one,
    integer,
)
from tollgate.usage.schemas import Quantity, UsageMeasure

TtlSeconds = integer(1, 3600)
ReservationStatus = Literal["open", "settled", "released", "expired"]


class ReservationIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=at_most_one("max_credits", "usage", "quantity"))

    feature: FeatureId
    wallet_id: WalletId | None = None
    max_credits: PositiveCredits | None = None
    usage: UsageMeasure | None = Field(default=None, description="Estimated usage; the hold is its cost.")
    quantity: Quantity | None = None
    ttl_seconds: TtlSeconds | None = Field(default=None, description="1-3600 seconds; default 300.")
    metadata: Metadata = None


class ReservationOut(Schema):
    reservation_id: str
    wallet_id: str
    feature: str
    held: CreditsOut
    expires_at: str
    available: CreditsOut
    status: ReservationStatus


class SettleIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=at_most_one("quantity", "usage"))

    usage: UsageMeasure | None = None
    quantity: Quantity | None = None
    amount: NonNegativeCredits | None = Field(default=None, description="Server API keys only: the actual cost.")
    metadata: Metadata = None


class SettleOut(Schema):
    reservation_id: str
    transaction_id: str
    cost: CreditsOut
    released: CreditsOut
    capped: bool
    requested_cost: CreditsOut
    balance: CreditsOut


class ReleaseOut(Schema):
    reservation_id: str
    released: CreditsOut


class ReservationView(Schema):
    reservation_id: str
    wallet_id: str
    feature: str
    held: CreditsOut
    status: ReservationStatus
    created_at: str
    expires_at: str
    cost: OptionalCreditsOut = None
    transaction_id: str | None = None
