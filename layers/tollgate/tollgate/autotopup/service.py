"""Auto top-up: a saved card charged, off-session, when a wallet's available falls below its threshold.

**The card** is saved through Stripe: ``POST /v1/wallet/payment-method`` starts a SetupIntent on the
wallet's Customer (made the first time), the payer confirms it in the browser (Stripe.js), and
``PUT /v1/wallet/payment-method`` keeps what it saved (the payment method's id, brand and last
four digits), after asking Stripe that the setup succeeded on that customer. The card itself never
reaches Tollgate.

**The trigger** is never the debit path (nor this request's: turning it on below the threshold
queues a top-up at once, as a crossing would). The threshold is on the wallet item while auto top-up is
on, so the ledger stream sees the one change of available that crosses it (however many debits
race) and queues one message naming the wallet and that change's ``seq``
(``tollgate.events.derive.top_up_crossings``). :func:`top_up` then creates the purchase whose id
derives from that crossing, in one transaction with the month's count (conditioned on staying
within the monthly limit), and charges the card with the purchase's idempotency key: once per
crossing, however often the message comes. Stripe's ``payment_intent.succeeded`` grants the
credits through the webhook path every purchase takes. A declined card (or one that needs its
holder), or a charge that later fails (Stripe's webhook), fails the purchase (``purchase.failed``),
gives the month its credits back and turns auto top-up off, with the reason, in one transaction
(:func:`purchase_failed`, once however often it is told); nothing is granted.

**A sharded wallet** has no one record that crosses (``tollgate.shards.crossings``): its threshold is
set with its ``CROSSINGS`` item brought to where the wallet stands, and turning it on below the
threshold counts a crossing there, topped up at once under that crossing's id (``sharded-<n>``), so
the next debit is not taken for a crossing of its own.
"""

from __future__ import annotations

from enum import StrEnum

from tollgate import clock, ids, orgs
from tollgate.autotopup import repository, requests
from tollgate.autotopup.exceptions import CardNotSaved, NoSavedCard
from tollgate.autotopup.models import AutoTopUpItem
from tollgate.autotopup.schemas import AutoTopUpIn, AutoTopUpOut, CardOut, CardSetupOut, SavedCardIn
from tollgate.data import ConditionFailed, StoreUnavailable, Transaction, TransactionCancelled
from tollgate.gateways import GatewayError, SavedCard, get_gateway
from tollgate.ledger import posting
from tollgate.principal import Principal
from tollgate.purchases import catalog
from tollgate.purchases import service as purchases
from tollgate.purchases.exceptions import CheckoutNotAllowed, PackageNotFound
from tollgate.purchases.models import PurchaseItem
from tollgate.shards import crossings

GATEWAY = "stripe"
REASON = "auto-top-up"  # what its purchases are made for (their request hash says so)
_FAIL_ATTEMPTS = 4  # the settings or month changed while failing a purchase: read again
_SETTING_ATTEMPTS = 8  # the wallet changed between its read and the settings' save: read again


class Outcome(StrEnum):
    CHARGED = "charged"
    ALREADY_CHARGED = "already_charged"  # the crossing's purchase has its payment
    OFF = "off"  # auto top-up is off (or has no card) now
    LIMIT_REACHED = "limit_reached"
    DECLINED = "declined"
    NOT_SOLD = "not_sold"  # the package or price it buys is no longer sold


def view(wallet_id: str, item: AutoTopUpItem | None) -> AutoTopUpOut:
    period = clock.period_of(clock.now_ms())
    if item is None:
        return AutoTopUpOut(wallet_id=wallet_id, enabled=False, currency="USD",
                            charged_this_month=repository.charged(wallet_id, period))
    credits = item.credits_mc
    if item.package_id and credits is None:
        try:
            credits = catalog.get_package(item.package_id).credits_mc
        except PackageNotFound:  # removed since: shown without its credits (a top-up is then not sold)
            credits = None
    return AutoTopUpOut(
        wallet_id=wallet_id, enabled=bool(item.enabled), threshold=item.threshold_mc, package_id=item.package_id,
        credits=credits, monthly_limit=item.monthly_limit_mc, currency=item.currency,
        card=CardOut(brand=item.card_brand, last4=item.card_last4) if item.payment_method_id else None,
        charged_this_month=repository.charged(wallet_id, period), disabled_reason=item.disabled_reason,
        updated_at=item.updated_at)


