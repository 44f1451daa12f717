"""Subscription tiers (``CATALOG`` / ``TIER#<id>``, in the catalog's one small partition) and each
wallet's subscription to one."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI1, ExactMapAttribute, IntegerAttribute, TableItem


class TierItem(TableItem, discriminator="tier"):
    """Credits a month, and what of an allocation carries over to the next month."""

    tier_id = UnicodeAttribute()
    name = UnicodeAttribute()
    monthly_credits_mc = IntegerAttribute()
    rollover = ExactMapAttribute()  # {"type": "none"} | {"type": "cap", "credits_mc": n}
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class SubscriptionItem(TableItem, discriminator="subscription"):
    """``WALLET#<id>`` / ``SUBSCRIPTION``: the wallet's tier; in GSI1 under ``SUBSCRIBERS#<shard>``
    (by wallet id), where the monthly allocation finds every subscriber."""

    subscribers = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    wallet_id = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    assigned_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class AllocationRunItem(TableItem, discriminator="allocation_run"):
    """``ALLOCRUN#<run_id>`` / ``ALLOCRUN``: one run of a period's allocation (scheduled or manual)
    and, once its workflow has finished, what it did; in GSI1 under ``ALLOCRUNS#<period>``.

    Status: ``running`` → ``completed`` (every wallet allocated or skipped) | ``completed_with_failures``
    (some wallets failed: run the period again to retry them alone) | ``failed`` (the run stopped).
    """

    by_period = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    run_id = UnicodeAttribute()
    period = UnicodeAttribute()
    source = UnicodeAttribute()  # schedule | manual
    started_by = UnicodeAttribute()
    status = UnicodeAttribute()
    allocated = IntegerAttribute(default=0)  # wallets credited by this run
    skipped = IntegerAttribute(default=0)  # allocated already this period, or on an inactive tier
    failed = IntegerAttribute(default=0)
    credits_allocated_mc = IntegerAttribute(default=0)
    failed_wallets = ExactMapAttribute(default=dict)  # wallet_id -> error (at most FAILED_WALLETS_KEPT)
    error = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
