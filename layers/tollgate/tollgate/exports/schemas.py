"""What an export request takes and what reading an export returns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tollgate.days import DATE_PATTERN
from tollgate.ledger.schemas import EntryType
from tollgate.schemas import RequestModel, Schema

ExportStatus = Literal["running", "completed", "failed"]


class ExportIn(RequestModel):
    from_: str = Field(alias="from", pattern=DATE_PATTERN, examples=["2026-11-01"],
                       description="First day (UTC), YYYY-MM-DD, inclusive")
    to: str = Field(pattern=DATE_PATTERN, examples=["2026-11-30"],
                    description="Last day (UTC), YYYY-MM-DD, inclusive: at most 366 days from from, and not before it")
    type: EntryType | None = Field(default=None, description="Only entries of this type; default every type")


class ExportOut(Schema):
    export_id: str
    status: ExportStatus = Field(description="running until the CSV is written (completed) or the job stopped "
                                             "(failed, with error)")
    type: EntryType | None = Field(description="Only entries of this type; null: every type")
    from_date: str
    to_date: str
    rows: int = Field(description="Ledger entries written (the CSV has a header row besides)")
    size_bytes: int = Field(description="The CSV's size")
    url: str | None = Field(description="Once completed: a presigned GET of the CSV, valid for 15 minutes from this "
                                        "response (read the export again for a fresh one); null before, and once the "
                                        "CSV has expired (7 days after it was written)")
    url_expires_at: str | None = Field(description="When url stops working")
    error: str | None = Field(description="Why the export failed, if it did")
    requested_by: str
    created_at: str
    completed_at: str | None = Field(description="When it completed or failed")


class ExportList(Schema):
    data: list[ExportOut] = Field(description="Newest first")
    next_cursor: str | None = None


__all__ = ["ExportIn", "ExportList", "ExportOut", "ExportStatus"]