def get_settings(principal: Principal, requested: str | None) -> AutoTopUpOut:
    wallet_id = orgs.wallet_for_reading(principal, requested)
    return view(wallet_id, repository.get(wallet_id))


def start_card_setup(principal: Principal, requested: str | None) -> CardSetupOut:
    wallet_id = orgs.wallet_for_managing(principal, requested)
    item = repository.get(wallet_id)
    setup = get_gateway(GATEWAY).start_card_setup(wallet_id=wallet_id, customer_id=item.customer_id if item else None,
                                                  email=principal.email, idempotency_key=ids.random_id("setup"))
    repository.start_setup(wallet_id, setup.customer_id, setup.setup_intent_id, clock.iso(clock.now_ms()))
    return CardSetupOut(setup_intent_id=setup.setup_intent_id, client_secret=setup.client_secret)


def save_card(principal: Principal, requested: str | None, body: SavedCardIn) -> AutoTopUpOut:
    wallet_id = orgs.wallet_for_managing(principal, requested)
    item = repository.get(wallet_id)
    if item is None or item.pending_setup_intent != body.setup_intent_id:
        raise CardNotSaved("that card setup is not this wallet's pending one: start one with POST "
                           "/v1/wallet/payment-method", field="setup_intent_id")
    card = get_gateway(GATEWAY).saved_card(body.setup_intent_id)
    if card is None:
        raise CardNotSaved("the card setup is not confirmed (yet): confirm it with Stripe.js first",
                           field="setup_intent_id")
    if card.customer_id != item.customer_id:
        raise CardNotSaved("that card setup belongs to another customer", field="setup_intent_id")
    try:
        saved = repository.save_card(wallet_id, body.setup_intent_id, card, clock.iso(clock.now_ms()))
    except ConditionFailed:
        raise CardNotSaved("another card setup was started meanwhile: confirm that one", field="setup_intent_id") \
            from None
    return view(wallet_id, saved)


def put_settings(principal: Principal, requested: str | None, body: AutoTopUpIn) -> AutoTopUpOut:
    wallet_id = orgs.wallet_for_managing(principal, requested)
    credits_mc, _, _ = purchases.price(body.package_id, body.credits, body.currency, catalog.settings())
    if credits_mc > body.monthly_limit:
        raise CheckoutNotAllowed("monthly_limit is below the credits of one top-up: it could never charge",
                                 field="monthly_limit")
    for _ in range(_SETTING_ATTEMPTS):
        # The wallet as the threshold will take effect on it: saved only while it is unchanged since.
        before = posting.read_wallet_item_state(wallet_id)
        try:
            item, placed = repository.configure(wallet_id, enabled=body.enabled, threshold_mc=body.threshold,
                                                package_id=body.package_id, credits_mc=body.credits,
                                                currency=body.currency, monthly_limit_mc=body.monthly_limit,
                                                actor=principal.sub, now=clock.iso(clock.now_ms()),
                                                wallet_seq=before.seq)
            break
        except ConditionFailed:
            raise NoSavedCard("save a card first (POST, then PUT /v1/wallet/payment-method)") from None
        except repository.WalletChanged:
            continue  # a debit or credit meanwhile: read it again
    else:
        raise StoreUnavailable("AutoTopUpSettingContention")
    if placed is not None:  # sharded: the crossing this setting counted (or one not announced yet)
        if body.enabled and placed.pending:
            requests.request([(wallet_id, f"sharded-{placed.n}")])
            crossings.announced(crossings.Found(announced=[(wallet_id, "topup", placed.n)]))
        return view(wallet_id, item)
    if body.enabled and before.available < body.threshold:
        # Below the threshold when it took effect: no crossing will come, so the wallet's change then is
        # the one to top up at (a debit after it crosses nothing; one before it was read above).
        requests.request([(wallet_id, before.seq)])
    return view(wallet_id, item)


