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
    "payout"
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


class WalletOut(Schema):
    wallet_id: str
    balance: CreditsOut
    reserved: CreditsOut
    available: CreditsOut
    open_holds: int
    updated_at: str | None = None


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
    ledger_sum: CreditsOut
    entries: int
    reserved: CreditsOut
    holds_sum: CreditsOut
    available: CreditsOut
    consistent: bool
