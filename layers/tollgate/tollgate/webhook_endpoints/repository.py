"""Webhook endpoint storage: one item per endpoint, found by id; GSI1 lists them newest first.
Its deliveries live in its partition, newest first in LSI1.

Creating, changing and deleting an endpoint each commit with their audit record (``tollgate.audit``).
"""

from __future__ import annotations

from typing import Any

from tollgate import audit, clock, keys
from tollgate.data import ConditionFailed, Transaction, conditional, first_page, get_or_none
from tollgate.webhook_endpoints.models import WebhookDeliveryItem, WebhookEndpointItem

E = WebhookEndpointItem
ENDPOINT = "webhook_endpoint"


def new(**fields: str | list[str]) -> WebhookEndpointItem:
    endpoint_id = str(fields["endpoint_id"])
    return E(*keys.webhook_endpoint(endpoint_id), gsi1pk=keys.WEBHOOK_ENDPOINTS_GSI1PK,
             gsi1sk=f"{fields['created_at']}#{endpoint_id}", updated_at=fields["created_at"], **fields)


def create(item: WebhookEndpointItem, change: audit.Change) -> None:
    audit.commit(Transaction().put(ENDPOINT, item, E.pk.does_not_exist()), change, guarded=ENDPOINT)


def delete(item: WebhookEndpointItem, change: audit.Change) -> None:
    """Delete the endpoint as it was read (``ChangedMeanwhile`` if it changed or went meanwhile)."""
    audit.commit(Transaction().delete(ENDPOINT, item, E.updated_at == item.updated_at), change, guarded=ENDPOINT)


def update(item: WebhookEndpointItem, actions: list[Any], change: audit.Change) -> None:
    """Change the endpoint as it was read (``ChangedMeanwhile`` if it changed or went meanwhile)."""
    audit.commit(Transaction().update(ENDPOINT, item, actions, E.updated_at == item.updated_at), change,
                 guarded=ENDPOINT)


def get(endpoint_id: str) -> WebhookEndpointItem | None:
    return get_or_none(E, *keys.webhook_endpoint(endpoint_id))


def list_all() -> list[WebhookEndpointItem]:
    return list(E.listing.query(keys.WEBHOOK_ENDPOINTS_GSI1PK, scan_index_forward=False))


# -- deliveries ---------------------------------------------------------------------------------

D = WebhookDeliveryItem


def claim_delivery(endpoint_id: str, event_id: str, event_type: str, *, now_ms: int, lease_ms: int,
                   retain_seconds: int, resend: bool) -> WebhookDeliveryItem:
    """Start an attempt: create the delivery or take its lease, if it is still to be made (or, with
    ``resend``, whatever its status) and no attempt is under way; the delivery as it is now.
    Raises ConditionFailed otherwise."""
    now = clock.iso(now_ms)
    free = D.lease_until_ms.does_not_exist() | (D.lease_until_ms < now_ms)
    open_ = free if resend else free & (D.status == "pending")
    item = D(*keys.webhook_delivery(endpoint_id, event_id))
    actions = [
        D.entity.set(WebhookDeliveryItem), D.endpoint_id.set(endpoint_id), D.event_id.set(event_id),
        D.event_type.set(event_type), D.created_at.set(D.created_at | now),
        D.lsi1sk.set(D.lsi1sk | f"{now}#{event_id}"), D.status.set("pending"),
        D.lease_until_ms.set(now_ms + lease_ms), D.ttl_epoch.set(now_ms // 1000 + retain_seconds),
        D.attempt_count.set(D.attempt_count | 0), D.attempts.set(D.attempts | []),
    ]
    if resend:  # a re-send by hand starts a new round of retries
        actions.append(D.first_attempt_at_ms.remove())
    conditional(lambda: item.update(actions, condition=D.pk.does_not_exist() | open_))
    return item


def finish_attempt(item: WebhookDeliveryItem, *, lease_until_ms: int, status: str, attempt: dict[str, Any],
                   kept: int, first_attempt_at_ms: int, next_attempt_at: str | None,
                   delivered_at: str | None) -> None:
    """Record an attempt and release the lease (if it is still ours: ConditionFailed otherwise)."""
    attempts = [*list(item.attempts or []), attempt][-kept:]
    conditional(lambda: item.update([
        D.status.set(status), D.attempt_count.add(1), D.attempts.set(attempts),
        D.first_attempt_at_ms.set(first_attempt_at_ms), D.last_attempt_at.set(attempt["at"]),
        D.next_attempt_at.set(next_attempt_at) if next_attempt_at else D.next_attempt_at.remove(),
        D.delivered_at.set(delivered_at) if delivered_at else D.delivered_at.remove(),
        D.lease_until_ms.remove(),
    ], condition=D.lease_until_ms == lease_until_ms))


def abandon_delivery(endpoint_id: str, event_id: str) -> None:
    """Mark a delivery still to be made ``failed`` (its endpoint was disabled); nothing if there is none."""
    try:
        conditional(lambda: D(*keys.webhook_delivery(endpoint_id, event_id)).update(
            [D.status.set("failed"), D.next_attempt_at.remove()], condition=D.status == "pending"))
    except ConditionFailed:
        pass


def get_delivery(endpoint_id: str, event_id: str) -> WebhookDeliveryItem | None:
    return get_or_none(D, *keys.webhook_delivery(endpoint_id, event_id))


def deliveries_page(endpoint_id: str, *, limit: int, start: dict[str, Any] | None
                    ) -> tuple[list[WebhookDeliveryItem], dict[str, Any] | None]:
    """One page of an endpoint's deliveries, newest first (one strongly consistent Query of LSI1)."""
    pk = keys.webhook_endpoint(endpoint_id)[0]
    # Only deliveries carry LSI1SK in the endpoint's partition (the endpoint item has none).
    results = D.history.query(pk, scan_index_forward=False, page_size=limit,
                              last_evaluated_key=start, consistent_read=True)
    return first_page(results, WebhookDeliveryItem)


def disable(endpoint_id: str, reason: str, now: str) -> bool:
    """Disable an enabled endpoint; whether this call did (False: gone or disabled already)."""
    try:
        conditional(lambda: E(*keys.webhook_endpoint(endpoint_id)).update(
            [E.status.set("disabled"), E.disabled_reason.set(reason), E.updated_at.set(now)],
            condition=E.status == "enabled"))
    except ConditionFailed:
        return False
    return True
