"""Subscription tiers (seed 004): so many credits a month, and what of them rolls over.

A tier's ``rollover`` says what of an unused allocation carries into the next month:
nothing (``none``) or at most ``credits`` (``cap``). Tiers are listed cheapest first.
"""

from __future__ import annotations

from tollgate import audit, clock
from tollgate.principal import Principal, validate_wallet_id
from tollgate.tiers import allocation, repository
from tollgate.tiers.exceptions import TierNotFound, TierNotOffered
from tollgate.tiers.models import SubscriptionItem, TierItem
from tollgate.tiers.schemas import (
    CappedRollover,
    RolloverOut,
    TierIn,
    TierList,
    TierOut,
    WalletTierIn,
    WalletTierOut,
)


def view(item: TierItem) -> TierOut:
    rollover = item.rollover or {"type": "none"}
    return TierOut(tier_id=item.tier_id, name=item.name, monthly_credits=item.monthly_credits_mc,
                   rollover=RolloverOut(type=rollover["type"], credits=rollover.get("credits_mc")),
                   active=item.active, created_at=item.created_at, updated_at=item.updated_at)


def put_tier(tier_id: str, body: TierIn, *, actor: str) -> TierOut:
    """Create or replace a tier, recorded in the audit trail (``tier.put``) in the same transaction."""
    rollover: dict[str, object] = {"type": body.rollover.type}
    if isinstance(body.rollover, CappedRollover):
        rollover["credits_mc"] = body.rollover.credits

    def change() -> TierOut:
        now = clock.iso(clock.now_ms())
        existing = repository.get_tier(tier_id)
        item = repository.new_tier(
            tier_id=tier_id, name=body.name, monthly_credits_mc=body.monthly_credits, rollover=rollover,
            active=body.active, created_at=existing.created_at if existing else now, updated_at=now)
        after = view(item)
        repository.save_tier(item, existing, audit.Change(
            actor=actor, action="tier.put", target=f"tier:{tier_id}",
            before=audit.view(view(existing) if existing else None), after=audit.view(after), at=now))
        return after

    return audit.apply(change)


def list_tiers(*, include_inactive: bool = False) -> TierList:
    items = sorted(repository.list_tiers(), key=lambda i: (i.monthly_credits_mc, i.tier_id))
    return TierList(data=[view(i) for i in items if include_inactive or i.active])


def assign_tier(principal: Principal, wallet_id: str, body: WalletTierIn) -> WalletTierOut:
    """Subscribe the wallet to a tier (or, with None, end its subscription). A new subscriber is
    allocated this month's credits at once; a wallet allocated this month already (another tier
    earlier in the month) gets the new tier's credits from the next period on."""
    principal.require_admin()
    wallet_id = validate_wallet_id(wallet_id)
    now_ms = clock.now_ms()
    period = clock.period_of(now_ms)
    if body.tier_id is None:
        audit.apply(lambda: _end_subscription(wallet_id, principal.actor))
        return WalletTierOut(wallet_id=wallet_id, tier_id=None, period=period, allocated=0, next_allocation_at=None)
    tier = repository.get_tier(body.tier_id)
    if tier is None:
        raise TierNotFound(f"tier '{body.tier_id}' not found", field="tier_id")
    if not tier.active:
        raise TierNotOffered(f"tier '{body.tier_id}' is not on offer", field="tier_id")
    audit.apply(lambda: _subscribe(wallet_id, tier.tier_id, principal.actor))
    allocated = allocation.allocate(wallet_id, tier, period)
    return WalletTierOut(wallet_id=wallet_id, tier_id=tier.tier_id, period=period, allocated=allocated,
                         next_allocation_at=allocation.next_period_start(now_ms))


def subscription_view(item: SubscriptionItem | None) -> dict[str, object] | None:
    """A wallet's subscription as the audit trail records it."""
    if item is None:
        return None
    return {"wallet_id": item.wallet_id, "tier_id": item.tier_id, "created_at": item.created_at,
            "updated_at": item.updated_at}


def _subscribe(wallet_id: str, tier_id: str, actor: str) -> None:
    """Put the wallet's subscription, recorded in the audit trail (``wallet_tier.put``) in the same transaction."""
    now = clock.iso(clock.now_ms())
    existing = repository.get_subscription(wallet_id)
    item = repository.new_subscription(wallet_id, tier_id, actor, existing.created_at if existing else now, now)
    repository.save_subscription(item, existing, audit.Change(
        actor=actor, action="wallet_tier.put", target=f"wallet:{wallet_id}", before=subscription_view(existing),
        after=subscription_view(item), at=now))


def _end_subscription(wallet_id: str, actor: str) -> None:
    """Delete the wallet's subscription with its audit record; a wallet without one: nothing to write or record."""
    existing = repository.get_subscription(wallet_id)
    if existing is None:
        return
    repository.remove_subscription(existing, audit.Change(
        actor=actor, action="wallet_tier.put", target=f"wallet:{wallet_id}", before=subscription_view(existing),
        after=None, at=clock.iso(clock.now_ms())))


__all__ = ["assign_tier", "list_tiers", "put_tier", "subscription_view", "view"]
