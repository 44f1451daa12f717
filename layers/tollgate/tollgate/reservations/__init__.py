"""Reservations: hold credits for an AI call, then settle the actual cost or release."""

from __future__ import annotations

from tollgate.reservations.exceptions import ReservationClosed, ReservationNotFound, TooManyHolds
from tollgate.reservations.service import get, release, reserve, settle, sweep_expired

__all__ = [
    "ReservationClosed",
    "ReservationNotFound",
    "TooManyHolds",
    "get",
    "release",
    "reserve",
    "settle",
    "sweep_expired",
]
