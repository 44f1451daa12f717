from __future__ import annotations

from tollgate.errors import NotFound, TollgateError


class ReservationNotFound(NotFound):
    pass


class ReservationClosed(TollgateError):
    """The hold was already settled, released or has expired."""

    status = 409
    code = "reservation_closed"


class TooManyHolds(TollgateError):
    """The wallet already has the maximum number of open holds."""

    status = 409
    code = "too_many_holds"


__all__ = ["ReservationClosed", "ReservationNotFound", "TooManyHolds"]
