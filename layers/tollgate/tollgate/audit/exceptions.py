"""What recording a change can fail with."""

from __future__ import annotations

from tollgate.errors import TollgateError


class ChangedMeanwhile(TollgateError):
    """Another request changed the item between this change's read and its write, every time it was tried:
    nothing was written (the change and its record land together or not at all)."""

    status = 503
    code = "try_again"


__all__ = ["ChangedMeanwhile"]
