"""Errors of the data layer: failed conditions, named, with the item as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from tollgate.errors import TollgateError

if TYPE_CHECKING:
    from pynamodb.models import Model

M = TypeVar("M", bound="Model")


class ConditionFailed(Exception):
    """A single-item write failed its condition; ``old`` is the item as it was (None if absent)."""

    def __init__(self, old: Any | None) -> None:
        super().__init__("conditional check failed")
        self.old = old


class TransactionCancelled(Exception):
    """A transaction failed one or more conditions; ask by the label each operation was given."""

    def __init__(self, codes: dict[str, str], items: dict[str, dict[str, Any] | None]) -> None:
        super().__init__("transaction cancelled: " + ", ".join(f"{k}={v}" for k, v in codes.items() if v != "None"))
        self.codes = codes
        self._items = items

    def failed(self, label: str) -> bool:
        """True if the operation named ``label`` failed its condition."""
        return self.codes.get(label) == "ConditionalCheckFailed"

    def raw_old(self, label: str) -> dict[str, Any] | None:
        """The raw item as it was when ``label``'s condition failed (``return_values="ALL_OLD"``)."""
        return self._items.get(label)

    def old(self, label: str, model: type[M]) -> M | None:
        """The item as it was when ``label``'s condition failed, as a model (None if it was absent)."""
        raw = self._items.get(label)
        return model.from_raw_data(raw) if raw else None


class StoreUnavailable(TollgateError):
    """DynamoDB did not answer a request after the client's retries: throttled, failing, timed
    out, or a transaction kept conflicting. A write that timed out may have been applied; every
    money path is keyed, so the same request again (same ``Idempotency-Key``) completes it or
    replays what was done. HTTP callers get 503 ``try_again`` with ``Retry-After``; stream
    consumers and workflow steps raise it to be redelivered or retried."""

    status = 503
    code = "try_again"

    def __init__(self, reason: str) -> None:
        super().__init__("the service is busy: retry the same request (same Idempotency-Key) shortly",
                         reason=reason, retry_after_seconds=1)
