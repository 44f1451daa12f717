"""Metered usage: price an AI call from the catalog and debit it from a wallet, once."""

from __future__ import annotations

from tollgate.usage.schemas import Quantity, UsageIn, UsageMeasure, UsageOut, measurement
from tollgate.usage.service import record_usage

__all__ = ["Quantity", "UsageIn", "UsageMeasure", "UsageOut", "measurement", "record_usage"]
