from __future__ import annotations

from tollgate.errors import TollgateError


class InvalidSignature(TollgateError):
    """A webhook whose signature, secret or timestamp does not verify: 400, nothing changes."""

    status = 400
    code = "invalid_signature"


class GatewayError(TollgateError):
    """The payment gateway refused or failed a call (the message says which and why)."""

    status = 502
    code = "gateway_error"


class GatewayNotConfigured(TollgateError):
    """The gateway's secret key is not configured in this deployment."""

    status = 503
    code = "gateway_unavailable"


__all__ = ["GatewayError", "GatewayNotConfigured", "InvalidSignature"]