def top_up(wallet_id: str, crossing: int | str) -> Outcome:
    """Charge the wallet's card for the crossing below its threshold: made by the wallet change whose
    ``seq`` is ``crossing``, or a sharded wallet's crossing (``sharded-<n>``)."""
    item = repository.get(wallet_id)
    if item is None or not item.enabled or not item.payment_method_id or not item.customer_id:
        return Outcome.OFF
    try:
        credits_mc, amount, package_id = purchases.price(item.package_id, item.credits_mc, item.currency,
                                                         catalog.settings())
    except CheckoutNotAllowed:
        return Outcome.NOT_SOLD
    purchase = purchases.new_saved_card_purchase(
        purchase_id=ids.derived_id("pur", wallet_id, "auto-top-up", str(crossing)), wallet_id=wallet_id,
        owner=item.enabled_by or "auto-top-up", credits_mc=credits_mc, amount=amount, currency=item.currency,
        package_id=package_id, reason=REASON)
    period = _period(purchase)  # the month it counts in: the one a failure gives back to
    tx = Transaction()
    purchases.put_new(tx, purchase)
    repository.charge_month(tx, wallet_id, period, credits_mc, item.monthly_limit_mc or 0,
                            clock.period_end_ms(period) // 1000 + repository.MONTH_RETAIN_SECONDS)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(purchases.PURCHASE):  # this crossing's purchase exists: a message again
            stored = purchases.existing(purchase.purchase_id)
            if stored is None or stored.reference or stored.status != "pending":
                return Outcome.ALREADY_CHARGED
            purchase = stored  # made, not charged yet (the last attempt failed in between): charge it now
        elif exc.failed(repository.MONTH):
            return Outcome.LIMIT_REACHED
        else:
            raise
    card = SavedCard(customer_id=item.customer_id, payment_method_id=item.payment_method_id,
                     brand=item.card_brand, last4=item.card_last4)
    charged_at = clock.iso(clock.now_ms())
    try:
        purchases.charge_saved_card(purchase, card)
    except GatewayError as exc:
        if not exc.declined:
            raise  # transient or not, the message comes back; the purchase and its key are kept
        purchase_failed(purchase, exc.message, f"the card was declined ({exc.details.get('decline_code') or 'declined'})",
                        charged_at=charged_at)
        return Outcome.DECLINED
    return Outcome.CHARGED


def made_it(purchase: PurchaseItem) -> bool:
    """Whether auto top-up made ``purchase``: its request hash is the one :func:`top_up` gives its own
    (made again here the same way, so the two cannot drift apart)."""
    if purchase.gateway != GATEWAY:
        return False
    mine = purchases.new_saved_card_purchase(
        purchase_id=purchase.purchase_id, wallet_id=purchase.wallet_id, owner=purchase.owner,
        credits_mc=purchase.credits_mc, amount=purchase.amount, currency=purchase.currency,
        package_id=purchase.package_id, reason=REASON)
    return mine.request_hash == purchase.request_hash


def purchase_failed(purchase: PurchaseItem, why: str, disabled_because: str, *, charged_at: str | None = None) -> bool:
    """The one way an auto top-up's purchase fails, declined at charge time or failed later (Stripe's
    webhook): failed, its month's credits given back and auto top-up off, in one transaction
    (``repository.fail``); ``purchase.failed`` follows from its status on the stream. False, with
    nothing changed, if it was not pending (handled already, or paid). ``charged_at``: when the card
    was charged (unknown: when the purchase was made); settings saved after it stay on."""
    for _ in range(_FAIL_ATTEMPTS):
        try:
            return repository.fail(purchase, _period(purchase), f"auto top-up: {why}",
                                   f"{disabled_because}; save a card and turn auto top-up on again",
                                   charged_at or purchase.created_at)
        except TransactionCancelled:
            continue  # the settings or the month changed since read: read again
    raise StoreUnavailable("AutoTopUpFailureContention")


def _period(purchase: PurchaseItem) -> str:
    return clock.period_of(clock.parse_rfc3339(purchase.created_at))
