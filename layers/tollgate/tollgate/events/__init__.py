"""Events Tollgate tells the platform about, and how their deliveries are signed."""

from __future__ import annotations

from tollgate.events.signing import HEADER, new_secret, sign
from tollgate.events.types import EVENT_TYPES, EventType

__all__ = ["EVENT_TYPES", "HEADER", "EventType", "new_secret", "sign"]
