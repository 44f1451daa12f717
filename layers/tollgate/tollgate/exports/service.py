"""Ledger exports: every wallet's entries of a range of days as a CSV in S3, written by a workflow.

An admin asks (``POST /v1/admin/exports``); the export is recorded as ``running`` and
``statemachines/export.asl.json`` (named by the export id) writes it:

* ``start`` opens the CSV's multipart upload and records its id on the export;
* ``export_part``, in a loop, reads the range's entries oldest first from the day-sharded index
  (``analytics.transactions.iter_entries``, lazily: memory stays flat) and sends the CSV a part at a
  time (:data:`PART_BYTES`). A step stops after the part that takes it past :data:`STEP_ROWS` rows or
  :data:`STEP_SECONDS` seconds, so no step nears the Lambda timeout whatever the range; the next
  resumes after the last entry sent (its sort key travels in the state, with the counts: the state
  stays a few hundred bytes, never the part list);
* ``complete`` lists the uploaded parts from S3, completes the upload and records ``completed``;
* ``record_failure`` (any step that failed after its retries) aborts the upload and records ``failed``.

Every step may run twice (a retry after a timeout): a part is re-sent under the same number, which
replaces it, and ``complete`` takes only the parts the state counts, so a part a lost attempt sent
beyond them is never part of the CSV.

The CSV: a header, then one row per entry (:data:`COLUMNS`). Credits are decimal strings (millicredits
rendered exactly, as the API shows them), money is integer minor units; no float is involved.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from tollgate import clock, cursors, ids, keys, workflows
from tollgate.amounts import format_credits
from tollgate.analytics.transactions import iter_entries, sort_key
from tollgate.days import DayRange, day_range
from tollgate.exports import repository, writer
from tollgate.exports.exceptions import ExportIncomplete, ExportNotFound, ExportNotRunning, ExportNotStarted
from tollgate.exports.models import ExportItem
from tollgate.exports.schemas import ExportIn, ExportList, ExportOut
from tollgate.ledger.models import LedgerEntryItem
from tollgate.principal import Principal

logger = Logger(child=True)


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# S3 refuses a part under 5 MiB unless it is the last; 8 MiB parts allow exports up to 80 GiB (10,000 parts).
PART_BYTES = _setting("EXPORT_PART_BYTES", 8 * writer.MiB)
STEP_ROWS = _setting("EXPORT_STEP_ROWS", 500_000)
STEP_SECONDS = _setting("EXPORT_STEP_SECONDS", 120)
# The bucket's lifecycle rule removes a CSV 7 days after it is written; the export's record outlives it a day.
OBJECT_DAYS = 7
RECORD_DAYS = OBJECT_DAYS + 1
ERROR_CHARS = 500

COLUMNS = ("created_at", "transaction_id", "wallet_id", "type", "amount", "balance_after", "feature",
           "developer_id", "reference", "purchase_id", "refund_id", "gateway", "currency", "money_minor", "reason",
           "metadata")
# Entries the payment flows write: their metadata names the gateway, the currency and the money moved.
_PAYMENT_TYPES = frozenset({"purchase", "refund", "chargeback", "refund_reversal"})
# A spreadsheet runs a cell that starts with one of these as a formula: text a caller chose (a reason, a
# developer id, a reference) is written with a leading "'" when it starts with one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# -- starting and reading exports ------------------------------------------------------------

def start_export(principal: Principal, body: ExportIn) -> ExportOut:
    principal.require_admin()
    days = day_range(body.from_, body.to)
    now_ms = clock.now_ms()
    export_id = ids.random_id("exp")
    item = repository.create(ExportItem(
        export_id=export_id, from_date=days.first.isoformat(), to_date=days.last.isoformat(), entry_type=body.type,
        status="running", requested_by=principal.actor, created_at=clock.iso(now_ms),
        object_key=f"exports/{export_id}.csv", ttl_epoch=now_ms // 1000 + RECORD_DAYS * 86_400))
    try:
        workflows.engine().start("export", export_id, {"export_id": export_id})
    except Exception as exc:
        logger.exception("the export workflow did not start", extra={"export_id": export_id})
        repository.fail(export_id, error="the export's workflow could not start", completed_at=clock.iso(clock.now_ms()))
        raise ExportNotStarted("the export could not start; request it again", export_id=export_id) from exc
    return view(item, now_ms)


def get_export(principal: Principal, export_id: str) -> ExportOut:
    principal.require_admin()
    item = repository.get(export_id)
    if item is None:
        raise ExportNotFound(f"export '{export_id}' not found")
    return view(item, clock.now_ms())


def list_exports(principal: Principal, *, limit: int, cursor: str | None) -> ExportList:
    """Every export still recorded (a record expires a day after its CSV), newest first."""
    principal.require_admin()
    scope = cursors.scope("exports")
    start = cursors.decode_index(cursor, scope, "GSI1", keys.ALL_EXPORTS_GSI1PK)
    items, last = repository.list_exports(limit=limit, start=start)
    now_ms = clock.now_ms()
    return ExportList(data=[view(i, now_ms) for i in items], next_cursor=cursors.encode(last, scope) if last else None)


def view(item: ExportItem, now_ms: int) -> ExportOut:
    url = url_expires_at = None
    if item.status == "completed" and item.completed_at and \
            clock.parse_rfc3339(item.completed_at) + OBJECT_DAYS * 86_400_000 > now_ms:
        url = writer.presigned_get(item.object_key)
        url_expires_at = clock.iso(now_ms + writer.URL_SECONDS * 1000)
    return ExportOut(
        export_id=item.export_id, status=item.status, type=item.entry_type, from_date=item.from_date,
        to_date=item.to_date, rows=item.rows, size_bytes=item.size_bytes, url=url, url_expires_at=url_expires_at,
        error=item.error, requested_by=item.requested_by, created_at=item.created_at, completed_at=item.completed_at)


# -- the CSV ----------------------------------------------------------------------------------

def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # a fraction: kept exact, as text
    raise TypeError(f"{type(value).__name__} is not JSON")


def _money_minor(entry_type: str, metadata: Mapping[str, Any]) -> str:
    minor = metadata.get("amount") if entry_type == "purchase" else metadata.get("refunded_minor")
    return str(minor) if isinstance(minor, int) and not isinstance(minor, bool) else ""


def csv_row(entry: LedgerEntryItem) -> list[str]:
    """One entry as :data:`COLUMNS` (read from its stored values: PynamoDB's descriptors cost a few µs
    each, and an export renders every entry of its range)."""
    values = entry.attribute_values
    get = values.get
    metadata: Mapping[str, Any] = get("metadata") or {}
    entry_type: str = values["type"]
    reference: str = get("reference") or ""
    balance_after = get("balance_after")
    payment = entry_type in _PAYMENT_TYPES
    gateway = refund_id = currency = money_minor = ""
    if payment:
        gateway = str(metadata.get("gateway") or "")
        actor: str = get("actor") or ""
        if not gateway and actor.startswith("gateway:"):
            gateway = actor.split(":", 1)[1]
        refund_id = str(metadata.get("refund_id") or "")
        currency = str(metadata.get("currency") or "")
        money_minor = _money_minor(entry_type, metadata)
    return [
        values["created_at"],
        values["transaction_id"],
        values["wallet_id"],
        entry_type,
        format_credits(values["amount"]),
        "" if balance_after is None else format_credits(balance_after),
        get("feature") or "",
        _text(get("developer_id")),
        _text(reference),
        reference[9:] if reference.startswith("purchase:") else "",
        refund_id,
        gateway,
        currency,
        money_minor,
        _text(get("reason")),
        json.dumps(metadata, sort_keys=True, separators=(",", ":"), default=_json_value) if metadata else "",
    ]


def _filename(item_or_state: Mapping[str, Any]) -> str:
    return f"tollgate-ledger-{item_or_state['from_date']}-to-{item_or_state['to_date']}.csv"


# -- the workflow's steps ---------------------------------------------------------------------

def _export(export_id: str) -> ExportItem:
    item = repository.get(export_id)
    if item is None:
        raise ExportNotFound(f"export '{export_id}' not found")
    return item


def start(event: Mapping[str, Any]) -> dict[str, Any]:
    """First step: open the CSV's multipart upload (once: a retried step finds it recorded)."""
    item = _export(str(event["export_id"]))
    if item.status != "running":
        raise ExportNotRunning(f"export '{item.export_id}' is {item.status}")
    state = {"export_id": item.export_id, "key": item.object_key, "from_date": item.from_date,
             "to_date": item.to_date, "type": item.entry_type, "parts": 0, "rows": 0, "bytes": 0, "after": None,
             "done": False}
    upload_id = item.upload_id
    if upload_id is None:
        opened = writer.create_upload(item.object_key, _filename(state))
        upload_id = repository.set_upload(item.export_id, opened)
        if upload_id != opened:
            writer.abort(item.object_key, opened)  # another attempt recorded its own first
    return {**state, "upload_id": upload_id}


