"""Auto top-up storage: the wallet's settings and card (one item beside the wallet), and each
month's charged credits (its own partition, ADDed under the monthly limit in the purchase's
transaction)."""

from __future__ import annotations

from tollgate import keys, ledger
from tollgate.autotopup.models import AutoTopUpItem, TopUpMonthItem
from tollgate.data import ConditionFailed, Transaction, TransactionCancelled, conditional, get_or_none
from tollgate.gateways import SavedCard

A, M = AutoTopUpItem, TopUpMonthItem
SETTINGS, MONTH = "auto_top_up", "top_up_month"
MONTH_RETAIN_SECONDS = 100 * 86_400


def get(wallet_id: str) -> AutoTopUpItem | None:
    return get_or_none(A, *keys.auto_top_up(wallet_id))


def _keyed(wallet_id: str) -> AutoTopUpItem:
    return A(*keys.auto_top_up(wallet_id))


def start_setup(wallet_id: str, customer_id: str, setup_intent_id: str, now: str) -> None:
    _keyed(wallet_id).update([A.entity.set(AutoTopUpItem), A.wallet_id.set(wallet_id), A.customer_id.set(customer_id),
                              A.pending_setup_intent.set(setup_intent_id), A.updated_at.set(now)])


def save_card(wallet_id: str, setup_intent_id: str, card: SavedCard, now: str) -> AutoTopUpItem:
    """Keep the card a confirmed setup saved (ConditionFailed if that setup is not the one pending)."""
    item = _keyed(wallet_id)
    conditional(lambda: item.update([
        A.payment_method_id.set(card.payment_method_id), A.card_brand.set(card.brand or ""),
        A.card_last4.set(card.last4 or ""), A.pending_setup_intent.remove(), A.updated_at.set(now)],
        condition=A.pending_setup_intent == setup_intent_id))
    return item


def configure(wallet_id: str, *, enabled: bool, threshold_mc: int, package_id: str | None, credits_mc: int | None,
              currency: str, monthly_limit_mc: int, actor: str, now: str) -> AutoTopUpItem:
    """The settings and the wallet's threshold (set while enabled) in one transaction, on a wallet
    with a saved card if it is to be enabled (ConditionFailed otherwise)."""
    item = _keyed(wallet_id)
    tx = Transaction().update(SETTINGS, item, [
        A.entity.set(AutoTopUpItem), A.wallet_id.set(wallet_id), A.enabled.set(enabled),
        A.threshold_mc.set(threshold_mc), A.package_id.set(package_id) if package_id else A.package_id.remove(),
        A.credits_mc.set(credits_mc) if credits_mc else A.credits_mc.remove(), A.currency.set(currency),
        A.monthly_limit_mc.set(monthly_limit_mc), A.enabled_by.set(actor), A.disabled_reason.remove(),
        A.updated_at.set(now)], condition=A.payment_method_id.exists() if enabled else None)
    ledger.set_top_up_threshold(tx, wallet_id, threshold_mc if enabled else None)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(SETTINGS):
            raise ConditionFailed(None) from None
        raise
    stored = get(wallet_id)
    assert stored is not None
    return stored


def disable(wallet_id: str, reason: str) -> None:
    """Turn auto top-up off (a declined card), the wallet's threshold with it."""
    tx = Transaction().update(SETTINGS, _keyed(wallet_id), [A.enabled.set(False), A.disabled_reason.set(reason)],
                              condition=A.pk.exists())
    ledger.set_top_up_threshold(tx, wallet_id, None)
    tx.commit()


def charge_month(tx: Transaction, wallet_id: str, period: str, credits_mc: int, limit_mc: int, ttl_epoch: int) -> None:
    """Count ``credits_mc`` into the month, in ``tx``, only while it stays within ``limit_mc``
    (the transaction fails, labelled ``MONTH``, otherwise)."""
    month = M(*keys.top_up_month(wallet_id, period))
    tx.update(MONTH, month, [M.entity.set(TopUpMonthItem), M.charged_mc.add(credits_mc), M.ttl_epoch.set(ttl_epoch)],
              condition=M.charged_mc.does_not_exist() | (M.charged_mc <= limit_mc - credits_mc))


def give_back_month(wallet_id: str, period: str, credits_mc: int) -> None:
    M(*keys.top_up_month(wallet_id, period)).update([M.charged_mc.add(-credits_mc)], condition=M.pk.exists())


def charged(wallet_id: str, period: str) -> int:
    month = get_or_none(M, *keys.top_up_month(wallet_id, period))
    return month.charged_mc if month is not None else 0
