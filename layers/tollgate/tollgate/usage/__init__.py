"""Metered usage: price an AI call from the catalog and debit it from a wallet, once; reverse it."""

from __future__ import annotations

from tollgate.usage.exceptions import NotUsage, ReversalExceedsUsage, ReversalWindowClosed, TransactionNotFound
from tollgate.usage.reversal import check_caller, reverse_usage
from tollgate.usage.schemas import Quantity, ReversalIn, UsageIn, UsageMeasure, UsageOut, measurement
from tollgate.usage.service import record_usage

__all__ = [
    "NotUsage",
    "Quantity",
    "ReversalExceedsUsage",
    "ReversalIn",
    "ReversalWindowClosed",
    "TransactionNotFound",
    "UsageIn",
    "UsageMeasure",
    "UsageOut",
    "check_caller",
    "measurement",
    "record_usage",
    "reverse_usage",
]
