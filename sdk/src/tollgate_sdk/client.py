"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from . import _calls as calls
from ._calls import M, parse
from .errors import APIConnectionError, ReservationClosed, TollgateError, error_from_response
from .models import (
    CreditsLike,
    Earnings,
    Entry,
    Feature,
    Health,
    Package,
    Payout,
    Pricing,
    Purchase,
    Refund,
    RefundEligibility,
    Release,
    Reservation,
    Settlement,
    UsageResult,
    UsageSummary,
    Wallet,
)
from .reservations import Hold
from .retry import RetryPolicy, parse_retry_after, retryable_exception, retryable_status

__all__ = ["Tollgate"]

class Tollgate(calls.ClientBase):
    """A client of the Tollgate API.

    ``Tollgate(base_url, api_key=...)`` (a server API key, sent as ``X-Api-Key``) or
    ``Tollgate(base_url, token=...)`` (a person's bearer token, or a function returning a fresh one).
    Every money call sends an ``Idempotency-Key`` (yours, or one generated for the call) and
    reuses it on each retry; calls are retried after a 429, a 5xx or a dropped connection.
    """

    def __init__(self, base_url: str, *, api_key: str | None = None, token: str | Callable[[], str] | None = None,
                 timeout: float = 30.0, max_retries: int | None = None, retry: RetryPolicy | None = None,
                 headers: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 http_client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(base_url, api_key=api_key, token=token, timeout=timeout, max_retries=max_retries,
                         retry=retry, headers=headers, clock=clock)
        if transport is not None and http_client is not None:
            raise ValueError("give transport or http_client, not both")
        self._own_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._sleep = sleep

    # -- plumbing -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> Tollgate:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _send(self, call: calls.Call, *, max_retries: int | None = None) -> Any:
        """Send ``call``, retrying what may be retried; the answer's JSON (``None`` for no body)."""
        retries = self.retry.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, self.base_url + call.path, params=call.params or None,
                                              json=call.body, headers=self._headers(call))
            except httpx.TransportError as exc:
                if not retryable_exception(exc) or attempt >= retries:
                    failed = APIConnectionError(f"{call.method} {call.path}: {type(exc).__name__}: {exc}")
                    failed.attempts = attempt + 1
                    raise failed from exc
                delay = self.retry.delay(attempt)
            else:
                if response.status_code < 400:
                    return calls.decode(response)
                retry_after = parse_retry_after(response.headers.get("retry-after"), time.time) \
                    if response.status_code in (429, 503) else None
                if not retryable_status(response.status_code) or attempt >= retries:
                    error = error_from_response(response, retry_after=retry_after)
                    error.attempts = attempt + 1
                    raise error
                delay = self.retry.delay(attempt, retry_after)
            self._sleep(delay)
            attempt += 1

    def _pages(self, call: calls.Call, model: type[M]) -> Iterator[M]:
        while True:
            page = self._send(call)
            for item in page.get("data") or []:
                yield parse(model, item)
            cursor = page.get("next_cursor")
            if not cursor:
                return
            call = calls.next_page(call, cursor)

    def _pricing_for(self, feature: str) -> Pricing | None:
        """The feature's price from the catalog (cached a minute); ``None`` if it cannot be read."""
        fresh, pricing = self._cached_pricing(feature)
        if fresh or self._api_key is not None:  # API keys cannot read /v1/features
            return pricing
        try:
            self._fetch_features(retries=0)
        except TollgateError:
            self._remember_catalog({})
        return self._cached_pricing(feature)[1]

    # -- reading -----------------------------------------------------------------------------

    def health(self) -> Health:
        return parse(Health, self._send(calls.health()))

    def wallet(self, wallet_id: str | None = None) -> Wallet:
        """The wallet: yours, or ``wallet_id`` (an org's you belong to; any, for admins and API keys)."""
        return parse(Wallet, self._send(calls.wallet(wallet_id)))

    def history(self, *, type: str | None = None, since: datetime | str | None = None,
                until: datetime | str | None = None, wallet_id: str | None = None,
                page_size: int = 100) -> Iterator[Entry]:
        """Every ledger entry, newest first, across all pages (fetched as the iterator advances)."""
        return self._pages(calls.history(type=type, since=since, until=until, wallet_id=wallet_id,
                                         page_size=page_size), Entry)

    def features(self) -> list[Feature]:
        """The active features and their prices (also refreshes the prices holds use)."""
        return self._fetch_features(retries=None)

    def _fetch_features(self, *, retries: int | None) -> list[Feature]:
        page = self._send(calls.features(), max_retries=retries)
        found = [parse(Feature, item) for item in page.get("data") or []]
        self._remember_catalog({f.feature_id: f.pricing for f in found})
        return found

    def packages(self) -> list[Package]:
        return [parse(Package, item) for item in self._send(calls.packages()).get("data") or []]

    def usage_summary(self, *, days: int | None = None, wallet_id: str | None = None) -> UsageSummary:
        """Credits spent by day and by feature over the last ``days`` (default 30)."""
        return parse(UsageSummary, self._send(calls.usage_summary(days=days, wallet_id=wallet_id)))

    # -- spending ----------------------------------------------------------------------------

    def use(self, feature: str, *, quantity: int | None = None, usage: object | None = None,
            amount: CreditsLike | None = None, wallet_id: str | None = None,
            metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None) -> UsageResult:
        """Charge one call of ``feature`` at once (``POST /v1/usage``).

        ``usage``: ``{"input_tokens", "output_tokens"}`` (or characters), or a model response
        (read by :func:`usage_from`); ``quantity``: calls or units; ``amount``: API keys only.
        Raises :class:`InsufficientCredits` (with ``required`` and ``available``) when it cannot.
        """
        return parse(UsageResult, self._send(calls.use(feature, quantity=quantity, usage=usage, amount=amount,
                                                       wallet_id=wallet_id, metadata=metadata,
                                                       idempotency_key=idempotency_key)))

    def reserve(self, feature: str, *, max_credits: CreditsLike | None = None, usage: object | None = None,
                quantity: int | None = None, wallet_id: str | None = None, ttl_seconds: int | None = None,
                metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
                pricing: Pricing | Mapping[str, Any] | None = None) -> Hold:
        """A hold on credits for a call whose cost is known afterwards; use it as a context manager.

        ``with client.reserve("plugin-generate", max_credits="20") as hold:`` creates the
        reservation; ``hold.settle(usage=...)`` charges it; leaving the block without settling
        (an early exit, or an exception, which is re-raised) releases it. Outside a ``with``,
        ``hold = client.reserve(...).open()``. Give the same ``idempotency_key`` when rerunning
        the same work (after a crash) to find the same hold again. ``pricing`` overrides the
        catalog's price for ``hold.remaining`` (API keys cannot read the catalog).
        """
        call = calls.reserve(feature, max_credits=max_credits, usage=usage, quantity=quantity, wallet_id=wallet_id,
                             ttl_seconds=ttl_seconds, metadata=metadata, idempotency_key=idempotency_key)
        return Hold(self, call, pricing=parse(Pricing, pricing) if isinstance(pricing, Mapping) else pricing)

    def reservation(self, reservation_id: str) -> Reservation:
        return parse(Reservation, self._send(calls.reservation(reservation_id)))

    def settle_reservation(self, reservation_id: str, *, usage: object | None = None, quantity: int | None = None,
                           amount: CreditsLike | None = None, metadata: Mapping[str, Any] | None = None,
                           idempotency_key: str | None = None) -> Settlement:
        """Charge a hold what the call cost (at most what it holds) and free the rest."""
        return parse(Settlement, self._send(calls.settle(reservation_id, usage=usage, quantity=quantity, amount=amount,
                                                         metadata=metadata, idempotency_key=idempotency_key)))

    def release_reservation(self, reservation_id: str, *, idempotency_key: str | None = None) -> Release:
        """Free a hold without charging it. A retry that finds it released (the first attempt
        succeeded unseen) answers as the first attempt would have."""
        try:
            return parse(Release, self._send(calls.release(reservation_id, idempotency_key=idempotency_key)))
        except ReservationClosed as closed:
            if closed.attempts > 1 and closed.reservation_status == "released":
                return parse(Release, {"reservation_id": reservation_id,
                                       "released": self.reservation(reservation_id).held})
            raise

    # -- buying --------------------------------------------------------------------------------

    def purchases(self, *, wallet_id: str | None = None, page_size: int = 100) -> Iterator[Purchase]:
        """Every purchase, newest first, across all pages."""
        return self._pages(calls.purchases(wallet_id=wallet_id, page_size=page_size), Purchase)

    def purchase(self, purchase_id: str) -> Purchase:
        return parse(Purchase, self._send(calls.purchase(purchase_id)))

    def checkout(self, *, gateway: str, currency: str, package_id: str | None = None,
                 credits: CreditsLike | None = None, email: str | None = None,
                 idempotency_key: str | None = None) -> Purchase:
        """Start buying a package (or ``credits``) with ``stripe`` or ``paystack``."""
        return parse(Purchase, self._send(calls.checkout(gateway=gateway, currency=currency, package_id=package_id,
                                                         credits=credits, email=email,
                                                         idempotency_key=idempotency_key)))

    def refund_eligibility(self, purchase_id: str) -> RefundEligibility:
        return parse(RefundEligibility, self._send(calls.refund_eligibility(purchase_id)))

    def request_refund(self, purchase_id: str, *, reason: str, credits: CreditsLike | None = None,
                       idempotency_key: str | None = None) -> Refund:
        return parse(Refund, self._send(calls.request_refund(purchase_id, reason=reason, credits=credits,
                                                             idempotency_key=idempotency_key)))

    def refunds(self, *, page_size: int = 100) -> Iterator[Refund]:
        return self._pages(calls.refunds(page_size=page_size), Refund)

    def refund(self, refund_id: str) -> Refund:
        return parse(Refund, self._send(calls.refund(refund_id)))

    # -- developers ----------------------------------------------------------------------------

    def earnings(self) -> Earnings:
        """Your earnings as a developer (role ``developer``)."""
        return parse(Earnings, self._send(calls.earnings()))

    def payouts(self, *, status: str | None = None, developer_id: str | None = None,
                page_size: int = 100) -> Iterator[Payout]:
        """Every payout (yours; admins: all, or ``developer_id``'s), newest first, across all pages."""
        return self._pages(calls.payouts(status=status, developer_id=developer_id, page_size=page_size), Payout)

    def payout(self, payout_id: str) -> Payout:
        return parse(Payout, self._send(calls.payout(payout_id)))

    def request_payout(self, *, credits: CreditsLike | None = None, idempotency_key: str | None = None) -> Payout:
        """Pay out ``credits`` of your available earnings (default: all of them)."""
        return parse(Payout, self._send(calls.request_payout(credits=credits, idempotency_key=idempotency_key)))
