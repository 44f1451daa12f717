from __future__ import annotations

from tollgate.errors import NotFound


class ApiKeyNotFound(NotFound):
    pass


__all__ = ["ApiKeyNotFound"]
