"""What asking for, or running, a payout can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound, TollgateError, ValidationFailed


class PayoutNotFound(NotFound):
    pass


class PayoutAccountNotFound(NotFound):
    pass


class PayoutAccountRequired(TollgateError):
    """No payout account, or one still onboarding: nothing can be paid to it yet."""

    status = 409
    code = "payout_account_required"


class PayoutInProgress(TollgateError):
    """The developer already has a payout in flight (one at a time)."""

    status = 409
    code = "payout_in_progress"


class PayoutNotAllowed(ValidationFailed):
    """The payout asks for more than is available, or less than the minimum."""


class PayoutsUnavailable(TollgateError):
    """The deployment has no payout rate for the account's currency."""

    status = 503
    code = "payouts_unavailable"


# Raised by workflow steps: the state machine retries the first and catches the second by name.
class TransientPayoutError(Exception):
    """Trying the step again later may succeed (gateway timeout, 5xx, 429, a conflict)."""


class PermanentPayoutError(Exception):
    """The step cannot succeed (the gateway refused the transfer, earnings no longer available)."""


__all__ = [
    "PayoutAccountNotFound",
    "PayoutAccountRequired",
    "PayoutInProgress",
    "PayoutNotAllowed",
    "PayoutNotFound",
    "PayoutsUnavailable",
    "PermanentPayoutError",
    "TransientPayoutError",
]
