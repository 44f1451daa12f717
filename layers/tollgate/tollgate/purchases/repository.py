"""Packages, checkout settings, purchases, gateway-reference pointers, webhook dedupe records."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from tollgate import audit, keys
from tollgate.data import ConditionFailed, Transaction, conditional, first_page, get_or_none
from tollgate.purchases.models import (
    CheckoutSettingsItem,
    GatewayReferenceItem,
    PackageItem,
    PurchaseItem,
    RateCounterItem,
    WebhookEventItem,
)

PURCHASE = "purchase"
PACKAGE = "package"
SETTINGS = "settings"
WEBHOOK_RETENTION_S = 30 * 24 * 3600  # gateways retry for days; keep well past 7
P = PurchaseItem


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def new_package(**fields: Any) -> PackageItem:
    return PackageItem(*keys.package(fields["package_id"]), **_present(fields))


def save_package(item: PackageItem, stored: PackageItem | None, change: audit.Change) -> None:
    """Put the package and its audit record in one transaction, if the package is still as ``stored``."""
    audit.commit(Transaction().put(PACKAGE, item, audit.unchanged(PackageItem, stored)), change, guarded=PACKAGE)


def get_package(package_id: str) -> PackageItem | None:
    return get_or_none(PackageItem, *keys.package(package_id))


def list_packages() -> list[PackageItem]:
    return list(PackageItem.query(keys.CATALOG_PK, PackageItem.sk.startswith(keys.PACKAGE_PREFIX),
                                  consistent_read=True))


def get_settings() -> CheckoutSettingsItem | None:
    return get_or_none(CheckoutSettingsItem, *keys.settings())


def new_settings(**fields: Any) -> CheckoutSettingsItem:
    return CheckoutSettingsItem(*keys.settings(), **_present(fields))


def save_settings(item: CheckoutSettingsItem, stored: CheckoutSettingsItem | None, change: audit.Change) -> None:
    """Put the settings and their audit record in one transaction, if the settings are still as ``stored``."""
    audit.commit(Transaction().put(SETTINGS, item, audit.unchanged(CheckoutSettingsItem, stored)), change,
                 guarded=SETTINGS)


def new_purchase(**fields: Any) -> PurchaseItem:
    purchase_id, wallet_id, created_at = fields["purchase_id"], fields["wallet_id"], fields["created_at"]
    return PurchaseItem(*keys.purchase(purchase_id), gsi1pk=keys.wallet_purchases_gsi1pk(wallet_id),
                        gsi1sk=f"{created_at}#{purchase_id}", gsi2pk=keys.ALL_PURCHASES_GSI2PK,
                        gsi2sk=f"{created_at}#{purchase_id}", **_present(fields))


def put_purchase(item: PurchaseItem) -> None:
    """Create a purchase once (its id derives from the Idempotency-Key); ConditionFailed if it exists."""
    conditional(lambda: item.save(condition=P.pk.does_not_exist()))


def get_purchase(purchase_id: str) -> PurchaseItem | None:
    return get_or_none(PurchaseItem, *keys.purchase(purchase_id))


def set_fields(purchase_id: str, **fields: Any) -> None:
    """Record facts on an existing purchase (its gateway session, a flag, a dispute's outcome)."""
    conditional(lambda: P(*keys.purchase(purchase_id)).update(
        [getattr(P, name).set(value) for name, value in fields.items()], condition=P.pk.exists()))


def mark_failed(purchase_id: str, reason: str) -> bool:
    """A pending purchase's payment failed; False if it is not pending (a late failure never undoes a grant)."""
    try:
        conditional(lambda: P(*keys.purchase(purchase_id)).update(
            [P.status.set("failed"), P.failure_reason.set(reason)], condition=P.status == "pending"))
    except ConditionFailed:
        return False
    return True


def update_purchase(purchase_id: str, *, sets: dict[str, Any], condition: Condition,
                    removes: tuple[str, ...] = ()) -> Transaction:
    """A conditional purchase update, to ride along a ledger posting."""
    actions = [getattr(P, name).set(value) for name, value in sets.items()]
    actions += [getattr(P, name).remove() for name in removes]
    return Transaction().update(PURCHASE, P(*keys.purchase(purchase_id)), actions, condition)


def put_reference(gateway: str, reference: str, purchase_id: str) -> None:
    GatewayReferenceItem(*keys.gateway_reference(gateway, reference), purchase_id=purchase_id).save()


def purchase_for_reference(gateway: str, reference: str) -> str | None:
    item = get_or_none(GatewayReferenceItem, *keys.gateway_reference(gateway, reference))
    return item.purchase_id if item else None


def list_purchases(*, wallet_id: str | None, limit: int, start: dict[str, Any] | None
                   ) -> tuple[list[PurchaseItem], dict[str, Any] | None]:
    """One page, newest first: a wallet's purchases (GSI1) or everyone's (GSI2)."""
    if wallet_id is not None:
        results = P.by_wallet.query(keys.wallet_purchases_gsi1pk(wallet_id), scan_index_forward=False,
                                    page_size=limit, last_evaluated_key=start)
    else:
        results = P.everyone.query(keys.ALL_PURCHASES_GSI2PK, scan_index_forward=False, page_size=limit,
                                   last_evaluated_key=start)
    return first_page(results, PurchaseItem)


def seen_webhook(gateway: str, event_id: str) -> bool:
    return get_or_none(WebhookEventItem, *keys.webhook_event(gateway, event_id)) is not None


def record_webhook(gateway: str, event_id: str, now_s: int, **fields: Any) -> None:
    item = WebhookEventItem(*keys.webhook_event(gateway, event_id), ttl_epoch=now_s + WEBHOOK_RETENTION_S,
                            **_present(fields))
    try:
        conditional(lambda: item.save(condition=WebhookEventItem.pk.does_not_exist()))
    except ConditionFailed:
        pass  # a concurrent delivery recorded it first: same event, same outcome


def count_checkout(wallet_id: str, window: str, limit: int, expires_s: int) -> bool:
    """Count one checkout in this window; False once the window's limit is reached."""
    counter = RateCounterItem(*keys.rate_counter("checkout", wallet_id, window))
    R = RateCounterItem
    try:
        conditional(lambda: counter.update([R.n.add(1), R.ttl_epoch.set(expires_s), R.entity.set(RateCounterItem)],
                                           condition=R.n.does_not_exist() | (R.n < limit)))
    except ConditionFailed:
        return False
    return True
