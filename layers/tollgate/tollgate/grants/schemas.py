"""The admin grant route's body and answer; the wallet's grants (``WalletGrantOut``) are in ``ledger.schemas``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from tollgate import clock
from tollgate.grants.attribution import MAX_PRIORITY, MIN_PRIORITY
from tollgate.ledger.schemas import WalletGrantOut
from tollgate.schemas import CreditsOut, PositiveCredits, RequestModel, Schema, integer


def _instant(value: str) -> str:
    try:
        clock.parse_rfc3339(value)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-12-31T00:00:00Z") from None
    return value


Instant = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra={"format": "date-time"},
                               examples=["2026-12-31T00:00:00Z"]), AfterValidator(_instant)]
Priority = integer(MIN_PRIORITY, MAX_PRIORITY, description=(
    "Among grants expiring at the same time (or never), debits draw from the higher priority first; "
    "expiry comes first: a grant expiring sooner is always spent before one expiring later"))


class GrantIn(RequestModel):
    amount: PositiveCredits
    expires_at: Instant | None = Field(default=None, description="When what is left of the grant expires (in the "
                                                                 "future); null or absent: never")
    priority: Priority = 0
    reason: str = Field(min_length=1, max_length=500)


class GrantOut(Schema):
    grant_id: str = Field(description="The grant's ledger entry (type grant) transaction id")
    wallet_id: str
    amount: CreditsOut
    remaining: CreditsOut = Field(description="Left of the grant when it was made: all of it")
    expires_at: str | None
    priority: int
    source: Literal["admin"] = "admin"
    balance: CreditsOut


__all__ = ["GrantIn", "GrantOut", "WalletGrantOut"]
