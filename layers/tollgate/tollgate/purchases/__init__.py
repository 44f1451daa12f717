"""Buying credits: packages, settings, checkout, and the gateway events that settle purchases."""

from __future__ import annotations

from tollgate.purchases.exceptions import CheckoutNotAllowed, CheckoutRateLimited, PackageNotFound, PurchaseNotFound

__all__ = ["CheckoutNotAllowed", "CheckoutRateLimited", "PackageNotFound", "PurchaseNotFound"]
