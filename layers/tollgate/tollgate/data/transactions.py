"""Transactions and single writes over PynamoDB, with failed conditions turned into named errors.

A :class:`Transaction` is PynamoDB's ``TransactWrite`` whose operations each carry a label
and ask for ``ALL_OLD`` on a failed condition, so a cancellation names the operation that
failed and hands back the item as it was, without a read. Concurrent transactions on one
item may be cancelled with ``TransactionConflict``: those (and throttling) are retried here
with full-jitter backoff, the only place that retries; a failed condition never is. A
transaction still contended after every retry raises :class:`StoreUnavailable`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from tollgate.data.exceptions import ConditionFailed, StoreUnavailable, TransactionCancelled
from tollgate.data.prepared import PreparedPut, PreparedUpdate
from tollgate.data.table import TableItem

M = TypeVar("M", bound=Model)
T = TypeVar("T")

_CONFLICT_ATTEMPTS = 12
_CONFLICT_BASE_S = 0.005
_CONFLICT_CAP_S = 0.2
_RETRYABLE_REASONS = ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded")
_RETRYABLE_ERRORS = ("TransactionConflictException", "TransactionInProgressException")
# PynamoDB sends a transaction's operations grouped by kind, in this order.
_KIND_ORDER = ("check", "delete", "put", "update")


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(_CONFLICT_CAP_S, _CONFLICT_BASE_S * 2**attempt)))  # noqa: S311 - jitter, not crypto


class Transaction:
    """One ``TransactWriteItems`` of labelled operations; :meth:`commit` sends it."""

    def __init__(self) -> None:
        self._ops: list[tuple[str, str, Callable[[TransactWrite], None]]] = []

    def put(self, label: str, item: Model, condition: Condition | None = None) -> Transaction:
        self._ops.append(("put", label, lambda tw: tw.save(item, condition=condition, return_values=ALL_OLD)))
        return self

    def update(self, label: str, item: Model, actions: list[Action], condition: Condition | None = None
               ) -> Transaction:
        self._ops.append(("update", label,
                          lambda tw: tw.update(item, actions, condition=condition, return_values=ALL_OLD)))
        return self

    def delete(self, label: str, item: Model, condition: Condition | None = None) -> Transaction:
        # PynamoDB's TransactWrite.delete takes no return_values: a failed delete names itself, without the item.
        self._ops.append(("delete", label, lambda tw: tw.delete(item, condition=condition)))
        return self

    def check(self, label: str, model: type[Model], hash_key: str, range_key: str, condition: Condition
              ) -> Transaction:
        """A ``ConditionCheck`` of an item the transaction does not write (as it was, on failure)."""
        def add(tw: TransactWrite) -> None:
            kwargs = model.get_operation_kwargs_from_class(hash_key, range_key=range_key, condition=condition)
            kwargs["ReturnValuesOnConditionCheckFailure"] = ALL_OLD
            tw._condition_check_items.append(kwargs)

        self._ops.append(("check", label, add))
        return self

    def put_prepared(self, label: str, prepared: PreparedPut, item: Model) -> Transaction:
        """:meth:`put` through a :class:`PreparedPut`: the same request, serialized faster."""
        request = prepared.request(item)
        # What TransactWrite.save appends, less the serialization (no model here has a version attribute).
        self._ops.append(("put", label, lambda tw: tw._put_items.append(request)))
        return self

    def update_prepared(self, label: str, prepared: PreparedUpdate, key: tuple[str, str], *params: Any
                        ) -> Transaction:
        """:meth:`update` through a :class:`PreparedUpdate`: the same request, serialized once."""
        request = prepared.request(*key, *params)
        # What TransactWrite.update appends, less the serialization (no model here has a version attribute).
        self._ops.append(("update", label, lambda tw: tw._update_items.append(request)))
        return self

    def update_raw(self, label: str, request: dict[str, Any]) -> Transaction:
        """A hand-written ``Update`` (``TableName``, ``Key``, expressions): for what PynamoDB cannot
        express, counters whose attribute names are data (``tollgate.analytics``)."""
        self._ops.append(("update", label, lambda tw: tw._update_items.append(request)))
        return self

    def extend(self, other: Transaction) -> Transaction:
        """Add another transaction's operations (e.g. a domain's own item riding along a posting)."""
        self._ops.extend(other._ops)
        return self

    def labels(self) -> list[str]:
        """Labels in the order DynamoDB receives (and reports cancellation reasons for) them."""
        return [label for kind in _KIND_ORDER for k, label, _ in self._ops if k == kind]

    def _build(self) -> TransactWrite:
        tw = TransactWrite(connection=TableItem._get_connection().connection)
        for _, _, add in self._ops:
            add(tw)
        return tw

    def request_items(self) -> list[dict[str, Any]]:
        """The ``TransactItems`` this transaction sends, in order (to time the bare request)."""
        tw = self._build()
        grouped = (("ConditionCheck", tw._condition_check_items), ("Delete", tw._delete_items),
                   ("Put", tw._put_items), ("Update", tw._update_items))
        return [{kind: item} for kind, items in grouped for item in items]

    def commit(self) -> None:
        """Write all or nothing; :class:`TransactionCancelled` if a condition failed."""
        labels = self.labels()
        for attempt in range(_CONFLICT_ATTEMPTS):
            tw = self._build()
            try:
                tw._commit()  # TransactWrite's context manager commits exactly this way, once
                return
            except TransactWriteError as exc:
                if exc.cause_response_code in _RETRYABLE_ERRORS:
                    _backoff(attempt)
                    continue
                if exc.cause_response_code != "TransactionCanceledException":
                    raise
                codes, items = _reasons(exc, labels)
                if "ConditionalCheckFailed" in codes.values():
                    raise TransactionCancelled(codes, items) from None
                if any(c in _RETRYABLE_REASONS for c in codes.values()):
                    _backoff(attempt)
                    continue
                raise
        raise StoreUnavailable("TransactionConflict")  # contended past every retry: the caller may retry later


def _reasons(exc: TransactWriteError, labels: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    reasons = list(exc.cancellation_reasons)
    if not reasons:
        # Some emulators put the reasons only in the message: "... [ConditionalCheckFailed, None]".
        message = exc.cause_response_message or ""
        start, end = message.rfind("["), message.rfind("]")
        found = [c.strip() for c in message[start + 1 : end].split(",")] if 0 <= start < end else []
        return {label: (found[i] if i < len(found) else "None") for i, label in enumerate(labels)}, {}
    codes = {label: (r.code if r else "None") for label, r in zip(labels, reasons, strict=False)}
    items = {label: r.raw_item for label, r in zip(labels, reasons, strict=False) if r and r.raw_item}
    return codes, items


def conditional(write: Callable[[], T]) -> T:
    """Run one single-item write (``save``/``update``/``delete``); a failed condition
    becomes :class:`ConditionFailed`."""
    try:
        return write()
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ConditionFailed(None) from None
        raise


def get_or_none(model: type[M], hash_key: str, range_key: str, *, consistent: bool = True) -> M | None:
    """One ``GetItem``; None when there is no such item."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent)
    except model.DoesNotExist:
        return None
