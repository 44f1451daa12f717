"""A wallet's auto top-up (``WALLET#<id>`` / ``AUTOTOPUP``) and what it charged in a month
(``TOPUP#<wallet>`` / ``PERIOD#<yyyy-mm>``)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from tollgate.data import IntegerAttribute, TableItem


class AutoTopUpItem(TableItem, discriminator="auto_top_up"):
    """Beside the wallet, not on it (only its threshold is: ``WalletItem.topup_threshold_mc``). The
    card stays at Stripe: Tollgate keeps the customer's and the payment method's ids."""

    wallet_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    pending_setup_intent = UnicodeAttribute(null=True)  # a card setup started, not saved yet
    payment_method_id = UnicodeAttribute(null=True)
    card_brand = UnicodeAttribute(null=True)
    card_last4 = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=False)
    threshold_mc = IntegerAttribute(null=True)
    package_id = UnicodeAttribute(null=True)
    credits_mc = IntegerAttribute(null=True)
    currency = UnicodeAttribute(default="USD")
    monthly_limit_mc = IntegerAttribute(null=True)
    enabled_by = UnicodeAttribute(null=True)  # the sub who turned it on: the purchases' owner
    disabled_reason = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class TopUpMonthItem(TableItem, discriminator="top_up_month"):
    charged_mc = IntegerAttribute(default=0)  # credits of the top-ups charged (a declined one given back)
    ttl_epoch = IntegerAttribute()
