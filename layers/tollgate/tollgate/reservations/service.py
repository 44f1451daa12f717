"""Reserve -> settle: hold up to ``max_credits`` while an AI call runs, then charge it.

A hold moves credits from ``available`` to ``reserved`` (so they cannot be spent) and
records itself in the wallet's ``holds`` map with its expiry. The wallet map is the one
truth of whether a hold is open: settle and release are conditioned on the hold still
being there and unexpired. An expired hold frees itself at read time (wallet reads net it
out; a debit that finds too little first releases expired holds); the sweeper then marks
the reservation item expired.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, idempotency, ids, keys, orgs
from tollgate.amounts import format_credits
from tollgate.config import settings
from tollgate.data import Transaction, TransactionCancelled
from tollgate.errors import Forbidden, ValidationFailed
from tollgate.ledger import WalletState, posting
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.pricing import PricingRule, feature_for_charging
from tollgate.principal import Principal
from tollgate.reservations import repository
from tollgate.reservations.exceptions import ReservationClosed, ReservationNotFound, TooManyHolds
from tollgate.reservations.models import ReservationItem
from tollgate.reservations.schemas import (
    ReleaseOut,
    ReservationIn,
    ReservationOut,
    ReservationView,
    SettleIn,
    SettleOut,
)
from tollgate.usage import measurement


def reserve(principal: Principal, body: ReservationIn, idempotency_key: str | None) -> ReservationOut:
    principal.require_scope("reservations")
    # A person's own wallet: no read; an org wallet: one read of their membership (and its cap).
    spender = orgs.wallet_for_spending(principal, body.wallet_id)
    wallet_id = spender.wallet_id
    feature = feature_for_charging(body.feature)
    if body.max_credits is not None and (body.usage is not None or body.quantity is not None):
        raise ValidationFailed("give max_credits or an estimated usage, not both", field="max_credits")
    held = body.max_credits if body.max_credits is not None else feature.pricing.cost(
        measurement(body.quantity, body.usage)
    )
    if held <= 0:
        raise ValidationFailed("the hold would be zero; give max_credits", field="max_credits")
    ttl = body.ttl_seconds or settings().default_hold_ttl_seconds
    request_hash = idempotency.request_hash({"op": "reserve", "wallet": wallet_id, "feature": feature.feature_id,
                                             "held": held, "ttl": ttl, "metadata": body.metadata})
    rid = idempotency.record_id("rsv", wallet_id, "reservation", spender.scoped_key(idempotency_key))
    now_ms = clock.now_ms()
    expires_ms = now_ms + ttl * 1000
    item = repository.new(
        reservation_id=rid,
        wallet_id=wallet_id,
        feature=feature.feature_id,
        pricing=feature.pricing.to_item(),
        developer_id=feature.developer_id,
        revenue_share_bps=feature.revenue_share_bps if feature.developer_id else None,
        held=held,
        status="open",
        created_at=clock.iso(now_ms),
        expires_at=clock.iso(expires_ms),
        expires_at_ms=expires_ms,
        request_hash=request_hash,
        actor=principal.actor,
        metadata=body.metadata or None,
        member=spender.member,
        cap_period=clock.period_of(now_ms) if spender.capped else None,
    )
    # A capped org member's hold counts in full against their month's cap, in the same transaction.
    also = orgs.with_cap(repository.put(item), orgs.charge(spender, held, now_ms))
    try:
        posting.hold(wallet_id, rid, held, expires_ms, settings().max_open_holds, also,
                     lambda wallet: _hold_refused(wallet, held))
    except TransactionCancelled as cancelled:
        existing = cancelled.old(repository.RESERVATION, ReservationItem)
        if existing is None:
            raise orgs.refusal(cancelled, spender, held) or cancelled from None
        idempotency.check_replay(existing.request_hash, request_hash)
        item = existing
    wallet = posting.read_wallet(wallet_id)
    return ReservationOut(
        reservation_id=item.reservation_id,
        wallet_id=wallet_id,
        feature=item.feature,
        held=item.held,
        expires_at=item.expires_at,
        available=wallet.effective_available(clock.now_ms()),
        status=_status(item, clock.now_ms()),
    )


def _hold_refused(wallet: WalletState, held: int) -> Exception:
    now_ms = clock.now_ms()
    if wallet.exists and len(wallet.holds) - len(wallet.expired_holds(now_ms)) >= settings().max_open_holds:
        return TooManyHolds(f"the wallet already has {settings().max_open_holds} open holds")
    return InsufficientCredits(
        "not enough credits available for this hold",
        required=format_credits(held),
        available=format_credits(wallet.effective_available(now_ms)),
    )


def _status(item: ReservationItem, now_ms: int) -> str:
    if item.status == "open" and item.expires_at_ms <= now_ms:
        return "expired"
    return item.status


def _closed(item: ReservationItem) -> ReservationClosed:
    # Still "open" on its record but gone from the wallet means it expired and was freed.
    status = "expired" if item.status == "open" else item.status
    return ReservationClosed(f"reservation is {status}", status=status)


def _load(principal: Principal, reservation_id: str) -> ReservationItem:
    item = repository.get(reservation_id) if reservation_id.startswith("rsv_") else None
    if item is None or not orgs.may_act_on(principal, item.wallet_id, item.actor):
        raise ReservationNotFound("reservation not found")
    return item


def get(principal: Principal, reservation_id: str) -> ReservationView:
    item = _load(principal, reservation_id)
    return ReservationView(
        reservation_id=item.reservation_id,
        wallet_id=item.wallet_id,
        feature=item.feature,
        held=item.held,
        status=_status(item, clock.now_ms()),
        created_at=item.created_at,
        expires_at=item.expires_at,
        cost=item.cost,
        transaction_id=item.transaction_id,
    )


def settle(principal: Principal, reservation_id: str, body: SettleIn) -> SettleOut:
    principal.require_scope("reservations")
    res = _load(principal, reservation_id)
    if body.amount is not None and not principal.is_service:
        raise Forbidden("only server API keys may set an explicit amount")
    measured = measurement(body.quantity, body.usage)
    actual = body.amount if body.amount is not None else PricingRule.from_item(res.pricing).cost(measured)
    request_hash = idempotency.request_hash({"op": "settle", "reservation": reservation_id,
                                             "measure": measured.as_dict(), "amount": body.amount,
                                             "metadata": body.metadata})
    wallet_id, held = res.wallet_id, res.held
    if res.status == "settled" and res.settle_hash == request_hash:
        return _settle_view(res, replay=True)
    now_ms = clock.now_ms()
    if _status(res, now_ms) != "open":
        raise ReservationClosed(f"reservation is {_status(res, now_ms)}", status=_status(res, now_ms))
    cost, capped = min(actual, held), actual > held
    # A usage entry: located, so a reversal finds it from this id alone (tollgate.ids).
    tx = ids.located_id("tx", wallet_id, "settle", reservation_id)
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=tx,
        entry_type="usage",
        amount=-cost,
        now_ms=now_ms,
        request_hash=request_hash,
        actor=principal.actor,
        feature=res.feature,
        reference=f"reservation:{reservation_id}",
        measure=measured.as_dict() or None,
        priced_by="amount" if body.amount is not None else res.pricing["type"],
        requested_cost=actual if capped else None,
        developer_id=res.developer_id,
        revenue_share_bps=res.revenue_share_bps,
        metadata=body.metadata or res.metadata or None,
    )
    closing = repository.close(reservation_id, "settled", entry.created_at, cost=cost, released=held - cost,
                               capped=capped, requested_cost=actual, transaction_id=tx, settle_hash=request_hash)
    try:
        posting.settle_hold(entry, reservation_id, held, cost, orgs.with_cap(closing, _give_back(res, held - cost, now_ms)))
    except TransactionCancelled:
        latest = repository.get(reservation_id) or res
        if latest.status == "settled" and latest.settle_hash == request_hash:
            return _settle_view(latest, replay=True)
        raise _closed(latest) from None
    return SettleOut(
        reservation_id=reservation_id,
        transaction_id=tx,
        cost=cost,
        released=held - cost,
        capped=capped,
        requested_cost=actual,
        balance=posting.read_wallet(wallet_id).balance,
    )


def _settle_view(res: ReservationItem, *, replay: bool) -> SettleOut:
    wallet = posting.read_wallet(res.wallet_id)
    entry = posting.get_entry(res.wallet_id, res.transaction_id or "") if replay else None
    return SettleOut(
        reservation_id=res.reservation_id,
        transaction_id=res.transaction_id or "",
        cost=res.cost or 0,
        released=res.released or 0,
        capped=bool(res.capped),
        requested_cost=res.requested_cost or 0,
        balance=posting.response_balance(entry, wallet),
    )


def release(principal: Principal, reservation_id: str) -> ReleaseOut:
    principal.require_scope("reservations")
    res = _load(principal, reservation_id)
    now_ms = clock.now_ms()
    status = _status(res, now_ms)
    if status != "open":
        raise ReservationClosed(f"reservation is {status}", status=status)
    token = ids.random_id("rel")
    try:
        posting.release_holds(res.wallet_id, {reservation_id: res.held}, expired=False,
                              also=orgs.with_cap(repository.close(reservation_id, "released", clock.iso(now_ms),
                                                                  release_token=token),
                                                 _give_back(res, res.held, now_ms)))
    except TransactionCancelled:
        now = repository.get(reservation_id) or res
        if now.status != "released" or now.release_token != token:
            raise _closed(now) from None
        # This request's own release, applied on an attempt whose answer was lost: it is released.
    return ReleaseOut(reservation_id=reservation_id, released=res.held)


def _give_back(res: ReservationItem, unused: int, now_ms: int) -> Transaction | None:
    """A capped org member's hold counted in full: what it did not spend goes back to their month's spend.
    (A hold freed by expiry is not given back: the member can under-spend their cap, never over-spend it.)"""
    if res.cap_period is None or res.member is None:
        return None
    return orgs.give_back(res.wallet_id, res.member, res.cap_period, unused, now_ms)


def sweep_expired(now_ms: int | None = None) -> dict[str, int]:
    """Scheduled tidy-up: free the wallet side of expired holds and mark them expired."""
    now_ms = clock.now_ms() if now_ms is None else now_ms
    counts = {"expired": 0, "already_closed": 0}
    for shard in keys.hold_shards():
        start: dict[str, Any] | None = None
        while True:
            items, start = repository.expired_open(shard, now_ms, start)
            for item in items:
                counts["expired" if _expire_one(item, now_ms) else "already_closed"] += 1
            if not start:
                break
    return counts


def _expire_one(item: ReservationItem, now_ms: int) -> bool:
    now = clock.iso(now_ms)
    try:
        posting.release_holds(item.wallet_id, {item.reservation_id: item.held}, expired=True,
                              also=repository.close(item.reservation_id, "expired", now))
        return True
    except TransactionCancelled as cancelled:
        if cancelled.failed(repository.RESERVATION):
            return False  # settled or released meanwhile
    # The wallet had already freed it (a debit released it lazily): just close the record.
    try:
        repository.close(item.reservation_id, "expired", now).commit()
    except TransactionCancelled:
        return False
    return True
