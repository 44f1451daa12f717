from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from tollgate.purchases.schemas import Currency, PackageId
from tollgate.schemas import CreditsOut, OptionalCreditsOut, PositiveCredits, RequestModel, Schema, exactly_one_group

SetupIntentId = Annotated[str, Field(min_length=6, max_length=255, pattern=r"^seti_[A-Za-z0-9_]+$",
                                     examples=["seti_1Q2w3E4r5T6y"])]


class CardSetupOut(Schema):
    setup_intent_id: str
    client_secret: str = Field(description="Confirm it in the browser with Stripe.js (confirmCardSetup), then "
                                           "PUT /v1/wallet/payment-method with the setup_intent_id")


class SavedCardIn(RequestModel):
    setup_intent_id: SetupIntentId


class CardOut(Schema):
    brand: str | None = None
    last4: str | None = None


class AutoTopUpIn(RequestModel):
    """Turn auto top-up on (a saved card needed) or off. Give ``package_id`` or ``credits``, exactly one."""

    model_config = ConfigDict(json_schema_extra=exactly_one_group(("package_id",), ("credits",)))

    enabled: bool
    threshold: PositiveCredits = Field(description="Charge the card when available falls below this")
    package_id: PackageId | None = Field(default=None, description="Buy this package each time")
    credits: PositiveCredits | None = Field(default=None, description="Or this many credits each time")
    monthly_limit: PositiveCredits = Field(description="At most this many credits bought a calendar month (UTC)")
    currency: Currency = "USD"

    @model_validator(mode="after")
    def _one_of(self) -> AutoTopUpIn:
        if (self.package_id is None) == (self.credits is None):
            raise ValueError("give package_id or credits (exactly one)")
        return self


class AutoTopUpOut(Schema):
    wallet_id: str
    enabled: bool
    threshold: OptionalCreditsOut = None
    package_id: str | None = None
    credits: OptionalCreditsOut = Field(default=None, description="Credits bought each time (the package's, or "
                                                                  "the custom amount)")
    monthly_limit: OptionalCreditsOut = None
    currency: str
    card: CardOut | None = Field(default=None, description="The saved card (kept at Stripe); null: none yet")
    charged_this_month: CreditsOut = 0
    disabled_reason: str | None = Field(default=None, description="Why it was turned off (a declined card)")
    updated_at: str | None = None
