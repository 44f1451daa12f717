"""What each API call sends, shared by the sync and async clients (no I/O here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from .errors import TollgateError
from .models import CreditsLike, Pricing, format_credits
from .retry import RetryPolicy
from .usage import measure

VERSION = "0.1.0"
M = TypeVar("M", bound=pydantic.BaseModel)
CATALOG_TTL_SECONDS = 60.0


def parse(model: type[M], data: Any) -> M:
    """An answer as its model; an answer that does not fit is a :class:`TollgateError`."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        raise TollgateError(f"unexpected response for {model.__name__}: {err}", code="unexpected_response",
                            body=data) from err


def decode(response: httpx.Response) -> Any:
    """A successful answer's JSON (``None`` for no body, as a 204 has)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as err:
        raise TollgateError(f"the answer is not JSON: {response.text[:200]!r}", status=response.status_code,
                            code="unexpected_response", body=response.text) from err


def new_idempotency_key() -> str:
    """A fresh key for one logical money call (sent unchanged on every retry of it)."""
    return f"sdk-{uuid.uuid4()}"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str | int] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


def _params(**values: Any) -> dict[str, str | int]:
    out: dict[str, str | int] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{key} must be timezone-aware (RFC 3339 needs an offset)")
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def _page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 100:
        raise ValueError("page_size must be an integer from 1 to 100")
    return page_size


def _measure_fields(usage: object | None, quantity: int | None, amount: CreditsLike | None,
                    max_credits: CreditsLike | None = None) -> dict[str, Any]:
    given = [name for name, value in (("usage", usage), ("quantity", quantity), ("amount", amount),
                                      ("max_credits", max_credits)) if value is not None]
    if len(given) > 1:
        raise ValueError(f"give one of {' / '.join(given)}, not several")
    fields: dict[str, Any] = {}
    if usage is not None:
        fields["usage"] = measure(usage)
    if quantity is not None:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError("quantity must be an integer")
        fields["quantity"] = quantity
    if amount is not None:
        fields["amount"] = format_credits(amount)
    if max_credits is not None:
        fields["max_credits"] = format_credits(max_credits)
    return fields


def _with(body: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {**body, **{k: v for k, v in optional.items() if v is not None}}


def health() -> Call:
    return Call("GET", "/v1/health")


def wallet(wallet_id: str | None) -> Call:
    return Call("GET", "/v1/wallet", _params(wallet_id=wallet_id))


def history(*, type: str | None, since: datetime | str | None, until: datetime | str | None,
            wallet_id: str | None, page_size: int) -> Call:
    return Call("GET", "/v1/history", _params(wallet_id=wallet_id, type=type, since=since, until=until,
                                              limit=_page_size(page_size)))


def features() -> Call:
    return Call("GET", "/v1/features")


def packages() -> Call:
    return Call("GET", "/v1/packages")


def usage_summary(*, days: int | None, wallet_id: str | None) -> Call:
    return Call("GET", "/v1/usage/summary", _params(days=days, wallet_id=wallet_id))


def use(feature: str, *, quantity: int | None, usage: object | None, amount: CreditsLike | None,
        wallet_id: str | None, metadata: Mapping[str, Any] | None, idempotency_key: str | None) -> Call:
    body = _with({"feature": feature, **_measure_fields(usage, quantity, amount)}, wallet_id=wallet_id,
                 metadata=dict(metadata) if metadata is not None else None)
    return Call("POST", "/v1/usage", body=body, idempotency_key=idempotency_key or new_idempotency_key())


def reserve(feature: str, *, max_credits: CreditsLike | None, usage: object | None, quantity: int | None,
            wallet_id: str | None, ttl_seconds: int | None, metadata: Mapping[str, Any] | None,
            idempotency_key: str | None) -> Call:
    body = _with({"feature": feature, **_measure_fields(usage, quantity, None, max_credits)}, wallet_id=wallet_id,
                 ttl_seconds=ttl_seconds, metadata=dict(metadata) if metadata is not None else None)
    return Call("POST", "/v1/reservations", body=body, idempotency_key=idempotency_key or new_idempotency_key())


def reservation(reservation_id: str) -> Call:
    return Call("GET", f"/v1/reservations/{_segment(reservation_id)}")


def settle(reservation_id: str, *, usage: object | None, quantity: int | None, amount: CreditsLike | None,
           metadata: Mapping[str, Any] | None, idempotency_key: str | None) -> Call:
    body = _with(_measure_fields(usage, quantity, amount), metadata=dict(metadata) if metadata is not None else None)
    return Call("POST", f"/v1/reservations/{_segment(reservation_id)}/settle", body=body,
                idempotency_key=idempotency_key or new_idempotency_key())


def release(reservation_id: str, *, idempotency_key: str | None) -> Call:
    return Call("POST", f"/v1/reservations/{_segment(reservation_id)}/release",
                idempotency_key=idempotency_key or new_idempotency_key())


def purchases(*, wallet_id: str | None, page_size: int) -> Call:
    return Call("GET", "/v1/purchases", _params(wallet_id=wallet_id, limit=_page_size(page_size)))


def purchase(purchase_id: str) -> Call:
    return Call("GET", f"/v1/purchases/{_segment(purchase_id)}")


def checkout(*, gateway: str, currency: str, package_id: str | None, credits: CreditsLike | None,
             email: str | None, idempotency_key: str | None) -> Call:
    body = _with({"gateway": gateway, "currency": currency}, package_id=package_id,
                 credits=format_credits(credits) if credits is not None else None, email=email)
    return Call("POST", "/v1/checkout", body=body, idempotency_key=idempotency_key or new_idempotency_key())


def refund_eligibility(purchase_id: str) -> Call:
    return Call("GET", f"/v1/purchases/{_segment(purchase_id)}/refund-eligibility")


def request_refund(purchase_id: str, *, reason: str, credits: CreditsLike | None, idempotency_key: str | None) -> Call:
    body = _with({"reason": reason}, credits=format_credits(credits) if credits is not None else None)
    return Call("POST", f"/v1/purchases/{_segment(purchase_id)}/refunds", body=body,
                idempotency_key=idempotency_key or new_idempotency_key())


def refunds(*, page_size: int) -> Call:
    return Call("GET", "/v1/refunds", _params(limit=_page_size(page_size)))


def refund(refund_id: str) -> Call:
    return Call("GET", f"/v1/refunds/{_segment(refund_id)}")


def earnings() -> Call:
    return Call("GET", "/v1/developers/me/earnings")


def payouts(*, status: str | None, developer_id: str | None, page_size: int) -> Call:
    return Call("GET", "/v1/payouts", _params(status=status, developer_id=developer_id, limit=_page_size(page_size)))


def payout(payout_id: str) -> Call:
    return Call("GET", f"/v1/payouts/{_segment(payout_id)}")


def request_payout(*, credits: CreditsLike | None, idempotency_key: str | None) -> Call:
    body = _with({}, credits=format_credits(credits) if credits is not None else None)
    return Call("POST", "/v1/payouts", body=body, idempotency_key=idempotency_key or new_idempotency_key())


def next_page(call: Call, cursor: str) -> Call:
    return Call(call.method, call.path, {**call.params, "cursor": cursor}, call.body, call.idempotency_key)


class ClientBase:
    """Configuration and state both clients share: where, who, how to retry, the catalog cache."""

    def __init__(self, base_url: str, *, api_key: str | None, token: str | Callable[[], str] | None,
                 timeout: float, max_retries: int | None, retry: RetryPolicy | None,
                 headers: Mapping[str, str] | None, clock: Callable[[], float]) -> None:
        if api_key is not None and token is not None:
            raise ValueError("give api_key or token, not both")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._token = token
        self.timeout = timeout
        policy = retry or RetryPolicy()
        if max_retries is not None:
            policy = RetryPolicy(max_retries=max_retries, backoff=policy.backoff, max_backoff=policy.max_backoff,
                                 max_retry_after=policy.max_retry_after, jitter=policy.jitter)
        self.retry = policy
        self._extra_headers = dict(headers or {})
        self._clock = clock
        self._catalog: dict[str, Pricing] = {}
        self._catalog_at: float | None = None

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"tollgate-sdk-python/{VERSION}",
                   **self._extra_headers}
        if self._api_key is not None:
            headers["X-Api-Key"] = self._api_key
        elif self._token is not None:
            token = self._token() if callable(self._token) else self._token
            headers["Authorization"] = f"Bearer {token}"
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        return headers

    def _cached_pricing(self, feature: str) -> tuple[bool, Pricing | None]:
        """(fresh, pricing): whether the cached catalog is recent enough to answer, and its answer."""
        fresh = self._catalog_at is not None and self._clock() - self._catalog_at < CATALOG_TTL_SECONDS
        return fresh, self._catalog.get(feature)

    def _remember_catalog(self, prices: Mapping[str, Pricing]) -> None:
        self._catalog = dict(prices)
        self._catalog_at = self._clock()
