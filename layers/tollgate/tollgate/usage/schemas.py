"""The usage API's shapes, and turning a request's measure into a pricing Measurement."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from tollgate.ledger.schemas import Metadata
from tollgate.pricing.exceptions import InvalidUsage
from tollgate.pricing.rules import Measurement
from tollgate.schemas import (
    CreditsOut,
    FeatureId,
    PositiveCredits,
    RequestModel,
    Schema,
    StrictCount,
    StrictPositiveCount,
    WalletId,
    at_most_one,
    exactly_one_group,
)


class UsageMeasure(RequestModel):
    """Token usage, given as tokens or as characters (4 per token); never both."""

    model_config = ConfigDict(json_schema_extra=exactly_one_group(("input_tokens", "output_tokens"),
                                                                  ("input_chars", "output_chars")))

    input_tokens: StrictCount | None = None
    output_tokens: StrictCount | None = None
    input_chars: StrictCount | None = None
    output_chars: StrictCount | None = None

    @model_validator(mode="after")
    def _one_form(self) -> UsageMeasure:
        tokens = self.input_tokens is not None or self.output_tokens is not None
        chars = self.input_chars is not None or self.output_chars is not None
        if tokens and chars:
            raise ValueError("give usage as tokens or as characters, not both")
        if not tokens and not chars:
            raise ValueError("usage needs input/output tokens or characters")
        return self


def measurement(quantity: int | None, usage: UsageMeasure | None) -> Measurement:
    if usage is None:
        return Measurement(quantity=quantity)
    if quantity is not None:
        raise InvalidUsage("give quantity or usage, not both")
    return Measurement(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        input_chars=usage.input_chars,
        output_chars=usage.output_chars,
    )


Quantity = StrictPositiveCount


class UsageIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=at_most_one("quantity", "usage"))

    feature: FeatureId
    wallet_id: WalletId | None = None
    quantity: Quantity | None = None
    usage: UsageMeasure | None = None
    amount: PositiveCredits | None = Field(
        default=None, description="Server API keys only: charge this instead of the catalog price."
    )
    metadata: Metadata = None


class ReversalIn(RequestModel):
    reason: str = Field(min_length=1, max_length=500)
    credits: PositiveCredits | None = Field(
        default=None, description="Credits to give back; default: all that is not yet given back."
    )


class UsageOut(Schema):
    transaction_id: str
    wallet_id: str
    feature: str
    cost: CreditsOut
    balance: CreditsOut
    available: CreditsOut
