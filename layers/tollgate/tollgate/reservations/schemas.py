from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tollgate.ledger.schemas import Metadata
from tollgate.pricing.schemas import Quantity, UsageMeasure
from tollgate.schemas import CreditsOut, FeatureId, NonNegativeCredits, OptionalCreditsOut, PositiveCredits, WalletId

TtlSeconds = Annotated[int, Field(strict=True, ge=1, le=3600)]
ReservationStatus = Literal["open", "settled", "released", "expired"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReservationIn(_Strict):
    feature: FeatureId
    wallet_id: WalletId | None = None
    max_credits: PositiveCredits | None = None
    usage: UsageMeasure | None = Field(default=None, description="Estimated usage; the hold is its cost.")
    quantity: Quantity | None = None
    ttl_seconds: TtlSeconds | None = Field(default=None, description="1-3600 seconds; default 300.")
    metadata: Metadata = None


class ReservationOut(BaseModel):
    reservation_id: str
    wallet_id: str
    feature: str
    held: CreditsOut
    expires_at: str
    available: CreditsOut
    status: ReservationStatus


class SettleIn(_Strict):
    usage: UsageMeasure | None = None
    quantity: Quantity | None = None
    amount: NonNegativeCredits | None = Field(default=None, description="Server API keys only: the actual cost.")
    metadata: Metadata = None


class SettleOut(BaseModel):
    reservation_id: str
    transaction_id: str
    cost: CreditsOut
    released: CreditsOut
    capped: bool
    requested_cost: CreditsOut
    balance: CreditsOut


class ReleaseOut(BaseModel):
    reservation_id: str
    released: CreditsOut


class ReservationView(BaseModel):
    reservation_id: str
    wallet_id: str
    feature: str
    held: CreditsOut
    status: ReservationStatus
    created_at: str
    expires_at: str
    cost: OptionalCreditsOut = None
    transaction_id: str | None = None
