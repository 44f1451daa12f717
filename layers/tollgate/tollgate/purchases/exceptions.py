from __future__ import annotations

from tollgate.errors import NotFound, RateLimited, TollgateError, ValidationFailed


class PackageNotFound(NotFound):
    pass


class PurchaseNotFound(NotFound):
    pass


class CheckoutNotAllowed(ValidationFailed):
    """The checkout asks for something the settings do not offer (currency, amount, gateway)."""


class CheckoutRateLimited(RateLimited):
    pass


class SettlementBusy(TollgateError):
    """A webhook's effect could not be applied now; the gateway should deliver it again."""

    status = 503
    code = "try_again"


__all__ = ["CheckoutNotAllowed", "CheckoutRateLimited", "PackageNotFound", "PurchaseNotFound", "SettlementBusy"]
