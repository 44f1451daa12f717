from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from tollgate.schemas import CreditsOut, PositiveCredits, RequestModel, Schema, given

PayoutGateway = Literal["stripe", "paystack"]
PayoutStatus = Literal["requested", "reserved", "awaiting_confirmation", "paid", "failed", "reversed"]
AccountStatus = Literal["onboarding", "active"]
_BANK = ("bank_code", "account_number", "account_name")


class PayoutAccountIn(RequestModel):
    """``{"gateway": "stripe"}``, or Paystack with the Nigerian bank account to pay."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"properties": {"gateway": {"const": "stripe"}}, "not": {"anyOf": [given(name) for name in _BANK]}},
        {"properties": {"gateway": {"const": "paystack"}}, "allOf": [given(name) for name in _BANK]},
    ]})

    gateway: PayoutGateway
    bank_code: Annotated[str, Field(pattern=r"^[0-9]{3,6}$", description="Paystack: the bank's code")] | None = None
    account_number: Annotated[str, Field(pattern=r"^[0-9]{10}$", description="Paystack: NUBAN")] | None = None
    account_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _bank_for_paystack_only(self) -> PayoutAccountIn:
        given = [self.bank_code, self.account_number, self.account_name]
        if self.gateway == "paystack" and None in given:
            raise ValueError("Paystack needs bank_code, account_number and account_name")
        if self.gateway == "stripe" and any(v is not None for v in given):
            raise ValueError("Stripe collects bank details itself: send only the gateway")
        return self


class PayoutAccountOut(Schema):
    gateway: PayoutGateway
    status: AccountStatus
    currency: str
    onboarding_url: str | None = None  # Stripe, while onboarding
    recipient_code: str | None = None  # Paystack
    details: dict[str, str] = Field(default_factory=dict)
    auto: bool = False


class PayoutSettingsIn(RequestModel):
    auto: bool = Field(description="Pay out everything available every Monday (06:00 UTC)")


class PayoutSettingsOut(Schema):
    auto: bool


class PayoutIn(RequestModel):
    credits: PositiveCredits | None = Field(default=None, description="Default: everything available")


class PayoutStep(Schema):
    name: str
    status: str
    at: str
    error: str | None = None


class PayoutOut(Schema):
    payout_id: str
    developer_id: str
    status: PayoutStatus
    credits: CreditsOut
    amount: int  # minor units
    currency: str
    gateway: PayoutGateway
    failure: str | None = None
    steps: list[PayoutStep]
    created_at: str
    updated_at: str
    paid_at: str | None = None


class PayoutList(Schema):
    data: list[PayoutOut]
    next_cursor: str | None = None


__all__ = ["PayoutAccountIn", "PayoutAccountOut", "PayoutIn", "PayoutList", "PayoutOut", "PayoutSettingsIn",
           "PayoutSettingsOut"]
