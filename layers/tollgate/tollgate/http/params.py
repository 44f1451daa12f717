"""Path and query parameters shared by the HTTP functions, with the patterns the OpenAPI document shows.

An optional query parameter is typed ``str`` with a default of ``None``: absent is ``None``, and
the document shows one string schema (a query string has no null to send).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from tollgate.days import DATE_PATTERN, MAX_DAYS
from tollgate.principal import WALLET_ID_PATTERN
from tollgate.schemas import SLUG_PATTERN

# Ids Tollgate mints (rsv_..., pur_..., API key ids): bounded, so an unknown one is a 404, never a key error.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

WalletIdPath = Annotated[str, Path(min_length=3, max_length=145, pattern=WALLET_ID_PATTERN, examples=["user:alice"])]
WalletIdQuery = Annotated[str, Query(
    min_length=3, max_length=145, pattern=WALLET_ID_PATTERN, examples=["user:alice"],
    description="Another wallet: admins and server API keys any; a person their own, or an org wallet "
                "(org:<org_id>) of an organization they belong to")]
SlugPath = Annotated[str, Path(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
TransactionIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN,
                                        description="A ledger entry's transaction_id, as usage and history give it",
                                        examples=["tx_mfrggzdfmztwq2lknnwg23tpmi"])]
# A developer is named by their user id (the JWT ``sub``), as a feature's developer_id names them.
DEVELOPER_ID_PATTERN = r"^[A-Za-z0-9._:@|+=-]{1,128}$"
DeveloperIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=DEVELOPER_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Cursor = Annotated[str, Query(min_length=1, max_length=2048, description="next_cursor of the previous page")]
# Parsed by tollgate.clock.parse_rfc3339, which accepts exactly the format's date-times.
Timestamp = Annotated[str, Query(min_length=1, max_length=64, description="RFC 3339 date-time, inclusive",
                                        json_schema_extra={"format": "date-time"}, examples=["2026-11-01T00:00:00Z"])]
# A range of whole UTC days (tollgate.days.day_range): analytics, listings, the audit trail, findings.
FromDay = Annotated[str, Query(alias="from", pattern=DATE_PATTERN, examples=["2026-11-01"],
                               description="First day (UTC), YYYY-MM-DD, inclusive; default: 29 days before to")]
ToDay = Annotated[str, Query(alias="to", pattern=DATE_PATTERN, examples=["2026-11-30"],
                             description=f"Last day (UTC), YYYY-MM-DD, inclusive; default: today. At most {MAX_DAYS} "
                                         "days from from")]
