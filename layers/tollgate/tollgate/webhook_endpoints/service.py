"""Webhook endpoints: where Tollgate POSTs its events, each signed with the endpoint's secret.

An admin registers a URL and the event types it wants; the secret is shown once, in the answer
to the create. Creating and deleting are recorded in the audit trail (the secret never is).

**Which URLs.** In AWS only ``https`` URLs, never to a loopback, private, link-local or otherwise
reserved IP address or to ``localhost``: a delivery is a request from inside the platform's
account, and an admin's URL must not turn it into a probe of internal services.
``WEBHOOK_URL_POLICY=allow-loopback-http`` (the template's ``WebhookUrlPolicy``) also allows
``http://127.0.0.1``, ``http://[::1]`` and ``http://localhost``, for a local receiver. ``make dev``
and the tests run ``local``: those URLs are allowed too, and deliveries go only to this machine
(an https URL of another host is taken, as in AWS, but never looked up nor called).
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from tollgate import audit, clock, ids
from tollgate.events import new_secret
from tollgate.webhook_endpoints import repository
from tollgate.webhook_endpoints.exceptions import (
    TooManyWebhookEndpoints,
    WebhookEndpointNotFound,
    WebhookUrlRefused,
)
from tollgate.webhook_endpoints.models import WebhookEndpointItem
from tollgate.webhook_endpoints.schemas import (
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)

MAX_ENDPOINTS = 16  # each event is delivered to every subscribed endpoint: the fan-out stays bounded
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
ALLOW_LOOPBACK_HTTP = "allow-loopback-http"
LOCAL = "local"  # make dev: loopback http allowed, and nothing delivered off this machine


def loopback_http_allowed() -> bool:
    return os.environ.get("WEBHOOK_URL_POLICY") in (ALLOW_LOOPBACK_HTTP, LOCAL)


def deliveries_stay_local() -> bool:
    return os.environ.get("WEBHOOK_URL_POLICY") == LOCAL


def check_url(url: str) -> str:
    """The URL if deliveries may go there; :class:`WebhookUrlRefused` (422) saying why otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("url is not a valid URL", field="url") from None
    host = (parts.hostname or "").lower()
    if not host or any(c.isspace() for c in url):
        raise WebhookUrlRefused("url is not a valid absolute URL", field="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("url must not carry credentials (use the signature to authenticate deliveries)",
                                field="url")
    if parts.fragment:
        raise WebhookUrlRefused("url must not have a fragment", field="url")
    if port == 0:
        raise WebhookUrlRefused("url has no valid port", field="url")
    loopback = host in LOOPBACK_HOSTS and loopback_http_allowed()
    if parts.scheme == "http" and loopback:
        return url
    if parts.scheme != "https":
        raise WebhookUrlRefused("url must be https" + (" (or http://127.0.0.1 in make dev)"
                                                       if loopback_http_allowed() else ""), field="url")
    if loopback:
        return url
    if host == "localhost" or host.endswith(".localhost"):
        raise WebhookUrlRefused("url must not point at this machine", field="url")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: deliveries check the addresses it resolves to
    if not address.is_global:
        raise WebhookUrlRefused("url must not be a private, loopback, link-local or reserved address",
                                field="url")
    return url


def view(item: WebhookEndpointItem) -> WebhookEndpointOut:
    return WebhookEndpointOut(endpoint_id=item.endpoint_id, url=item.url, events=list(item.events),
                              description=item.description, status=item.status,  # type: ignore[arg-type]
                              disabled_reason=item.disabled_reason, created_at=item.created_at,
                              created_by=item.created_by)


def create(body: WebhookEndpointIn, *, actor: str) -> WebhookEndpointCreated:
    url = check_url(body.url)
    if len(repository.list_all()) >= MAX_ENDPOINTS:
        raise TooManyWebhookEndpoints(f"at most {MAX_ENDPOINTS} webhook endpoints; delete one first")
    now = clock.iso(clock.now_ms())
    item = repository.new(endpoint_id=ids.random_id("we"), url=url, events=list(body.events),
                          description=body.description, secret=new_secret(), created_at=now, created_by=actor)
    shown = view(item)
    repository.create(item, audit.Change(actor=actor, action="webhook_endpoint.create",
                                         target=f"webhook_endpoint:{item.endpoint_id}", before=None,
                                         after=audit.view(shown), at=now))
    return WebhookEndpointCreated(**shown.model_dump(), secret=item.secret)


def list_endpoints() -> list[WebhookEndpointOut]:
    return [view(item) for item in repository.list_all()]


def get(endpoint_id: str) -> WebhookEndpointOut:
    item = repository.get(endpoint_id)
    if item is None:
        raise WebhookEndpointNotFound("webhook endpoint not found")
    return view(item)


def update(endpoint_id: str, body: WebhookEndpointUpdate, *, actor: str) -> WebhookEndpointOut:
    """Change the endpoint in place (its secret stays); ``enabled`` turns deliveries on or off."""
    url = check_url(body.url) if body.url is not None else None
    E = WebhookEndpointItem  # the model's attributes, named as the repository names them

    def change() -> WebhookEndpointOut:
        item = repository.get(endpoint_id)
        if item is None:
            raise WebhookEndpointNotFound("webhook endpoint not found")
        before = view(item)
        now = clock.iso(clock.now_ms())
        actions = [E.updated_at.set(now)]
        after = before.model_copy()
        if url is not None:
            actions.append(E.url.set(url))
            after.url = url
        if body.events is not None:
            actions.append(E.events.set(list(body.events)))
            after.events = list(body.events)
        if body.description is not None:
            actions.append(E.description.set(body.description))
            after.description = body.description
        if body.enabled is True and item.status != "enabled":
            actions += [E.status.set("enabled"), E.disabled_reason.remove()]
            after.status, after.disabled_reason = "enabled", None
        elif body.enabled is False and item.status != "disabled":
            reason = f"turned off by {actor}"
            actions += [E.status.set("disabled"), E.disabled_reason.set(reason)]
            after.status, after.disabled_reason = "disabled", reason
        repository.update(item, actions, audit.Change(actor=actor, action="webhook_endpoint.update",
                                                      target=f"webhook_endpoint:{endpoint_id}",
                                                      before=audit.view(before), after=audit.view(after), at=now))
        return after

    return audit.apply(change)


def delete(endpoint_id: str, *, actor: str) -> None:
    """Delete the endpoint: nothing more is delivered to it."""

    def change() -> None:
        item = repository.get(endpoint_id)
        if item is None:
            raise WebhookEndpointNotFound("webhook endpoint not found")
        repository.delete(item, audit.Change(actor=actor, action="webhook_endpoint.delete",
                                             target=f"webhook_endpoint:{endpoint_id}",
                                             before=audit.view(view(item)), after=None,
                                             at=clock.iso(clock.now_ms())))

    audit.apply(change)
