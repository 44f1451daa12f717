"""Checkout: price on the server, create a pending purchase once, start the gateway payment.

The purchase id derives from the caller's Idempotency-Key, so a retried checkout finds the
purchase it already made and returns it (with the same PaymentIntent / authorization URL)
instead of charging twice; the gateway call carries an idempotency key from the purchase id.
"""

from __future__ import annotations

from tollgate import clock, cursors, idempotency, keys
from tollgate.amounts import format_credits
from tollgate.data import ConditionFailed, Transaction
from tollgate.errors import Forbidden
from tollgate.gateways import PaymentRequest, PaymentSession, SavedCard, get_gateway
from tollgate.principal import Principal, validate_wallet_id
from tollgate.purchases import catalog, repository
from tollgate.purchases.exceptions import CheckoutNotAllowed, CheckoutRateLimited, PurchaseNotFound
from tollgate.purchases.models import PurchaseItem
from tollgate.purchases.schemas import CheckoutIn, PurchaseList, PurchaseOut, SettingsIn

_SESSION_FIELDS = ("reference", "client_secret", "checkout_url", "checkout_session_id", "authorization_url",
                   "access_code")


def purchase_view(item: PurchaseItem, *, with_secrets: bool = False) -> PurchaseOut:
    return PurchaseOut(
        purchase_id=item.purchase_id,
        status=item.status,
        gateway=item.gateway,
        amount=item.amount,
        currency=item.currency,
        credits=item.credits_mc,
        wallet_id=item.wallet_id,
        package_id=item.package_id,
        created_at=item.created_at,
        paid_at=item.paid_at,
        reference=item.reference,
        client_secret=item.client_secret if with_secrets else None,
        checkout_url=item.checkout_url if with_secrets else None,
        authorization_url=item.authorization_url if with_secrets else None,
        refunded_amount=item.refunded_amount,
        credits_clawed_back=item.clawed_back_mc,
        credits_unrecovered=item.unrecovered_mc,
        flagged=item.flagged,
        failure_reason=item.failure_reason,
    )


