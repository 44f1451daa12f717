"""Gateway secrets, read when needed rather than at construction.

An adapter takes each secret as a value or as a zero-argument callable (the deployment's
is ``partial(tollgate.secrets.secret, NAME)``: the env var, else SSM / Secrets Manager), so a
function builds its gateway without keys and a rotated value is picked up without a restart.
"""

from __future__ import annotations

from collections.abc import Callable

from tollgate.gateways.exceptions import GatewayNotConfigured

SecretSource = Callable[[], str | None]


def secret_source(value: str | SecretSource | None) -> SecretSource:
    """A callable giving the secret (``value`` itself when it is one)."""
    if callable(value):
        return value
    return lambda: value


def read_secret(source: SecretSource, *, gateway: str, what: str) -> str | None:
    """The secret's current value (None when unset or empty).

    A lookup that fails (SSM or Secrets Manager refusing, say) is a GatewayNotConfigured that
    never carries the failure's text, which may quote the value or its location."""
    try:
        value = source()
    except Exception as exc:  # any lookup failure: never echo it (or the value)
        raise GatewayNotConfigured(f"The {gateway.capitalize()} {what} could not be read") from exc
    return value or None


def require_secret(source: SecretSource, *, gateway: str, what: str, setting: str) -> str:
    """The secret's current value; GatewayNotConfigured (503) when it is unset or unreadable."""
    value = read_secret(source, gateway=gateway, what=what)
    if not value:
        raise GatewayNotConfigured(f"{gateway.capitalize()} is not configured in this deployment ({setting} is not set)")
    return value


__all__ = ["SecretSource", "read_secret", "require_secret", "secret_source"]
