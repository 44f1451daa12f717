"""A developer's earnings: one item per earning, the balance, and per-day / per-feature sums.

The balance keeps ``earned = pending + available + in_payout + paid`` (millicredits), with
every change written in one transaction with a :class:`EarningsLogItem` naming it, so the
log's deltas sum to the balance (the earnings ledger).
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute

from tollgate.data import ExactMapAttribute, IntegerAttribute, TableItem

NEVER_MATURED = "0000-00-00"  # matured_through before any day matured


class EarningItem(TableItem, discriminator="earning"):
    """``WALLET#<id>`` / ``EARN#<usage tx>``: what one usage entry earned its developer.

    Written once (the accrual's exactly-once key). A reversal of the usage entry (``reversal``
    ledger entries naming it) takes back the earning in proportion, once per reversal entry."""

    wallet_id = UnicodeAttribute()
    transaction_id = UnicodeAttribute()  # the usage entry's
    developer_id = UnicodeAttribute()
    feature = UnicodeAttribute(null=True)
    day = UnicodeAttribute()  # UTC date of the usage entry
    cost_mc = IntegerAttribute()
    revenue_share_bps = IntegerAttribute()
    amount_mc = IntegerAttribute()  # floor(cost_mc * revenue_share_bps / 10000)
    reversed_mc = IntegerAttribute(default=0)  # of amount_mc, taken back
    reversed_cost_mc = IntegerAttribute(default=0)  # of cost_mc, given back to the customer
    reversals = UnicodeSetAttribute(null=True)  # the reversal entries applied (their transaction ids)
    created_at = UnicodeAttribute()  # the usage entry's
    accrued_at = UnicodeAttribute()


class DeveloperEarningsItem(TableItem, discriminator="developer_earnings"):
    """``DEV#<id>`` / ``EARNINGS``: the developer's balance, in millicredits.

    Days up to ``matured_through`` (UTC dates) count as ``available``, later ones as
    ``pending``; maturing moves whole days from one to the other."""

    developer_id = UnicodeAttribute()
    earned = IntegerAttribute(default=0)
    pending = IntegerAttribute(default=0)
    available = IntegerAttribute(default=0)
    in_payout = IntegerAttribute(default=0)
    paid = IntegerAttribute(default=0)
    matured_through = UnicodeAttribute(default=NEVER_MATURED)
    active_payout = UnicodeAttribute(null=True)  # the one payout in flight, if any
    seq = IntegerAttribute(default=0)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class EarningsDayItem(TableItem, discriminator="earnings_day"):
    """``DEV#<id>`` / ``DAY#<date>``: net earnings of the usage of one UTC day."""

    developer_id = UnicodeAttribute()
    day = UnicodeAttribute()
    earned = IntegerAttribute(default=0)
    calls = IntegerAttribute(default=0)


class EarningsFeatureItem(TableItem, discriminator="earnings_feature"):
    """``DEV#<id>`` / ``FEAT#<feature>``: net earnings of one feature, all time."""

    developer_id = UnicodeAttribute()
    feature = UnicodeAttribute()
    earned = IntegerAttribute(default=0)
    calls = IntegerAttribute(default=0)


class EarningsLogItem(TableItem, discriminator="earnings_log"):
    """``DEV#<id>`` / ``LOG#<created_at>#<id>``: one change to the balance and its deltas."""

    developer_id = UnicodeAttribute()
    log_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # accrual | maturation | (payouts: reserve, paid, released, reversed)
    deltas = ExactMapAttribute()  # {"earned", "pending", "available", "in_payout", "paid"}: ints
    reference = UnicodeAttribute(null=True)  # a payout id, say
    count = IntegerAttribute(null=True)  # earnings in an accrual
    created_at = UnicodeAttribute()
