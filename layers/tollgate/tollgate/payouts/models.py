"""Payouts: a developer's payout account, each payout, and transfer references."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI1, GSI2, ExactMapAttribute, IntegerAttribute, TableItem


class PayoutAccountItem(TableItem, discriminator="payout_account"):
    """``DEV#<id>`` / ``PAYOUT_ACCOUNT``: where a developer is paid (one account), and whether
    the weekly run pays them; in GSI1 under ``AUTOPAYOUT`` while automatic payouts are on."""

    autopayout = GSI1()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK", null=True)
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK", null=True)
    developer_id = UnicodeAttribute()
    gateway = UnicodeAttribute()
    account_id = UnicodeAttribute()  # Stripe acct_...; Paystack RCP_... (nothing else is stored)
    status = UnicodeAttribute()  # onboarding | active
    currency = UnicodeAttribute()
    details = ExactMapAttribute(default=dict)  # bank name, last 4 digits
    auto = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class PayoutItem(TableItem, discriminator="payout"):
    """``PAYOUT#<id>`` / ``PAYOUT``: one payout and its workflow's steps; in GSI1 under its
    developer and GSI2 among all payouts, newest first."""

    by_developer = GSI1()
    everyone = GSI2()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
    payout_id = UnicodeAttribute()
    developer_id = UnicodeAttribute()
    status = UnicodeAttribute()  # requested | reserved | awaiting_confirmation | paid | failed | reversed
    credits_mc = IntegerAttribute()
    amount = IntegerAttribute()  # minor units
    currency = UnicodeAttribute()
    rate = UnicodeAttribute()  # minor units per credit, as the setting said when requested
    gateway = UnicodeAttribute()
    account_id = UnicodeAttribute()
    reference = UnicodeAttribute()  # what the transfer is keyed by at the gateway
    transfer_id = UnicodeAttribute(null=True)
    transfer_attempted = BooleanAttribute(default=False)
    task_token = UnicodeAttribute(null=True)  # while waiting for Paystack's transfer webhook
    confirmation = UnicodeAttribute(null=True)  # a transfer webhook's outcome, if one came first
    failure = UnicodeAttribute(null=True)
    steps = ExactMapAttribute(default=dict)  # name -> {"status", "at", "error"?}
    trigger = UnicodeAttribute()  # request | schedule
    request_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)


class PayoutReferenceItem(TableItem, discriminator="payout_reference"):
    """``PAYOUTREF#<gateway>#<reference>`` / ``PAYOUTREF``: a transfer webhook's reference -> payout."""

    gateway = UnicodeAttribute()
    reference = UnicodeAttribute()
    payout_id = UnicodeAttribute()
