"""The API's answers as pydantic models.

Credits are :class:`~decimal.Decimal`, parsed from the API's decimal strings (never through a
float); money in a currency (``amount``) is an integer of minor units, as the API gives it.
Models keep fields the API adds later (``extra="allow"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date as Date
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "Credits",
    "CreditsLike",
    "DayEarnings",
    "DaySpent",
    "Earnings",
    "Entry",
    "Feature",
    "FeatureEarnings",
    "FeatureSpent",
    "Health",
    "Package",
    "Payout",
    "Pricing",
    "Purchase",
    "Refund",
    "RefundEligibility",
    "Release",
    "Reservation",
    "Settlement",
    "Step",
    "UsageResult",
    "UsageSummary",
    "Wallet",
    "WalletGrant",
    "format_credits",
    "to_millicredits",
]

CHARS_PER_TOKEN = 4
CreditsLike = Decimal | int | str
"""What the SDK takes as credits: ``Decimal("12.5")``, ``12`` or ``"12.5"`` (never a float)."""


def _parse_credits(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError("credits are a decimal string, not a float")
    if isinstance(value, Decimal | int | str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        if not parsed.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return parsed
    raise ValueError(f"credits must be a decimal string, got {type(value).__name__}")


Credits = Annotated[Decimal, BeforeValidator(_parse_credits)]


def format_credits(value: CreditsLike) -> str:
    """A credit amount as the API takes it: a plain decimal string (``"12.5"``, ``"100"``)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"credits must be Decimal, int or str (not {type(value).__name__})")
    parsed = _parse_credits(value.strip() if isinstance(value, str) else value)
    text = format(parsed.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def to_millicredits(value: CreditsLike) -> int:
    """Credits as an integer of millicredits, rounded up (the API's unit of arithmetic)."""
    scaled = Decimal(format_credits(value)) * 1000
    return int(scaled.to_integral_value(rounding=ROUND_CEILING))


def _from_millicredits(mc: int) -> Decimal:
    return Decimal(mc).scaleb(-3).normalize() if mc else Decimal(0)


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Health(_Model):
    status: str
    version: str | None = None


class Pricing(_Model):
    """``per_call`` (``credits`` a call), ``per_unit`` (``credits`` x quantity) or ``per_token``."""

    type: Literal["per_call", "per_unit", "per_token"]
    credits: Credits | None = None
    input_credits: Credits | None = None
    output_credits: Credits | None = None

    def cost(self, usage: Mapping[str, int] | None = None, *, quantity: int | None = None) -> Decimal:
        """What the API charges for this usage: exact, in millicredits, rounded up to 0.001.

        ``usage`` is ``{"input_tokens", "output_tokens"}`` or ``{"input_chars", "output_chars"}``
        (4 characters a token); ``quantity`` is the number of calls or units.
        """
        return _from_millicredits(self.cost_mc(usage, quantity=quantity))

    def cost_mc(self, usage: Mapping[str, int] | None = None, *, quantity: int | None = None) -> int:
        usage = dict(usage or {})
        if self.type in ("per_call", "per_unit"):
            if usage:
                raise ValueError(f"this feature is priced {self.type}: give a quantity, not usage")
            if quantity is None and self.type == "per_unit":
                raise ValueError("this feature is priced per_unit: a quantity is needed")
            return to_millicredits(self.credits or 0) * (1 if quantity is None else quantity)
        if quantity is not None:
            raise ValueError("this feature is priced per_token: give usage, not a quantity")
        input_mc, output_mc = to_millicredits(self.input_credits or 0), to_millicredits(self.output_credits or 0)
        tokens = usage.get("input_tokens") is not None or usage.get("output_tokens") is not None
        chars = usage.get("input_chars") is not None or usage.get("output_chars") is not None
        if tokens and chars:
            raise ValueError("give usage as tokens or as characters, not both")
        if chars:
            scaled = (usage.get("input_chars") or 0) * input_mc + (usage.get("output_chars") or 0) * output_mc
            return -(-scaled // CHARS_PER_TOKEN)  # a partial token is charged in full, as the API does
        return (usage.get("input_tokens") or 0) * input_mc + (usage.get("output_tokens") or 0) * output_mc


class Feature(_Model):
    feature_id: str
    name: str
    pricing: Pricing
    active: bool = True
    description: str | None = None
    developer_id: str | None = None
    revenue_share_bps: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Package(_Model):
    package_id: str
    name: str
    credits: Credits
    prices: dict[str, int] = Field(default_factory=dict)
    active: bool = True
    description: str | None = None


class WalletGrant(_Model):
    grant_id: str
    source: str
    remaining: Credits
    expires_at: datetime | None = None
    priority: int = 0


class Wallet(_Model):
    wallet_id: str
    balance: Credits
    reserved: Credits
    available: Credits
    open_holds: int
    updated_at: datetime | None = None
    tier: str | None = None
    next_allocation_at: datetime | None = None
    grants: list[WalletGrant] = Field(default_factory=list)
    expiring_soon: Credits = Decimal(0)
    low_balance: Credits | None = None  # the low-balance alert threshold, if set
    below_low_balance: bool = False


class Entry(_Model):
    """One ledger entry, as history lists it (``balance_after`` is ``None`` until stamped)."""

    transaction_id: str
    type: str
    amount: Credits
    balance_after: Credits | None = None
    created_at: datetime
    feature: str | None = None
    reference: str | None = None
    reason: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class DaySpent(_Model):
    date: Date
    spent: Credits


class FeatureSpent(_Model):
    feature: str
    spent: Credits
    calls: int


class UsageSummary(_Model):
    wallet_id: str
    from_date: Date
    to_date: Date
    by_day: list[DaySpent]
    by_feature: list[FeatureSpent]


class UsageResult(_Model):
    """The answer to :meth:`Tollgate.use`: the entry's id, its cost and the wallet after it."""

    transaction_id: str
    wallet_id: str
    feature: str
    cost: Credits
    balance: Credits
    available: Credits


class Reservation(_Model):
    """A hold: created (``available`` is the wallet's after it) or read back (``cost`` once settled)."""

    reservation_id: str
    wallet_id: str
    feature: str
    held: Credits
    status: str
    expires_at: datetime
    available: Credits | None = None
    created_at: datetime | None = None
    cost: Credits | None = None
    transaction_id: str | None = None


class Settlement(_Model):
    """A settled hold: ``cost`` charged (at most ``held``; ``capped`` when usage cost more)."""

    reservation_id: str
    transaction_id: str
    cost: Credits
    released: Credits
    capped: bool
    requested_cost: Credits
    balance: Credits


class Release(_Model):
    reservation_id: str
    released: Credits


class Step(_Model):
    """One step of a payout's or refund's workflow."""

    name: str
    status: str
    at: datetime
    error: str | None = None


class Purchase(_Model):
    purchase_id: str
    status: str
    gateway: str
    amount: int
    currency: str
    credits: Credits
    wallet_id: str
    created_at: datetime
    package_id: str | None = None
    reference: str | None = None
    client_secret: str | None = None
    checkout_url: str | None = None
    authorization_url: str | None = None
    paid_at: datetime | None = None
    failure_reason: str | None = None
    refunded_amount: int = 0
    credits_clawed_back: Credits = Decimal(0)
    credits_unrecovered: Credits = Decimal(0)
    flagged: str | None = None


class RefundEligibility(_Model):
    eligible: bool
    refundable_credits: Credits
    refundable_amount: int
    currency: str
    reasons: list[str] = Field(default_factory=list)
    window_ends_at: datetime | None = None


class Refund(_Model):
    refund_id: str
    purchase_id: str
    wallet_id: str
    status: str
    credits: Credits
    amount: int
    currency: str
    gateway: str
    reason: str
    requested_by: str
    steps: list[Step] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None
    refunded_at: datetime | None = None


class FeatureEarnings(_Model):
    feature: str
    earned: Credits
    calls: int


class DayEarnings(_Model):
    date: Date
    earned: Credits


class Earnings(_Model):
    """A developer's earnings: ``earned = pending + available + in_payout + paid``."""

    developer_id: str
    earned: Credits
    pending: Credits
    available: Credits
    in_payout: Credits
    paid: Credits
    hold_days: int
    currency_rates: dict[str, str] = Field(default_factory=dict)
    by_feature: list[FeatureEarnings] = Field(default_factory=list)
    by_day: list[DayEarnings] = Field(default_factory=list)


class Payout(_Model):
    payout_id: str
    developer_id: str
    status: str
    credits: Credits
    amount: int
    currency: str
    gateway: str
    steps: list[Step] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    failure: str | None = None
    paid_at: datetime | None = None
