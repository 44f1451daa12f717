"""The usage domain's named errors (reversals of usage entries)."""

from __future__ import annotations

from tollgate.errors import Forbidden, NotFound, ValidationFailed


class TransactionNotFound(NotFound):
    """No such ledger entry, or (for a server API key) not a usage entry that key made."""


class NotUsage(ValidationFailed):
    """Only usage entries can be reversed."""


class ReversalExceedsUsage(ValidationFailed):
    """The reversal would give back more than is left of what the usage entry cost."""


class ReversalWindowClosed(Forbidden):
    """A server API key may reverse its own usage only within ``service_reversal_window_seconds``."""


__all__ = ["NotUsage", "ReversalExceedsUsage", "ReversalWindowClosed", "TransactionNotFound"]