def _days(state: Mapping[str, Any]) -> DayRange:
    return day_range(str(state["from_date"]), str(state["to_date"]))


def export_part(state: Mapping[str, Any]) -> dict[str, Any]:
    """Send the next parts of the CSV: from the entry after ``state["after"]`` until a sent part takes the
    step past its rows or seconds (``done`` false), or to the range's end (the rest sent as the last part)."""
    out = writer.CsvParts(str(state["key"]), str(state["upload_id"]), next_part=int(state["parts"]) + 1,
                          part_bytes=PART_BYTES)
    rows, after = int(state["rows"]), state.get("after")
    if int(state["parts"]) == 0:
        out.row(COLUMNS)
    started, step_rows = time.monotonic(), 0
    done = True
    for entry in iter_entries(_days(state), entry_type=state.get("type"), after=after):
        full = out.row(csv_row(entry))
        rows += 1
        step_rows += 1
        after = sort_key(entry)
        if full:
            out.send()
            if step_rows >= STEP_ROWS or time.monotonic() - started >= STEP_SECONDS:
                done = False
                break
    if done and (out.buffered or out.next_part == 1):
        out.send()  # the last part: S3 takes it under 5 MiB (an empty range: the header alone)
    logger.info("export part", extra={"export_id": state["export_id"], "rows": rows, "parts": out.next_part - 1,
                                      "done": done})
    return {**state, "parts": out.next_part - 1, "rows": rows, "bytes": int(state["bytes"]) + out.sent_bytes,
            "after": after, "done": done}


