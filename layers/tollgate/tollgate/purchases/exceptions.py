from __future__ import annotations

from tollgate.errors import NotFound, RateLimited, ValidationFailed


class PackageNotFound(NotFound):
    pass


class PurchaseNotFound(NotFound):
    pass


class CheckoutNotAllowed(ValidationFailed):
    """The checkout asks for something the settings do not offer (currency, amount, gateway)."""


class CheckoutRateLimited(RateLimited):
    pass


__all__ = ["CheckoutNotAllowed", "CheckoutRateLimited", "PackageNotFound", "PurchaseNotFound"]
