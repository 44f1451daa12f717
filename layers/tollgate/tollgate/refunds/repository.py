"""Refund storage: refunds, gateway refund ids, and the purchase fields a refund moves."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from tollgate import keys
from tollgate.data import ConditionFailed, Transaction, conditional, first_page, get_or_none
from tollgate.purchases.models import PurchaseItem
from tollgate.refunds.models import RefundItem, RefundReferenceItem

REFUND = "refund"
PURCHASE = "purchase"
R = RefundItem
P = PurchaseItem


def new_refund(**fields: Any) -> RefundItem:
    refund_id, wallet_id, created_at = fields["refund_id"], fields["wallet_id"], fields["created_at"]
    return RefundItem(*keys.refund(refund_id), gsi1pk=keys.wallet_refunds_gsi1pk(wallet_id),
                      gsi1sk=f"{created_at}#{refund_id}", gsi2pk=keys.ALL_REFUNDS_GSI2PK,
                      gsi2sk=f"{created_at}#{refund_id}", **fields)


def put_refund(item: RefundItem) -> None:
    """Record a refund once (its id derives from the Idempotency-Key); ConditionFailed if it exists."""
    conditional(lambda: item.save(condition=R.pk.does_not_exist()))


def get_refund(refund_id: str) -> RefundItem | None:
    return get_or_none(RefundItem, *keys.refund(refund_id))


def set_fields(refund_id: str, actions: list[Any], condition: Condition | None = None) -> RefundItem:
    """One single-item update of a refund (ConditionFailed if ``condition`` fails); the refund as it then is."""
    item = RefundItem(*keys.refund(refund_id))
    conditional(lambda: item.update(actions, condition=condition))
    return item


def try_set_fields(refund_id: str, actions: list[Any], condition: Condition) -> RefundItem | None:
    """:func:`set_fields`, or None when ``condition`` fails."""
    try:
        return set_fields(refund_id, actions, condition)
    except ConditionFailed:
        return None


def step(name: str, status: str, now: str, error: str | None = None) -> Any:
    """The update recording one workflow step on the refund."""
    record = {"status": status, "at": now, **({"error": error[:500]} if error else {})}
    return R.steps[name].set(record)


def update_refund(tx: Transaction, refund_id: str, actions: list[Any], condition: Condition | None) -> Transaction:
    return tx.update(REFUND, RefundItem(*keys.refund(refund_id)), actions, condition)


def update_purchase(tx: Transaction, purchase_id: str, actions: list[Any], condition: Condition | None
                    ) -> Transaction:
    return tx.update(PURCHASE, PurchaseItem(*keys.purchase(purchase_id)), actions, condition)


def put_reference(gateway: str, gateway_refund_id: str, refund_id: str) -> None:
    RefundReferenceItem(*keys.refund_reference(gateway, gateway_refund_id), refund_id=refund_id).save()


def refund_for_gateway_id(gateway: str, gateway_refund_id: str) -> RefundItem | None:
    pointer = get_or_none(RefundReferenceItem, *keys.refund_reference(gateway, gateway_refund_id))
    return get_refund(pointer.refund_id) if pointer else None


def list_refunds(*, wallet_id: str | None, status: str | None, limit: int, start: dict[str, Any] | None
                 ) -> tuple[list[RefundItem], dict[str, Any] | None]:
    """One page, newest first: a wallet's refunds (GSI1) or everyone's (GSI2)."""
    condition = (R.status == status) if status else None
    if wallet_id is not None:
        results = R.by_wallet.query(keys.wallet_refunds_gsi1pk(wallet_id), scan_index_forward=False,
                                    filter_condition=condition, page_size=limit, last_evaluated_key=start)
    else:
        results = R.everyone.query(keys.ALL_REFUNDS_GSI2PK, scan_index_forward=False, filter_condition=condition,
                                   page_size=limit, last_evaluated_key=start)
    return first_page(results, RefundItem)