def price(package_id: str | None, credits_mc: int | None, currency: str,
          settings: SettingsIn) -> tuple[int, int, str | None]:
    """(credits_mc, amount in minor units, package_id) of a package or of a custom amount of credits,
    all computed here, never by the client; CheckoutNotAllowed (422) if it is not sold so."""
    if package_id is not None:
        package = catalog.get_package(package_id)
        if not package.active:
            raise CheckoutNotAllowed(f"package '{package_id}' is not on sale", field="package_id")
        prices = package.prices or {}
        if currency not in prices:
            raise CheckoutNotAllowed(f"package '{package_id}' has no {currency} price", field="currency",
                                     currencies=sorted(prices))
        return package.credits_mc, int(prices[currency]), package_id
    credits_mc = credits_mc or 0
    per_credit = settings.price_per_credit.get(currency)
    if per_credit is None:
        raise CheckoutNotAllowed(f"custom amounts are not sold in {currency}", field="currency",
                                 currencies=sorted(settings.price_per_credit))
    if not settings.min_credits <= credits_mc <= settings.max_credits:
        raise CheckoutNotAllowed(
            f"credits must be between {format_credits(settings.min_credits)} and {format_credits(settings.max_credits)}",
            field="credits",
        )
    # Rounded up to a whole minor unit: never undercharge a fraction of a cent.
    return credits_mc, -(-credits_mc * per_credit // 1000), None


def checkout(principal: Principal, body: CheckoutIn, idempotency_key: str | None) -> PurchaseOut:
    if principal.is_service or principal.own_wallet_id is None:
        raise Forbidden("checkout is for people buying credits for their own wallet")
    wallet_id = principal.own_wallet_id
    email = principal.email or body.email
    if body.gateway == "paystack" and not email:
        raise CheckoutNotAllowed("Paystack needs the payer's email: sign in with one or send email", field="email")
    settings = catalog.settings()
    credits_mc, amount, package_id = price(body.package_id, body.credits, body.currency, settings)
    request_hash = idempotency.request_hash({"op": "checkout", "wallet": wallet_id, "body": body.model_dump(),
                                             "amount": amount})
    purchase_id = idempotency.record_id("pur", wallet_id, "checkout", idempotency_key)
    now_ms = clock.now_ms()
    item = repository.new_purchase(
        purchase_id=purchase_id,
        wallet_id=wallet_id,
        owner=principal.sub,
        status="pending",
        gateway=body.gateway,
        currency=body.currency,
        amount=amount,
        credits_mc=credits_mc,
        package_id=package_id,
        email=email,
        created_at=clock.iso(now_ms),
        request_hash=request_hash,
        refunded_amount=0,
        clawed_back_mc=0,
        unrecovered_mc=0,
    )
    # A retried checkout (same key, same request) finds its purchase: no second payment,
    # and it does not count against the rate limit.
    existing = repository.get_purchase(purchase_id) if idempotency_key else None
    if existing is None:
        _count_checkout(wallet_id, now_ms, settings)
        try:
            repository.put_purchase(item)
        except ConditionFailed:
            existing = repository.get_purchase(purchase_id)  # a concurrent retry created it first
    if existing is not None:
        idempotency.check_replay(existing.request_hash, request_hash)
        if existing.reference:
            return purchase_view(existing, with_secrets=True)
        item = existing
    return _start_payment(item, email, settings)


def _count_checkout(wallet_id: str, now_ms: int, settings: SettingsIn) -> None:
    window = clock.iso(now_ms)[:13]  # one window per hour: "2026-11-21T06"
    if not repository.count_checkout(wallet_id, window, settings.checkouts_per_hour, now_ms // 1000 + 7200):
        raise CheckoutRateLimited(
            f"at most {settings.checkouts_per_hour} checkouts an hour; try again later", retry_after_seconds=3600
        )


def _payment_request(item: PurchaseItem, email: str | None, settings: SettingsIn) -> PaymentRequest:
    credits_text = format_credits(item.credits_mc)
    return PaymentRequest(
        purchase_id=item.purchase_id,
        amount=item.amount,
        currency=item.currency,
        description=f"{credits_text} Tollgate credits",
        email=email,
        metadata={"purchase_id": item.purchase_id, "wallet_id": item.wallet_id, "credits": credits_text},
        hosted=settings.stripe_hosted_checkout and item.gateway == "stripe",
        success_url=settings.success_url,
        cancel_url=settings.cancel_url,
        callback_url=settings.paystack_callback_url,
    )


def _start_payment(item: PurchaseItem, email: str | None, settings: SettingsIn) -> PurchaseOut:
    gateway = get_gateway(item.gateway)
    request = _payment_request(item, email, settings)
    # If the gateway fails, the purchase stays pending without a payment (GatewayError, 502):
    # a retry with the same Idempotency-Key starts it again, under the same gateway key.
    session = gateway.create_payment(request, idempotency_key=f"tollgate-checkout-{item.purchase_id}")
    _record_session(item, session)
    return purchase_view(item, with_secrets=True)


def _record_session(item: PurchaseItem, session: PaymentSession) -> None:
    fields = {k: getattr(session, k) for k in _SESSION_FIELDS if getattr(session, k) is not None}
    repository.set_fields(item.purchase_id, **fields)
    repository.put_reference(item.gateway, session.reference, item.purchase_id)
    for name, value in fields.items():
        setattr(item, name, value)


# -- purchases nobody is present for (auto top-up): a saved card, charged off-session ---------------

PURCHASE = "purchase"  # the label of a new purchase's put in a caller's transaction


def new_saved_card_purchase(*, purchase_id: str, wallet_id: str, owner: str, credits_mc: int, amount: int,
                            currency: str, package_id: str | None, reason: str) -> PurchaseItem:
    """A pending Stripe purchase to charge a saved card for (not written yet: see :func:`put_new`)."""
    now = clock.iso(clock.now_ms())
    return repository.new_purchase(
        purchase_id=purchase_id, wallet_id=wallet_id, owner=owner, status="pending", gateway="stripe",
        currency=currency, amount=amount, credits_mc=credits_mc, package_id=package_id, created_at=now,
        request_hash=idempotency.request_hash({"op": reason, "purchase": purchase_id, "amount": amount}),
        refunded_amount=0, clawed_back_mc=0, unrecovered_mc=0)


def put_new(tx: Transaction, item: PurchaseItem) -> None:
    """Add the purchase's creation (once: it fails, labelled ``PURCHASE``, if it exists) to ``tx``."""
    tx.put(PURCHASE, item, PurchaseItem.pk.does_not_exist())


def existing(purchase_id: str) -> PurchaseItem | None:
    return repository.get_purchase(purchase_id)


def charge_saved_card(item: PurchaseItem, card: SavedCard) -> None:
    """Charge ``card`` for the purchase, once (the gateway's idempotency key is the purchase's): its
    webhook grants the credits, as any payment's. GatewayError as the gateway failed (``declined``)."""
    request = _payment_request(item, None, catalog.settings())
    session = get_gateway(item.gateway).charge_saved_card(request, card,
                                                          idempotency_key=f"tollgate-charge-{item.purchase_id}")
    _record_session(item, session)


def fail(purchase_id: str, reason: str) -> bool:
    """A pending purchase whose payment failed: ``failed`` (False if it was not pending)."""
    return repository.mark_failed(purchase_id, reason)


def visible_purchase(principal: Principal, purchase_id: str) -> PurchaseItem:
    """The purchase, if the caller owns it or is an admin; someone else's is a 404, as a missing one."""
    item = repository.get_purchase(purchase_id) if purchase_id.startswith("pur_") else None
    if item is None or not (principal.is_admin or item.wallet_id == principal.own_wallet_id):
        raise PurchaseNotFound("purchase not found")
    return item


def get_purchase(principal: Principal, purchase_id: str) -> PurchaseOut:
    item = visible_purchase(principal, purchase_id)
    return purchase_view(item, with_secrets=item.wallet_id == principal.own_wallet_id)


def list_purchases(principal: Principal, *, limit: int, cursor: str | None, wallet_id: str | None) -> PurchaseList:
    """A person sees their own purchases; an admin sees everyone's (or one wallet's)."""
    if principal.is_admin:
        wallet_id = validate_wallet_id(wallet_id) if wallet_id is not None else None
    else:
        wallet_id = principal.wallet_for_reading(wallet_id)
    scope = cursors.scope("purchases", wallet_id)
    index, partition = (("GSI2", keys.ALL_PURCHASES_GSI2PK) if wallet_id is None
                        else ("GSI1", keys.wallet_purchases_gsi1pk(wallet_id)))
    start = cursors.decode_index(cursor, scope, index, partition)
    items, last = repository.list_purchases(wallet_id=wallet_id, limit=limit, start=start)
    return PurchaseList(data=[purchase_view(i) for i in items], next_cursor=cursors.encode(last, scope) if last else None)
