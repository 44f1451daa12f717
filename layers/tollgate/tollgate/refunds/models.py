"""Refunds: one item per refund (its workflow's steps on it) and gateway refund ids -> refund."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import GSI1, GSI2, ExactMapAttribute, IntegerAttribute, TableItem


class RefundItem(TableItem, discriminator="refund"):
    """``REFUND#<id>`` / ``REFUND``: one refund of a purchase; in GSI1 under its wallet and GSI2
    among all refunds, newest first.

    Status: ``pending_approval`` → ``approved`` (or ``rejected``) → ``processing`` (credits
    clawed back) → ``succeeded`` | ``failed`` (``failure_reason`` says why: ``credits_used``,
    ``already_refunded``, ``gateway_refused``, ``gateway_failed``).
    """

    by_wallet = GSI1()
    everyone = GSI2()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
    refund_id = UnicodeAttribute()
    purchase_id = UnicodeAttribute()
    wallet_id = UnicodeAttribute()
    gateway = UnicodeAttribute()
    currency = UnicodeAttribute()
    credits_mc = IntegerAttribute()
    amount = IntegerAttribute()  # minor units
    reason = UnicodeAttribute()
    status = UnicodeAttribute()
    requested_by = UnicodeAttribute()  # the actor who asked
    request_hash = UnicodeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)
    decision_note = UnicodeAttribute(null=True)
    gateway_refund_id = UnicodeAttribute(null=True)
    gateway_status = UnicodeAttribute(null=True)  # succeeded | pending | failed, as the gateway said
    gateway_attempted = BooleanAttribute(default=False)
    workflow_started = BooleanAttribute(default=False)  # its execution was started (approved ones)
    task_token = UnicodeAttribute(null=True)  # while waiting for the gateway's refund webhook
    confirmation = UnicodeAttribute(null=True)  # a refund webhook's outcome, if one came first
    failure_reason = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    steps = ExactMapAttribute(default=dict)  # name -> {"status", "at", "error"?}
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    refunded_at = UnicodeAttribute(null=True)


class RefundReferenceItem(TableItem, discriminator="refund_reference"):
    """``REFUNDREF#<gateway>#<gateway refund id>`` / ``REFUNDREF``: a gateway refund Tollgate made."""

    refund_id = UnicodeAttribute()
