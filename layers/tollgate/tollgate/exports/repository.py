"""Export jobs' storage: one item per export (``keys.export``), written by the route and the workflow's steps."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data import ConditionFailed, conditional, first_page, get_or_none
from tollgate.exports.models import ExportItem as X


def create(item: X) -> X:
    """Record a new export (its id is random: an existing one is never overwritten)."""
    item.pk, item.sk = keys.export(item.export_id)
    item.gsi1pk, item.gsi1sk = keys.ALL_EXPORTS_GSI1PK, f"{item.created_at}#{item.export_id}"
    conditional(lambda: item.save(condition=X.pk.does_not_exist()))
    return item


def get(export_id: str) -> X | None:
    return get_or_none(X, *keys.export(export_id))


def list_exports(*, limit: int, start: dict[str, Any] | None) -> tuple[list[X], dict[str, Any] | None]:
    """One page of every export, newest first."""
    results = X.listing.query(keys.ALL_EXPORTS_GSI1PK, scan_index_forward=False, page_size=limit,
                              last_evaluated_key=start)
    return first_page(results, X)


def set_upload(export_id: str, upload_id: str) -> str:
    """Record the export's multipart upload; if one is recorded already (a retried first step),
    that one is kept and returned."""
    item = X(*keys.export(export_id))
    try:
        conditional(lambda: item.update(actions=[X.upload_id.set(upload_id)],
                                        condition=X.pk.exists() & X.upload_id.does_not_exist()))
    except ConditionFailed:
        existing = get(export_id)
        if existing is None or existing.upload_id is None:
            raise
        return existing.upload_id
    return upload_id


def complete(export_id: str, *, rows: int, size_bytes: int, parts: int, completed_at: str) -> None:
    """Running → completed (a completed export is left as it is: the step may be retried)."""
    try:
        conditional(lambda: X(*keys.export(export_id)).update(
            actions=[X.status.set("completed"), X.rows.set(rows), X.size_bytes.set(size_bytes), X.parts.set(parts),
                     X.completed_at.set(completed_at)],
            condition=X.status == "running"))
    except ConditionFailed:
        existing = get(export_id)
        if existing is None or existing.status != "completed":
            raise


def fail(export_id: str, *, error: str, completed_at: str) -> bool:
    """Running → failed; False if the export had already finished (completed or failed) or is unknown."""
    try:
        conditional(lambda: X(*keys.export(export_id)).update(
            actions=[X.status.set("failed"), X.error.set(error), X.completed_at.set(completed_at)],
            condition=X.status == "running"))
    except ConditionFailed:
        return False
    return True
