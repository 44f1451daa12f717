"""A wallet's alerts (the low-balance threshold)."""

from __future__ import annotations

from tollgate.alerts.service import get_alerts, put_alerts

__all__ = ["get_alerts", "put_alerts"]