def complete(state: Mapping[str, Any]) -> dict[str, Any]:
    """Last step: complete the upload from the parts the state counts, and record the export completed."""
    export_id, key, upload_id, count = str(state["export_id"]), str(state["key"]), str(state["upload_id"]), \
        int(state["parts"])
    try:
        parts = [p for p in writer.uploaded_parts(key, upload_id) if p["PartNumber"] <= count]
    except Exception as exc:
        # Completed already by an attempt that died before recording it: the CSV is there.
        if not (writer.is_upload_gone(exc) and writer.exists(key)):
            raise
    else:
        if [p["PartNumber"] for p in parts] != list(range(1, count + 1)):
            raise ExportIncomplete(f"the upload has parts {[p['PartNumber'] for p in parts]}, expected 1..{count}")
        writer.complete(key, upload_id, parts)
    repository.complete(export_id, rows=int(state["rows"]), size_bytes=int(state["bytes"]), parts=count,
                        completed_at=clock.iso(clock.now_ms()))
    logger.info("export completed", extra={"export_id": export_id, "rows": state["rows"], "bytes": state["bytes"]})
    return {"export_id": export_id, "status": "completed", "rows": int(state["rows"]), "bytes": int(state["bytes"])}


def record_failure(event: Mapping[str, Any]) -> dict[str, Any]:
    """A step failed after its retries: abort the upload (its parts are freed) and record the export failed."""
    export_id = str(event["export_id"])
    error = event.get("error") or {}
    cause = str(error.get("Cause", ""))
    try:  # a Lambda task's failure: its cause is the function's error, as JSON (no stack trace kept)
        cause = str(json.loads(cause)["errorMessage"])
    except (ValueError, TypeError, KeyError):
        pass
    message = f"{error.get('Error', 'Error')}: {cause}"[:ERROR_CHARS]
    item = repository.get(export_id)
    if item is not None and item.upload_id is not None and item.status == "running":
        writer.abort(item.object_key, item.upload_id)
    repository.fail(export_id, error=message, completed_at=clock.iso(clock.now_ms()))
    logger.warning("export failed", extra={"export_id": export_id, "error": message})
    return {"export_id": export_id, "status": "failed"}


__all__ = ["COLUMNS", "PART_BYTES", "STEP_ROWS", "STEP_SECONDS", "complete", "csv_row", "export_part",
           "get_export", "record_failure", "start", "start_export", "view"]
