"""The reconciliation job: refunds and payouts that reached a terminal state since its last run,
checked against their gateway's record (``gateway_checks``); wallets and developers changed since
then, checked against their invariants; findings recorded once; a metric per run (see ``service``).

``changed`` (what the stream consumers import to mark what they change) loads alone; the job's
use cases load on first use, so a stream consumer's cold start does not import them.
"""

from __future__ import annotations

from typing import Any

from tollgate.reconciliation import changed
from tollgate.reconciliation.exceptions import RunNotFound

_SERVICE = ("Finding", "check_developer", "check_wallet", "get_run", "list_findings", "run", "run_now")

__all__ = ["Finding", "RunNotFound", "changed", "check_developer", "check_wallet", "get_run", "list_findings",
           "run", "run_now"]


def __getattr__(name: str) -> Any:
    if name in _SERVICE:
        from tollgate.reconciliation import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
