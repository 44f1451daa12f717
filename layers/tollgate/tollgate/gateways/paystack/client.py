"""Calls to Paystack's API with the standard library only (urllib, json): no SDK.

Every call carries ``Authorization: Bearer <secret key>`` (and a POST a JSON body), and
Paystack answers ``{"status": true|false, "message": ..., "data": ...}`` (a list endpoint's
``data`` is a list, with its page in ``meta``). A non-2xx answer, ``"status": false``, an
answer without its ``data`` or a call that does not answer within ``timeout`` seconds (10 by
default) is a :class:`GatewayError` (502) carrying Paystack's message and HTTP status, never
the key.

Paystack documents no idempotency-key header, so none is sent (a header it silently ignores
would only suggest a guarantee that does not exist); see ``gateway.py`` for what stands in.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from tollgate.gateways.exceptions import GatewayError

GATEWAY = "paystack"
DEFAULT_API_BASE = "https://api.paystack.co"
DEFAULT_TIMEOUT_S = 10.0
_MAX_MESSAGE = 300


class PaystackRefusal(GatewayError):
    """Paystack answered, and refused (a non-2xx answer or ``"status": false``).

    ``reason`` is Paystack's own message (scrubbed of the key, bounded), for callers that
    tell one refusal from another (an unknown transfer reference, a bank account Paystack
    could not resolve)."""

    def __init__(self, message: str, *, reason: str, gateway_status: int, gateway_code: str | None) -> None:
        super().__init__(message, gateway=GATEWAY, gateway_status=gateway_status, gateway_code=gateway_code)
        self.reason = reason


def not_found(refusal: PaystackRefusal) -> bool:
    """Whether Paystack refused because what was asked for does not exist: 404, or another 4xx
    whose message says "not found" (Paystack answers some unknown ids with a 400)."""
    status = refusal.details["gateway_status"]
    return status == 404 or (400 <= status < 500 and "not found" in refusal.reason.lower())


class PaystackClient:
    def __init__(self, key: Callable[[], str], *, api_base: str = DEFAULT_API_BASE,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        if urllib.parse.urlsplit(api_base).scheme not in {"https", "http"}:
            raise ValueError(f"Paystack API base must be an http(s) URL, not {api_base!r}")
        self._key = key  # raises GatewayNotConfigured when there is none
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None, *, what: str) -> dict[str, Any]:
        """One API call; its answer's ``data`` object."""
        status, payload = self._answer(method, path, body, what=what)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise GatewayError(f"Paystack {what} answered without data", gateway=GATEWAY, gateway_status=status)
        return data

    def call_list(self, path: str, *, what: str) -> tuple[list[Any], dict[str, Any]]:
        """One ``GET`` of a list endpoint; its answer's ``data`` list and ``meta`` object
        (``{}`` when the answer has none)."""
        status, payload = self._answer("GET", path, None, what=what)
        data, meta = payload.get("data"), payload.get("meta")
        if not isinstance(data, list):
            raise GatewayError(f"Paystack {what} answered without a list", gateway=GATEWAY, gateway_status=status)
        return data, meta if isinstance(meta, dict) else {}

    def _answer(self, method: str, path: str, body: dict[str, Any] | None, *, what: str) -> tuple[int, dict[str, Any]]:
        """Send one call; Paystack's 2xx ``"status": true`` answer (its HTTP status and JSON body)."""
        key = self._key()
        request = urllib.request.Request(  # noqa: S310 - api_base is checked to be http(s) in __init__
            self.api_base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "tollgate-paystack/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - see above
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, _read(exc)
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise GatewayError(_scrub(f"Paystack {what} failed: {type(reason).__name__}: {reason}", key),
                               gateway=GATEWAY) from None
        payload = _json_object(raw)
        message = _scrub(str(payload.get("message") or f"HTTP {status}")[:_MAX_MESSAGE], key)
        code = payload.get("code") if isinstance(payload.get("code"), str) and payload.get("code") else None
        if not 200 <= status < 300:
            raise PaystackRefusal(f"Paystack {what} failed ({status}): {message}", reason=message,
                                  gateway_status=status, gateway_code=code)
        if payload.get("status") is not True:
            raise PaystackRefusal(f"Paystack {what} refused: {message}", reason=message, gateway_status=status,
                                  gateway_code=code)
        return status, payload


def _read(response: Any) -> bytes:
    try:
        return response.read()
    except (OSError, http.client.HTTPException):
        return b""


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


__all__ = ["DEFAULT_API_BASE", "DEFAULT_TIMEOUT_S", "PaystackClient", "PaystackRefusal", "not_found"]
