from __future__ import annotations

from tollgate.errors import NotFound, TollgateError, ValidationFailed


class WebhookEndpointNotFound(NotFound):
    pass


class WebhookUrlRefused(ValidationFailed):
    """The URL is not one deliveries may go to (not https in AWS, a private address, credentials in it)."""

    code = "webhook_url_refused"


class WebhookEventNotFound(NotFound):
    pass


class WebhookEndpointDisabled(TollgateError):
    status = 409
    code = "webhook_endpoint_disabled"


class TooManyWebhookEndpoints(TollgateError):
    status = 409
    code = "too_many_webhook_endpoints"


__all__ = ["TooManyWebhookEndpoints", "WebhookEndpointDisabled", "WebhookEndpointNotFound", "WebhookEventNotFound",
           "WebhookUrlRefused"]
