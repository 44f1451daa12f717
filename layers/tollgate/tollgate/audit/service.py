"""The audit trail: who changed settings, features, packages, tiers and wallets' tiers, when, from what, to what.

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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.expressions.condition import Condition

from tollgate import clock, cursors, ids, keys
from tollgate.audit import repository
from tollgate.audit.exceptions import ChangedMeanwhile
from tollgate.audit.models import AuditRecordItem
from tollgate.audit.schemas import AuditAction, AuditPage, AuditRecordOut
from tollgate.data import Transaction, TransactionCancelled
from tollgate.errors import ValidationFailed
from tollgate.principal import Principal

R = TypeVar("R")

LABEL = "audit"
ATTEMPTS = 5
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_QUERIES = 24  # a range spans at most 13 months: room for a filtered read to look ahead
_FILTER_LOOKAHEAD = 100
_KEY_NAMES = ("PK", "SK")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


def _date(text: str, field: str) -> date:
    if not _DATE_RE.fullmatch(text):
        raise ValidationFailed(f"{field} must be a date, YYYY-MM-DD", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field} is not a calendar date", field=field) from None


def date_range(date_from: str | None, date_to: str | None, now_ms: int) -> tuple[date, date]:
    """The inclusive UTC days asked for: ``to`` defaults to today, ``from`` to 29 days before ``to``."""
    last = _date(date_to, "to") if date_to is not None else date.fromisoformat(clock.iso(now_ms)[:10])
    first = (_date(date_from, "from") if date_from is not None
             else date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1))))
    if first > last:
        raise ValidationFailed("from must not be after to", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"the range is at most {MAX_DAYS} days", field="from")
    return first, last


def _key(item: AuditRecordItem) -> dict[str, Any]:
    return {"PK": {"S": item.pk}, "SK": {"S": item.sk}}


def list_records(principal: Principal, *, date_from: str | None, date_to: str | None, limit: int,
                 cursor: str | None, action: str | None, target: str | None) -> AuditPage:
    """A page of the changes made in the range, newest first (admins only)."""
    principal.require_admin()
    first, last = date_range(date_from, date_to, clock.now_ms())
    low, high = f"{first.isoformat()}T", f"{last.isoformat()}T~"  # every SK of those days: "<day>T...Z#<id>"
    months = clock.periods_back(first, last)
    scope = cursors.scope("audit", date_from, date_to, action, target)
    start = None
    if cursor is not None:
        start = cursors.decode(cursor, scope, _KEY_NAMES, lambda k: low <= k["SK"] <= high
                               and k["PK"] == keys.audit_pk(k["SK"][:7]))
        months = [m for m in months if m <= start["SK"]["S"][:7]]
    filtered = action is not None or target is not None
    items: list[AuditRecordItem] = []
    position: dict[str, Any] | None = None  # the last key read: where a page cut short goes on from
    queries = 0
    for index, period in enumerate(months):
        while True:
            if queries == MAX_QUERIES:
                return _page(items, position, scope)
            want = limit - len(items)
            found, last_key = repository.page(period, low, high, limit=max(want, _FILTER_LOOKAHEAD) if filtered else want,
                                              start=start, action=action, target=target)
            queries += 1
            items.extend(found)
            if found:
                position = _key(found[-1])
            if last_key is not None:
                position = last_key
            if len(items) >= limit:
                more = len(items) > limit or last_key is not None or index < len(months) - 1
                items = items[:limit]
                return _page(items, _key(items[-1]) if more else None, scope)
            if last_key is None:
                break
            start = last_key
        start = None
    return _page(items, None, scope)


def _page(items: list[AuditRecordItem], next_key: dict[str, Any] | None, scope: str) -> AuditPage:
    return AuditPage(data=[record_view(i) for i in items],
                     next_cursor=cursors.encode(next_key, scope) if next_key else None)


__all__ = ["ATTEMPTS", "MAX_DAYS", "Change", "apply", "commit", "date_range", "list_records", "record_view",
           "unchanged", "view"]
