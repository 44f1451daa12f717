"""Purchases and what surrounds them: packages, checkout settings, gateway references,
webhook dedupe records and checkout rate counters."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute

from tollgate.data import GSI1, GSI2, ExactMapAttribute, IntegerAttribute, TableItem


class PackageItem(TableItem, discriminator="package"):
    """``CATALOG`` / ``PACKAGE#<id>``: credits for a fixed price per currency (minor units)."""

    package_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    credits_mc = IntegerAttribute()
    prices = ExactMapAttribute()
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class CheckoutSettingsItem(TableItem, discriminator="settings"):
    """``CONFIG`` / ``SETTINGS``: custom-amount prices, limits, redirect URLs and payout settings."""

    price_per_credit = ExactMapAttribute()
    min_credits_mc = IntegerAttribute()
    max_credits_mc = IntegerAttribute()
    checkouts_per_hour = IntegerAttribute()
    stripe_hosted_checkout = BooleanAttribute(default=False)
    success_url = UnicodeAttribute(null=True)
    cancel_url = UnicodeAttribute(null=True)
    paystack_callback_url = UnicodeAttribute(null=True)
    earnings_hold_days = IntegerAttribute(default=7)
    payout_rates = ExactMapAttribute(default=dict)  # currency -> decimal string, minor units per credit
    payout_minimums = ExactMapAttribute(default=dict)  # currency -> minor units
    refund_window_days = IntegerAttribute(default=14)
    refund_auto_approve_mc = IntegerAttribute(null=True)  # null: the default
    service_reversal_window_seconds = IntegerAttribute(default=900)
    updated_at = UnicodeAttribute()


class PurchaseItem(TableItem, discriminator="purchase"):
    """``PURCHASE#<id>`` / ``PURCHASE``; in GSI1 under its wallet and GSI2 among all purchases."""

    by_wallet = GSI1()
    everyone = GSI2()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
    purchase_id = UnicodeAttribute()
    wallet_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    status = UnicodeAttribute()
    gateway = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = IntegerAttribute()
    credits_mc = IntegerAttribute()
    package_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    refunded_amount = IntegerAttribute(default=0)
    clawed_back_mc = IntegerAttribute(default=0)
    unrecovered_mc = IntegerAttribute(default=0)
    # The gateway session (what the payer's browser needs).
    reference = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    checkout_url = UnicodeAttribute(null=True)
    checkout_session_id = UnicodeAttribute(null=True)
    authorization_url = UnicodeAttribute(null=True)
    access_code = UnicodeAttribute(null=True)
    # Settlement.
    paid_at = UnicodeAttribute(null=True)
    paid_reference = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    flagged = UnicodeAttribute(null=True)
    applied_sources = ListAttribute(of=UnicodeAttribute, null=True)
    dispute_source = UnicodeAttribute(null=True)
    dispute_clawed_mc = IntegerAttribute(null=True)
    dispute_unrecovered_mc = IntegerAttribute(null=True)
    status_before_dispute = UnicodeAttribute(null=True)
    dispute_outcome = UnicodeAttribute(null=True)
    # Refunds Tollgate started (refunds/): refund id -> minor units, from the claw-back on
    # (a compensated refund leaves it), and the part of refunded_amount they make up.
    own_refunds = ExactMapAttribute(default=dict)
    own_refunded_amount = IntegerAttribute(default=0)


class GatewayReferenceItem(TableItem, discriminator="gateway_reference"):
    """``GWREF#<gateway>#<reference>`` / ``GWREF``: which purchase a gateway's reference is."""

    purchase_id = UnicodeAttribute()


class WebhookEventItem(TableItem, discriminator="webhook_event"):
    """``WEBHOOK#<gateway>#<event_id>`` / ``WEBHOOK``: an applied event, kept past gateway retries."""

    ttl_epoch = IntegerAttribute()
    kind = UnicodeAttribute()
    raw_type = UnicodeAttribute()
    purchase_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    received_at = UnicodeAttribute()


class RateCounterItem(TableItem, discriminator="rate_counter"):
    """``RATE#<what>#<who>`` / ``<window>``: requests counted in a window, expiring with it."""

    ttl_epoch = IntegerAttribute()
    n = IntegerAttribute(default=0)
