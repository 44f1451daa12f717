"""Audit storage: one record per change, in its month's partition (``keys.audit_pk``), read newest first."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from tollgate import keys
from tollgate.audit.models import AuditRecordItem
from tollgate.data import first_page

A = AuditRecordItem
NEW = A.pk.does_not_exist()  # a record is written once, never over another


def new_record(**fields: Any) -> AuditRecordItem:
    return AuditRecordItem(*keys.audit_record(fields["at"], fields["audit_id"]), **fields)


def page(period: str, low: str, high: str, *, limit: int, start: dict[str, Any] | None, action: str | None,
         target: str | None) -> tuple[list[AuditRecordItem], dict[str, Any] | None]:
    """One Query of one month's records with ``low <= SK <= high``, newest first: up to ``limit``
    records evaluated (the filters apply after the limit), and where the next page starts."""
    condition: Condition | None = None
    if action is not None:
        condition = A.action == action
    if target is not None:
        condition = A.target == target if condition is None else condition & (A.target == target)
    results = A.query(keys.audit_pk(period), A.sk.between(low, high), scan_index_forward=False,
                      filter_condition=condition, page_size=limit, last_evaluated_key=start, consistent_read=True)
    return first_page(results, AuditRecordItem)
