from __future__ import annotations

from pydantic import Field

from tollgate.schemas import CreditsOut, OptionalCreditsOut, PositiveCredits, RequestModel, Schema


class WalletAlertsIn(RequestModel):
    low_balance: PositiveCredits | None = Field(  # type: ignore[valid-type]
        description="Tell the platform (credits.low) when available falls below this; null: no alert")


class WalletAlertsOut(Schema):
    wallet_id: str
    low_balance: OptionalCreditsOut = Field(description="The threshold; null: no alert")
    available: CreditsOut
    below_low_balance: bool = Field(description="available is below low_balance now")
