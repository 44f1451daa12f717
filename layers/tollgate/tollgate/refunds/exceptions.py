"""What asking for, deciding or running a refund can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound, TollgateError, ValidationFailed


class RefundNotFound(NotFound):
    pass


class RefundNotAllowed(ValidationFailed):
    """The purchase cannot be refunded (``reasons`` says why), or not that many credits."""


class RefundAlreadyDecided(TollgateError):
    """Only a refund waiting for approval can be approved or rejected."""

    status = 409
    code = "refund_already_decided"


# Raised by workflow steps: the state machine retries the first and catches the second by name.
class TransientRefundError(Exception):
    """Trying the step again later may succeed (gateway timeout, 5xx, 429, a conflict)."""


class PermanentRefundError(Exception):
    """The step cannot succeed (credits spent meanwhile, the gateway refused the refund)."""


__all__ = [
    "PermanentRefundError",
    "RefundAlreadyDecided",
    "RefundNotAllowed",
    "RefundNotFound",
    "TransientRefundError",
]
