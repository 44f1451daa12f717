"""Tier storage: the catalog partition's ``TIER#`` items, wallets' subscriptions and allocation runs."""

from __future__ import annotations

from typing import Any

from tollgate import audit, keys
from tollgate.data import ConditionFailed, Transaction, conditional, get_or_none
from tollgate.tiers.models import AllocationRunItem, SubscriptionItem, TierItem

TIER = "tier"
SUBSCRIPTION = "subscription"


def new_tier(**fields: Any) -> TierItem:
    return TierItem(*keys.tier(fields["tier_id"]), **fields)


def save_tier(item: TierItem, stored: TierItem | None, change: audit.Change) -> None:
    """Put the tier and its audit record in one transaction, if the tier is still as ``stored``."""
    audit.commit(Transaction().put(TIER, item, audit.unchanged(TierItem, stored)), change, guarded=TIER)


def get_tier(tier_id: str) -> TierItem | None:
    return get_or_none(TierItem, *keys.tier(tier_id))


def list_tiers() -> list[TierItem]:
    """Every tier, in one Query of the catalog partition."""
    return list(TierItem.query(keys.CATALOG_PK, TierItem.sk.startswith(keys.TIER_PREFIX), consistent_read=True))


def get_subscription(wallet_id: str) -> SubscriptionItem | None:
    return get_or_none(SubscriptionItem, *keys.subscription(wallet_id))


def put_subscription(wallet_id: str, tier_id: str, actor: str, now: str) -> SubscriptionItem:
    """Subscribe a wallet without an audit record (tests and tools; the service uses :func:`save_subscription`)."""
    existing = get_subscription(wallet_id)
    item = SubscriptionItem(*keys.subscription(wallet_id), gsi1pk=keys.subscribers_gsi1pk(wallet_id),
                            gsi1sk=wallet_id, wallet_id=wallet_id, tier_id=tier_id, assigned_by=actor,
                            created_at=existing.created_at if existing else now, updated_at=now)
    item.save()
    return item


def delete_subscription(wallet_id: str) -> None:
    """End a subscription without an audit record (tests and tools; the service uses :func:`remove_subscription`)."""
    SubscriptionItem(*keys.subscription(wallet_id)).delete()


def new_subscription(wallet_id: str, tier_id: str, actor: str, created_at: str, updated_at: str) -> SubscriptionItem:
    return SubscriptionItem(*keys.subscription(wallet_id), gsi1pk=keys.subscribers_gsi1pk(wallet_id), gsi1sk=wallet_id,
                            wallet_id=wallet_id, tier_id=tier_id, assigned_by=actor, created_at=created_at,
                            updated_at=updated_at)


def save_subscription(item: SubscriptionItem, stored: SubscriptionItem | None, change: audit.Change) -> None:
    """Put the subscription and its audit record in one transaction, if it is still as ``stored``."""
    audit.commit(Transaction().put(SUBSCRIPTION, item, audit.unchanged(SubscriptionItem, stored)), change,
                 guarded=SUBSCRIPTION)


def remove_subscription(stored: SubscriptionItem, change: audit.Change) -> None:
    """Delete the subscription and put its audit record in one transaction, if it is still as ``stored``."""
    audit.commit(Transaction().delete(SUBSCRIPTION, SubscriptionItem(*keys.subscription(stored.wallet_id)),
                                      audit.unchanged(SubscriptionItem, stored)), change, guarded=SUBSCRIPTION)


def subscribers_page(shard: int, after: str | None, limit: int) -> list[SubscriptionItem]:
    """Up to ``limit`` subscriptions of one subscribers' shard, by wallet id, after ``after``
    (one Query: the page's last wallet id is the next page's cursor)."""
    S = SubscriptionItem
    condition = S.gsi1sk > after if after is not None else None
    return list(S.subscribers.query(f"SUBSCRIBERS#{shard}", condition, limit=limit))


def start_run(item: AllocationRunItem) -> AllocationRunItem:
    """Record a run as started; a run already recorded (the same run's retried first step) is kept."""
    item.pk, item.sk = keys.allocation_run(item.run_id)
    item.gsi1pk, item.gsi1sk = keys.allocation_runs_gsi1pk(item.period), f"{item.started_at}#{item.run_id}"
    try:
        conditional(lambda: item.save(condition=AllocationRunItem.pk.does_not_exist()))
    except ConditionFailed:
        existing = get_run(item.run_id)
        assert existing is not None
        return existing
    return item


def finish_run(run_id: str, *, status: str, finished_at: str, allocated: int = 0, skipped: int = 0,
               failed: int = 0, credits_allocated_mc: int = 0, failed_wallets: dict[str, str] | None = None,
               error: str | None = None) -> None:
    R = AllocationRunItem
    item = AllocationRunItem(*keys.allocation_run(run_id))
    actions = [R.status.set(status), R.finished_at.set(finished_at), R.allocated.set(allocated),
               R.skipped.set(skipped), R.failed.set(failed), R.credits_allocated_mc.set(credits_allocated_mc),
               R.failed_wallets.set(failed_wallets or {})]
    if error is not None:
        actions.append(R.error.set(error))
    item.update(actions=actions)


def get_run(run_id: str) -> AllocationRunItem | None:
    return get_or_none(AllocationRunItem, *keys.allocation_run(run_id))


def runs_of(period: str, limit: int) -> list[AllocationRunItem]:
    """A period's runs, newest first."""
    return list(AllocationRunItem.by_period.query(keys.allocation_runs_gsi1pk(period), scan_index_forward=False,
                                                  limit=limit))
