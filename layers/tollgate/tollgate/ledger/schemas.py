from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from tollgate.metadata import json_schema as metadata_schema
from tollgate.metadata import validate_metadata
from tollgate.schemas import (
    CreditsOut,
    OptionalCreditsOut,
    RequestModel,
    Schema,
    SignedCredits,
)

EntryType = Literal[
    "usage", "adjustment", "purchase", "refund", "refund_reversal", "chargeback", "reversal", "allocation", "expiry",
    "payout", "grant"
]
ENTRY_TYPES: tuple[str, ...] = EntryType.__args__  # type: ignore[attr-defined]

Metadata = Annotated[dict[str, Any] | None, AfterValidator(validate_metadata),
                     WithJsonSchema({"anyOf": [metadata_schema(), {"type": "null"}]}, mode="validation")]


class AdjustmentIn(RequestModel):
    amount: SignedCredits
    reason: str = Field(min_length=1, max_length=500)
    metadata: Metadata = None


class AdjustmentOut(Schema):
    transaction_id: str
    wallet_id: str
    amount: CreditsOut
    balance: CreditsOut


class WalletGrantOut(Schema):
    """One grant the wallet's credits belong to (``tollgate.grants``), as its grant book has it."""

    grant_id: str = Field(description="The transaction id of the entry that granted it")
    source: str = Field(description="purchase, allocation, admin, or the entry type that gave the credits "
                                    "(balance: credits held before grants were kept)")
    remaining: CreditsOut
    expires_at: str | None = Field(description="When what is left of it expires; null: never")
    priority: int = Field(description="Among grants expiring at the same time, higher priority is spent first")


class WalletOut(Schema):
    wallet_id: str
    balance: CreditsOut
    reserved: CreditsOut
    available: CreditsOut
    open_holds: int
    updated_at: str | None = None
    tier: str | None = Field(default=None, description="The subscription tier the wallet is on, if any")
    next_allocation_at: str | None = Field(default=None, description="When the tier's next monthly allocation is "
                                                                     "due (null without a tier)")
    grants: list[WalletGrantOut] = Field(
        default_factory=list, description="The grants holding the balance, in the order debits draw from them "
        "(soonest expiry first, then higher priority, then oldest); attributed from the ledger's stream, so a "
        "change of the last second may not show yet")
    expiring_soon: CreditsOut = Field(default=0, description="Credits of grants expiring within 7 days")
    low_balance: OptionalCreditsOut = Field(default=None, description="The low-balance alert threshold "
                                                                      "(PUT /v1/wallet/alerts); null: none")
    below_low_balance: bool = Field(default=False, description="available is below low_balance: show a banner")


class EntryOut(Schema):
    transaction_id: str
    type: str
    amount: CreditsOut
    balance_after: OptionalCreditsOut
    feature: str | None = None
    reference: str | None = None
    reason: str | None = None
    created_at: str
    metadata: dict[str, Any]


class HistoryPage(Schema):
    data: list[EntryOut]
    next_cursor: str | None


class ReconciliationOut(Schema):
    wallet_id: str
    balance: CreditsOut
    ledger_sum: CreditsOut = Field(description="Every entry's amount added up, the archived ones included")
    entries: int = Field(description="Entries, the archived ones included")
    archived_sum: CreditsOut = Field(description="What the entries moved to the ledger archive add up to")
    archived_entries: int = Field(description="Entries moved to the ledger archive (older than LEDGER_ARCHIVE_DAYS)")
    reserved: CreditsOut
    holds_sum: CreditsOut
    available: CreditsOut
    consistent: bool
