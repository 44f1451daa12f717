from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from tollgate.pricing.rules import PricingRule
from tollgate.schemas import (
    CreditsOut,
    NonNegativeCredits,
    RequestModel,
    Schema,
    integer,
)


class PerCallPricing(RequestModel):
    type: Literal["per_call"]
    credits: NonNegativeCredits


class PerUnitPricing(RequestModel):
    type: Literal["per_unit"]
    credits: NonNegativeCredits


class PerTokenPricing(RequestModel):
    type: Literal["per_token"]
    input_credits: NonNegativeCredits
    output_credits: NonNegativeCredits


PricingIn = Annotated[PerCallPricing | PerUnitPricing | PerTokenPricing, Field(discriminator="type")]


def rule_from_schema(p: PerCallPricing | PerUnitPricing | PerTokenPricing) -> PricingRule:
    if isinstance(p, PerTokenPricing):
        return PricingRule(type="per_token", input_mc=p.input_credits, output_mc=p.output_credits)
    return PricingRule(type=p.type, credits_mc=p.credits)


class FeatureIn(RequestModel):
    # A revenue share is paid to someone: revenue_share_bps above 0 needs a developer_id.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"revenue_share_bps": {"const": 0}}},
        {"required": ["developer_id"], "properties": {"developer_id": {"type": "string"}}},
    ]})

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    pricing: PricingIn
    developer_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@|+=-]+$")
    revenue_share_bps: integer(0, 10_000) = 0
    active: bool = True

    @model_validator(mode="after")
    def _share_needs_developer(self) -> FeatureIn:
        if self.revenue_share_bps and not self.developer_id:
            raise ValueError("revenue_share_bps needs a developer_id")
        return self


class PricingOut(Schema):
    type: Literal["per_call", "per_unit", "per_token"]
    credits: CreditsOut | None = None
    input_credits: CreditsOut | None = None
    output_credits: CreditsOut | None = None


class FeatureOut(Schema):
    feature_id: str
    name: str
    description: str | None = None
    pricing: PricingOut
    developer_id: str | None = None
    revenue_share_bps: int | None = None
    active: bool
    created_at: str
    updated_at: str


class FeatureList(Schema):
    data: list[FeatureOut]
