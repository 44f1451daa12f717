"""Auto top-up storage: the wallet's settings and card (one item beside the wallet), and each
month's charged credits (its own partition, ADDed under the monthly limit in the purchase's
transaction). A sharded wallet's threshold is set with its CROSSINGS item
(``tollgate.shards.crossings.set_threshold``), so setting it is never taken for a crossing."""

from __future__ import annotations

from tollgate import keys, ledger
from tollgate.autotopup.models import AutoTopUpItem, TopUpMonthItem
from tollgate.data import ConditionFailed, Transaction, TransactionCancelled, conditional, get_or_none
from tollgate.gateways import SavedCard
from tollgate.ledger import repository as wallets
from tollgate.purchases import repository as purchases
from tollgate.purchases.models import PurchaseItem
from tollgate.shards import crossings
from tollgate.shards.crossings import Placed

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


class WalletChanged(Exception):
    """The wallet changed since it was read (``wallet_seq``): read it again, then save again."""


def configure(wallet_id: str, *, enabled: bool, threshold_mc: int, package_id: str | None, credits_mc: int | None,
              currency: str, monthly_limit_mc: int, actor: str, now: str,
              wallet_seq: int | None = None) -> tuple[AutoTopUpItem, Placed | None]:
    """The settings and the wallet's threshold (set while enabled) in one transaction, on a wallet
    with a saved card if it is to be enabled (ConditionFailed otherwise). A sharded wallet's CROSSINGS
    item rides along: where it stands against the threshold, a new crossing if this turns it on below
    (returned: the caller tops up at once); None for any other wallet, whose threshold is set only
    while it is still at ``wallet_seq`` (:class:`WalletChanged` otherwise), so the caller knows which
    side of the threshold it was on when the threshold took effect."""
    item = _keyed(wallet_id)
    tx = Transaction().update(SETTINGS, item, [
        A.entity.set(AutoTopUpItem), A.wallet_id.set(wallet_id), A.enabled.set(enabled),
        A.threshold_mc.set(threshold_mc), A.package_id.set(package_id) if package_id else A.package_id.remove(),
        A.credits_mc.set(credits_mc) if credits_mc else A.credits_mc.remove(), A.currency.set(currency),
        A.monthly_limit_mc.set(monthly_limit_mc), A.enabled_by.set(actor), A.disabled_reason.remove(),
        A.updated_at.set(now)], condition=A.payment_method_id.exists() if enabled else None)
    try:
        placed = _set_threshold(tx, wallet_id, threshold_mc if enabled else None, crossing=True, wallet_seq=wallet_seq)
    except TransactionCancelled as exc:
        if exc.failed(SETTINGS):
            raise ConditionFailed(None) from None
        if exc.failed(wallets.WALLET):
            raise WalletChanged(wallet_id) from None
        raise
    stored = get(wallet_id)
    assert stored is not None
    return stored, placed


def _set_threshold(tx: Transaction, wallet_id: str, threshold_mc: int | None, *, crossing: bool,
                   wallet_seq: int | None = None) -> Placed | None:
    """Commit ``tx`` with the wallet's threshold set (None: cleared): a sharded wallet's through its
    CROSSINGS item (what it returns), any other's on its item (None; given ``wallet_seq``, only while
    the wallet is still at it)."""
    placed = crossings.set_threshold(wallet_id, "topup", threshold_mc, tx, crossing=crossing)
    if placed is None:
        ledger.set_top_up_threshold(tx, wallet_id, threshold_mc, wallet_seq)
        tx.commit()
    return placed


def fail(purchase: PurchaseItem, period: str, failure_reason: str, disabled_reason: str, charged_at: str) -> bool:
    """An auto top-up's pending purchase failed: mark it failed, give its month (``period``, the one it
    was counted in) its credits back, and turn auto top-up off with the wallet's threshold: one
    transaction, so a crash leaves all or none of it. False, with nothing changed, if the purchase was
    not pending (this failure was handled already, or it was paid). The settings stay on if saved after
    ``charged_at`` (a card saved and turned on since is not the card that failed).
    ``TransactionCancelled`` if the settings or month changed since they were read: read again."""
    wallet_id = purchase.wallet_id
    tx = purchases.update_purchase(purchase.purchase_id, sets={"status": "failed", "failure_reason": failure_reason},
                                   condition=PurchaseItem.status == "pending")
    month = get_or_none(M, *keys.top_up_month(wallet_id, period))
    if month is not None and month.charged_mc >= purchase.credits_mc:  # else: gone with its TTL, nothing to give
        tx.update(MONTH, month, [M.charged_mc.add(-purchase.credits_mc)], M.charged_mc >= purchase.credits_mc)
    settings = get(wallet_id)
    disable = settings is not None and (settings.updated_at or "") <= charged_at
    if settings is not None and disable:
        tx.update(SETTINGS, settings, [A.enabled.set(False), A.disabled_reason.set(disabled_reason)],
                  A.updated_at == settings.updated_at if settings.updated_at else A.updated_at.does_not_exist())
    try:
        if disable:
            _set_threshold(tx, wallet_id, None, crossing=False)
        else:
            tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(purchases.PURCHASE):
            return False
        raise
    return True


def charge_month(tx: Transaction, wallet_id: str, period: str, credits_mc: int, limit_mc: int, ttl_epoch: int) -> None:
    """Count ``credits_mc`` into the month, in ``tx``, only while it stays within ``limit_mc``
    (the transaction fails, labelled ``MONTH``, otherwise)."""
    month = M(*keys.top_up_month(wallet_id, period))
    tx.update(MONTH, month, [M.entity.set(TopUpMonthItem), M.charged_mc.add(credits_mc), M.ttl_epoch.set(ttl_epoch)],
              condition=M.charged_mc.does_not_exist() | (M.charged_mc <= limit_mc - credits_mc))


def charged(wallet_id: str, period: str) -> int:
    month = get_or_none(M, *keys.top_up_month(wallet_id, period))
    return month.charged_mc if month is not None else 0
