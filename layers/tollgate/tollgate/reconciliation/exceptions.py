"""What reading reconciliation runs can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound


class RunNotFound(NotFound):
    pass


__all__ = ["RunNotFound"]
