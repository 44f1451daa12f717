"""Webhook endpoints: where Tollgate delivers its events, signed (``tollgate.events.signing``), and
the deliveries it makes to them (``deliveries``).

The service and the deliveries load on first use: the ledger stream's outbox needs only the
endpoints' storage (``repository``) to know who is subscribed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.webhook_endpoints.exceptions import (
    TooManyWebhookEndpoints,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
    WebhookEventNotFound,
    WebhookUrlRefused,
)

if TYPE_CHECKING:
    from tollgate.webhook_endpoints.deliveries import Outcome, Result, deliver, list_deliveries, resend
    from tollgate.webhook_endpoints.service import check_url, create, delete, get, list_endpoints, update

__getattr__ = lazy.exports(__name__, {
    "deliveries": ("Outcome", "Result", "deliver", "list_deliveries", "resend"),
    "service": ("check_url", "create", "delete", "get", "list_endpoints", "update"),
})

__all__ = [
    "Outcome",
    "Result",
    "TooManyWebhookEndpoints",
    "WebhookEndpointDisabled",
    "WebhookEndpointNotFound",
    "WebhookEventNotFound",
    "WebhookUrlRefused",
    "check_url",
    "create",
    "delete",
    "deliver",
    "get",
    "list_deliveries",
    "list_endpoints",
    "resend",
    "update",
]
