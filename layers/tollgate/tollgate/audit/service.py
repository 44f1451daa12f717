"""The audit trail: who changed settings, features, packages, tiers, wallets' tiers and webhook endpoints, when,
from what, to what.

**Recording.** Each change is one ``TransactWriteItems``: the change's own put (or delete) and the
put of its record, so a change and its record land together or neither does. The change is
conditioned on the item being as the service read it (absent, or the ``updated_at`` it read), so
``before`` is exactly what the change replaced: if another request changed the item in between, the
transaction writes nothing and the change is made again from a fresh read (:func:`apply`), up to
``ATTEMPTS`` times (then a 503 ``try_again``). ``before`` and ``after`` are the item as admins read it
(the routes' own views), ``null`` when it did not exist or was removed.

Every accepted PUT is recorded, even one that repeats the stored values: it still rewrites the item
(``updated_at`` moves), and the trail shows who did it. Ending a subscription a wallet does not have
writes nothing, so it records nothing.

**Reading.** ``GET /v1/admin/audit?from=&to=`` (UTC dates, inclusive; default the last 30 days,
today included; at most 366 days): Queries only, one month's partition at a time, newest first,
paged with the one cursor codec. The optional ``action``/``target`` filters apply within each Query
(after DynamoDB's limit), so a filtered page reads ahead and a request makes at most ``MAX_QUERIES``
Queries, returning what it found with a cursor where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.expressions.condition import Condition

from tollgate import clock, cursors, ids, keys
from tollgate.audit import repository
from tollgate.audit.exceptions import ChangedMeanwhile
from tollgate.audit.models import AuditRecordItem
from tollgate.audit.schemas import AuditAction, AuditPage, AuditRecordOut
from tollgate.data import Transaction, TransactionCancelled, across_partitions
from tollgate.days import day_range
from tollgate.principal import Principal

R = TypeVar("R")

LABEL = "audit"
ATTEMPTS = 5
MAX_QUERIES = 24  # a range spans at most 13 months: room for a filtered read to look ahead
_FILTER_LOOKAHEAD = 100
_KEY_NAMES = ("PK", "SK")


@dataclass(frozen=True)
class Change:
    """One change to record: ``at`` is the changed item's new ``updated_at``."""

    actor: str
    action: AuditAction
    target: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    at: str


def view(model: BaseModel | None) -> dict[str, Any] | None:
    """An item's admin view as a JSON map (credit amounts as decimal strings: never a float)."""
    return None if model is None else model.model_dump(mode="json")


def unchanged(model: Any, stored: Any | None) -> Condition:
    """The condition that the item is as it was read: still absent, or still at the ``updated_at`` read."""
    condition: Condition = model.pk.does_not_exist() if stored is None else model.updated_at == stored.updated_at
    return condition


def commit(tx: Transaction, change: Change, *, guarded: str) -> None:
    """Write the change (``tx``) and its record as one transaction. ``guarded`` names the change's
    operation conditioned by :func:`unchanged`: if it failed, :class:`ChangedMeanwhile`."""
    record = repository.new_record(audit_id=ids.random_id("aud"), at=change.at, actor=change.actor,
                                   action=change.action, target=change.target,
                                   before=dict(change.before) if change.before is not None else None,
                                   after=dict(change.after) if change.after is not None else None)
    tx.put(LABEL, record, repository.NEW)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(guarded):
            raise ChangedMeanwhile(f"{change.target} was changed by another request meanwhile: try again") from None
        raise


def apply(change: Callable[[], R]) -> R:
    """Make a read-then-write change, again from a fresh read if the item changed in between."""
    for _ in range(ATTEMPTS - 1):
        try:
            return change()
        except ChangedMeanwhile:
            continue
    return change()


# -- reading the trail ----------------------------------------------------------------------

def record_view(item: AuditRecordItem) -> AuditRecordOut:
    return AuditRecordOut(audit_id=item.audit_id, at=item.at, actor=item.actor, action=item.action,
                          target=item.target, before=item.before, after=item.after)


def _key(item: AuditRecordItem) -> dict[str, Any]:
    return {"PK": {"S": item.pk}, "SK": {"S": item.sk}}


def list_records(principal: Principal, *, date_from: str | None, date_to: str | None, limit: int,
                 cursor: str | None, action: str | None, target: str | None) -> AuditPage:
    """A page of the changes made in the range, newest first (admins only)."""
    principal.require_admin()
    span = day_range(date_from, date_to)
    first, last = span.first, span.last
    low, high = f"{first.isoformat()}T", f"{last.isoformat()}T~"  # every SK of those days: "<day>T...Z#<id>"
    months = clock.periods_back(first, last)
    scope = cursors.scope("audit", date_from, date_to, action, target)
    start = None
    if cursor is not None:
        start = cursors.decode(cursor, scope, _KEY_NAMES, lambda k: low <= k["SK"] <= high
                               and k["PK"] == keys.audit_pk(k["SK"][:7]))
        months = [m for m in months if m <= start["SK"]["S"][:7]]
    filtered = action is not None or target is not None
    items, next_key = across_partitions(
        months, start=start, limit=limit, max_queries=MAX_QUERIES, key_of=_key,
        read_ahead=_FILTER_LOOKAHEAD if filtered else 0,
        fetch=lambda period, want, after: repository.page(period, low, high, limit=want, start=after, action=action,
                                                         target=target))
    return _page(items, next_key, scope)


def _page(items: list[AuditRecordItem], next_key: dict[str, Any] | None, scope: str) -> AuditPage:
    return AuditPage(data=[record_view(i) for i in items],
                     next_cursor=cursors.encode(next_key, scope) if next_key else None)


__all__ = ["ATTEMPTS", "Change", "apply", "commit", "list_records", "record_view",
           "unchanged", "view"]
