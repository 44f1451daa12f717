"""Payout storage: accounts, payouts and the earnings moves each workflow step makes."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from tollgate import keys
from tollgate.data import ConditionFailed, Transaction, conditional, first_page, get_or_none
from tollgate.earnings import repository as earnings
from tollgate.earnings.models import DeveloperEarningsItem
from tollgate.payouts.models import PayoutAccountItem, PayoutItem, PayoutReferenceItem

PAYOUT = "payout"
REFERENCE = "reference"
P = PayoutItem
D = DeveloperEarningsItem


# -- accounts -------------------------------------------------------------------------------

def get_account(developer_id: str) -> PayoutAccountItem | None:
    return get_or_none(PayoutAccountItem, *keys.payout_account(developer_id))


def put_account(item: PayoutAccountItem) -> None:
    item.gsi1pk, item.gsi1sk = (keys.AUTOPAYOUT_GSI1PK, item.developer_id) if item.auto else (None, None)
    item.save()


def delete_account(developer_id: str) -> bool:
    """Remove the account; False if there was none."""
    item = PayoutAccountItem(*keys.payout_account(developer_id))
    try:
        conditional(lambda: item.delete(PayoutAccountItem.pk.exists()))
    except ConditionFailed:
        return False
    return True


def autopayout_developers(start: dict[str, Any] | None = None) -> tuple[list[PayoutAccountItem], dict[str, Any] | None]:
    """One page of the developers with automatic payouts on (GSI1 ``AUTOPAYOUT``)."""
    return first_page(PayoutAccountItem.autopayout.query(keys.AUTOPAYOUT_GSI1PK, page_size=100,
                                                         last_evaluated_key=start), PayoutAccountItem)


# -- payouts --------------------------------------------------------------------------------

def new_payout(**fields: Any) -> PayoutItem:
    payout_id, developer_id, created_at = fields["payout_id"], fields["developer_id"], fields["created_at"]
    return PayoutItem(*keys.payout(payout_id), gsi1pk=keys.developer_payouts_gsi1pk(developer_id),
                      gsi1sk=f"{created_at}#{payout_id}", gsi2pk=keys.ALL_PAYOUTS_GSI2PK,
                      gsi2sk=f"{created_at}#{payout_id}", **fields)


def request_payout(item: PayoutItem, now: str) -> None:
    """Record the payout and make it the developer's one payout in flight, only if none is and
    ``credits`` are available (TransactionCancelled names which failed)."""
    tx = Transaction()
    tx.put(PAYOUT, item, P.pk.does_not_exist())
    tx.put(REFERENCE, PayoutReferenceItem(*keys.payout_reference(item.gateway, item.reference), gateway=item.gateway,
                                          reference=item.reference, payout_id=item.payout_id))
    tx.update(earnings.BALANCE, D(*keys.developer_earnings(item.developer_id)),
              [D.active_payout.set(item.payout_id), D.seq.add(1), D.updated_at.set(now)],
              D.pk.exists() & D.active_payout.does_not_exist() & (D.available >= item.credits_mc))
    tx.commit()


def get_payout(payout_id: str) -> PayoutItem | None:
    return get_or_none(PayoutItem, *keys.payout(payout_id))


def payout_for_reference(gateway: str, reference: str) -> PayoutItem | None:
    pointer = get_or_none(PayoutReferenceItem, *keys.payout_reference(gateway, reference))
    return get_payout(pointer.payout_id) if pointer else None


def list_payouts(*, developer_id: str | None, status: str | None, limit: int, start: dict[str, Any] | None
                 ) -> tuple[list[PayoutItem], dict[str, Any] | None]:
    """One page, newest first: a developer's payouts (GSI1) or everyone's (GSI2)."""
    condition = (P.status == status) if status else None
    if developer_id is not None:
        results = P.by_developer.query(keys.developer_payouts_gsi1pk(developer_id), scan_index_forward=False,
                                       filter_condition=condition, page_size=limit, last_evaluated_key=start)
    else:
        results = P.everyone.query(keys.ALL_PAYOUTS_GSI2PK, scan_index_forward=False, filter_condition=condition,
                                   page_size=limit, last_evaluated_key=start)
    return first_page(results, PayoutItem)


def step(name: str, status: str, now: str, error: str | None = None) -> Any:
    """The update recording one workflow step on the payout."""
    record = {"status": status, "at": now, **({"error": error[:500]} if error else {})}
    return P.steps[name].set(record)


def update_payout(tx: Transaction, payout: PayoutItem, actions: list[Any], condition: Condition | None) -> None:
    tx.update(PAYOUT, PayoutItem(*keys.payout(payout.payout_id)), actions, condition)


def move_earnings(tx: Transaction, payout: PayoutItem, deltas: dict[str, int], now: str, kind: str, *,
                  condition: Condition | None = None, release: bool = False) -> None:
    """Move the payout's credits between balance fields, logged on the earnings ledger once
    per (payout, kind); ``release`` ends it being the payout in flight."""
    actions = [getattr(D, name).add(amount) for name, amount in deltas.items() if amount]
    actions += [D.seq.add(1), D.updated_at.set(now)]
    if release:
        actions.append(D.active_payout.remove())
    tx.update(earnings.BALANCE, D(*keys.developer_earnings(payout.developer_id)), actions, condition)
    if any(deltas.values()):
        earnings.put_log(tx, payout.developer_id, f"{payout.payout_id}:{kind}", kind, deltas, now,
                         reference=payout.payout_id)


def held_by(payout: PayoutItem) -> Condition:
    return D.active_payout == payout.payout_id


def set_fields(payout_id: str, actions: list[Any], condition: Condition | None = None) -> PayoutItem:
    """One single-item update of a payout; the payout as it then is."""
    item = PayoutItem(*keys.payout(payout_id))
    conditional(lambda: item.update(actions, condition=condition))
    return item
