"""What a gateway call or webhook can fail with, the same on every gateway.

A webhook answers 400 ``invalid_signature`` when its signature (or secret, or timestamp)
does not verify, and 422 ``validation_error`` when it verifies but is not an event the
gateway could have sent (:class:`MalformedWebhook`); either way nothing changes. A call to
the gateway that fails is a :class:`GatewayError` whose details always have the same
keys: ``gateway``, ``gateway_status``, ``gateway_code`` and ``decline_code`` (``null``
where the gateway said nothing of the kind). A failure that may pass (no answer at all: a
timeout or a dropped connection; a 429; a 5xx) is a 503 ``try_again`` with ``Retry-After``
(and ``retry_after_seconds`` beside those keys); one that will not (the gateway refused the
call) is a 502 ``gateway_error``.
"""

from __future__ import annotations

from tollgate.errors import TollgateError, ValidationFailed


class InvalidSignature(TollgateError):
    """A webhook whose signature, secret or timestamp does not verify: 400, nothing changes."""

    status = 400
    code = "invalid_signature"


class MalformedWebhook(ValidationFailed):
    """A correctly signed webhook that is not a usable event: 422, nothing changes.

    ``field`` names the first offending part of the body (``body`` when it is not a JSON
    object at all, else a dotted path such as ``data.reference``)."""

    def __init__(self, message: str, *, gateway: str, field: str = "body") -> None:
        super().__init__(message, gateway=gateway, field=field)


class GatewayError(TollgateError):
    """The payment gateway refused or failed a call (the message says which and why)."""

    status = 502
    code = "gateway_error"
    RETRY_AFTER_SECONDS = 1

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        gateway_status: int | None = None,
        gateway_code: str | None = None,
        decline_code: str | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, gateway_status=gateway_status, gateway_code=gateway_code,
                         decline_code=decline_code)
        self._transient = transient
        if self.transient:
            self.status, self.code = 503, "try_again"
            self.details["retry_after_seconds"] = self.RETRY_AFTER_SECONDS

    DECLINES = frozenset({"card_declined", "expired_card", "incorrect_cvc", "authentication_required",
                          "payment_intent_authentication_failure", "insufficient_funds"})

    @property
    def declined(self) -> bool:
        """Whether the gateway declined the card (trying again will not help until it changes)."""
        return self.details.get("gateway_code") in self.DECLINES or self.details.get("decline_code") is not None

    @property
    def transient(self) -> bool:
        """Whether trying the call again later may succeed: no answer at all, 429, or a 5xx
        (unless the raiser knows better: ``transient=False`` for a call that cannot succeed as made)."""
        if self._transient is not None:
            return self._transient
        status = self.details.get("gateway_status")
        return status is None or status == 429 or (isinstance(status, int) and status >= 500)


class GatewayNotConfigured(TollgateError):
    """The gateway's secret key is not configured in this deployment."""

    status = 503
    code = "gateway_unavailable"


__all__ = ["GatewayError", "GatewayNotConfigured", "InvalidSignature", "MalformedWebhook"]
