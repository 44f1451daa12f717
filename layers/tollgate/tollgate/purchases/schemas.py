from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from tollgate.amounts import format_credits
from tollgate.schemas import (
    SLUG_PATTERN,
    CreditsOut,
    NonNegativeCredits,
    PositiveCredits,
    RequestModel,
    Schema,
    exactly_one_group,
    integer,
)

CURRENCY_PATTERN = r"^[A-Z]{3}$"
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, description="ISO 4217, upper case")]
MinorUnits = integer(1, 100_000_000_000, description="Minor units (cents, kobo)")


def currency_amounts(*, min_currencies: int) -> Any:
    """``{"USD": 1000, "NGN": 1500000}``: minor units by ISO 4217 currency.

    Published as exactly that (pydantic's own schema would admit any other key with any value).
    """
    schema = {
        "type": "object", "minProperties": min_currencies, "propertyNames": {"pattern": CURRENCY_PATTERN},
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 100_000_000_000},
    }
    return Annotated[dict[Currency, MinorUnits], Field(min_length=min_currencies),
                     WithJsonSchema(schema, mode="validation")]
PackageId = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
GatewayName = Literal["stripe", "paystack"]
PurchaseStatus = Literal["pending", "paid", "failed", "refunded", "partially_refunded", "disputed"]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
# What developers are paid in: Stripe Connect pays USD, Paystack NGN.
PayoutCurrency = Literal["USD", "NGN"]
# Minor units per credit, exact to 0.001 and above zero: "1.5" is one and a half cents per credit.
PAYOUT_RATE_PATTERN = r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,3})?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$"
PayoutRate = Annotated[str, Field(pattern=PAYOUT_RATE_PATTERN, examples=["1.5"])]


class PackageIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    credits: PositiveCredits
    prices: currency_amounts(min_currencies=1) = Field(description='e.g. {"USD": 1000, "NGN": 1500000}')
    active: bool = True


class PackageOut(Schema):
    package_id: str
    name: str
    description: str | None = None
    credits: CreditsOut
    prices: dict[str, int]
    active: bool
    created_at: str
    updated_at: str


class PackageList(Schema):
    data: list[PackageOut]


def _credits_default(millicredits: int) -> dict[str, Any]:
    """A credits field's default as the API takes and shows it (a decimal string), not the
    millicredits it is held in."""
    return {"default": format_credits(millicredits)}


class SettingsIn(RequestModel):
    price_per_credit: currency_amounts(min_currencies=0) = Field(
        default_factory=dict, description='Minor units per credit for custom amounts, e.g. {"USD": 10}'
    )
    min_credits: PositiveCredits = Field(default=1000, json_schema_extra=_credits_default(1000),
                                         description="Smallest custom checkout, in credits")
    max_credits: PositiveCredits = Field(default=1_000_000_000, json_schema_extra=_credits_default(1_000_000_000),
                                         description="Largest checkout, in credits")
    checkouts_per_hour: integer(1, 10_000) = Field(default=20, description="Per user")
    stripe_hosted_checkout: bool = Field(default=False, description="Stripe: hosted Checkout Session URL too")
    success_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    cancel_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    paystack_callback_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    earnings_hold_days: integer(0, 365) = Field(
        default=7, description="Days a developer's earnings stay pending before they can be paid out")
    payout_rates: dict[PayoutCurrency, PayoutRate] = Field(
        default_factory=dict, description='Minor units paid per credit earned, e.g. {"USD": "0.8", "NGN": "12"}')
    payout_minimums: dict[PayoutCurrency, MinorUnits] = Field(
        default_factory=dict, description='Smallest payout, in minor units, e.g. {"USD": 1000}')
    refund_window_days: integer(0, 3650) = Field(
        default=14, description="Days after payment during which a purchase's unused credits can be refunded")
    refund_auto_approve_credits: NonNegativeCredits = Field(
        default=100_000, json_schema_extra=_credits_default(100_000),
        description="A user's refund request for more credits than this waits for an admin")
    service_reversal_window_seconds: integer(0, 86_400) = Field(
        default=900, description="How long after a debit the service API key that made it may reverse it")

    @model_validator(mode="after")
    def _limits(self) -> SettingsIn:
        if self.min_credits > self.max_credits:
            raise ValueError("min_credits must not exceed max_credits")
        if self.stripe_hosted_checkout and not self.success_url:
            # Stripe's hosted page sends the payer back there: without one every Stripe checkout would fail.
            raise ValueError("stripe_hosted_checkout needs a success_url")
        return self


class SettingsOut(Schema):
    price_per_credit: dict[str, int]
    min_credits: CreditsOut
    max_credits: CreditsOut
    checkouts_per_hour: int
    stripe_hosted_checkout: bool
    success_url: str | None = None
    cancel_url: str | None = None
    paystack_callback_url: str | None = None
    earnings_hold_days: int
    payout_rates: dict[str, str]
    payout_minimums: dict[str, int]
    refund_window_days: int
    refund_auto_approve_credits: CreditsOut
    service_reversal_window_seconds: int
    updated_at: str | None = None


class CheckoutIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=exactly_one_group(("package_id",), ("credits",)))

    package_id: PackageId | None = None
    credits: PositiveCredits | None = None
    gateway: GatewayName
    currency: Currency
    email: Email | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CheckoutIn:
        if (self.package_id is None) == (self.credits is None):
            raise ValueError("give package_id or credits (exactly one)")
        return self


class PurchaseOut(Schema):
    purchase_id: str
    status: PurchaseStatus
    gateway: str
    amount: int = Field(description="Minor units")
    currency: str
    credits: CreditsOut
    wallet_id: str
    package_id: str | None = None
    created_at: str
    paid_at: str | None = None
    reference: str | None = None
    client_secret: str | None = Field(default=None, description="Stripe: confirm the PaymentIntent with Stripe.js")
    checkout_url: str | None = Field(default=None, description="Stripe: hosted Checkout Session (if enabled)")
    authorization_url: str | None = Field(default=None, description="Paystack: redirect the payer here")
    refunded_amount: int = 0
    credits_clawed_back: CreditsOut = 0
    credits_unrecovered: CreditsOut = 0
    flagged: str | None = Field(default=None, description="Why a payment event was not applied (admins)")
    failure_reason: str | None = None


class PurchaseList(Schema):
    data: list[PurchaseOut]
    next_cursor: str | None = None


