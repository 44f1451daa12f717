"""Holds: reserve credits, run the model call, then settle what it cost, or release the hold.

``with client.reserve(...) as hold`` creates the reservation on entering. Inside the block,
``hold.settle(...)`` charges it. Leaving the block while the hold is still open releases it:
after an early exit (``return``, ``break``) and after an exception, which then propagates
(a release that fails then is added to that exception as a note, never hiding it).

Settling is once: a second ``settle()`` (or ``settle()`` after ``release()``) raises
:class:`ReservationClosed` without a request; the first result stays on ``hold.settlement``.
The API itself answers a repeated settle with the same body with the first result, so the
SDK's own retries of a settle whose answer was lost charge once.

For streamed calls, ``hold.add(usage=...)`` adds each chunk's usage and ``hold.remaining`` is
what the hold can still cover, computed here as the API prices (integer millicredits, rounded
up to 0.001 credit). ``hold.settle()`` without arguments settles what was added.
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _calls as calls
from ._calls import parse
from .errors import ReservationClosed, TollgateError
from .models import CreditsLike, Pricing, Release, Reservation, Settlement
from .usage import measure

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from .async_client import AsyncTollgate
    from .client import Tollgate

__all__ = ["AsyncHold", "Hold"]

_TOKENS = ("input_tokens", "output_tokens")
_CHARS = ("input_chars", "output_chars")


class _HoldState:
    """What both holds keep: the reservation, its state and the usage added so far."""

    def __init__(self, call: calls.Call, *, pricing: Pricing | None) -> None:
        self._call = call
        self._pricing = pricing
        self.reservation: Reservation | None = None
        self.status = "new"
        """``new`` (not opened yet), ``open``, ``settled``, ``released``, or ``expired`` / ``closed``."""
        self.settlement: Settlement | None = None
        self.release_result: Release | None = None
        self._counts: dict[str, int] = {}
        self._quantity: int | None = None

    # -- what it is ----------------------------------------------------------------------------

    @property
    def idempotency_key(self) -> str:
        """The reservation's key: pass it to ``reserve()`` again to find this hold after a crash."""
        assert self._call.idempotency_key is not None
        return self._call.idempotency_key

    @property
    def feature(self) -> str:
        assert self._call.body is not None
        return str(self._call.body["feature"])

    def _opened(self) -> Reservation:
        if self.reservation is None:
            raise TollgateError("the hold is not open yet: use it in a with block, or call open()")
        return self.reservation

    @property
    def id(self) -> str:
        return self._opened().reservation_id

    @property
    def held(self) -> Decimal:
        return self._opened().held

    @property
    def expires_at(self) -> datetime:
        return self._opened().expires_at

    @property
    def pricing(self) -> Pricing | None:
        """The feature's price ``remaining`` is computed with (``None`` if it could not be read)."""
        return self._pricing

    # -- streamed usage --------------------------------------------------------------------------

    def add(self, usage: object | None = None, *, quantity: int | None = None) -> None:
        """Add one chunk's usage (``{"input_tokens", "output_tokens"}``, characters, or a response
        read by :func:`usage_from`), or a ``quantity`` of calls or units, to what the call has used."""
        if (usage is None) == (quantity is None):
            raise ValueError("give usage or quantity")
        if quantity is not None:
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValueError("quantity must be a non-negative integer")
            if self._counts:
                raise ValueError("this hold has usage added already: add usage, not a quantity")
            self._quantity = (self._quantity or 0) + quantity
            return
        counts = measure(usage)
        if self._quantity is not None:
            raise ValueError("this hold has a quantity added already: add a quantity, not usage")
        kinds = {k in _CHARS for k in (*counts, *self._counts)}
        if len(kinds) > 1:
            raise ValueError("usage is counted in tokens or in characters, not both")
        for key, value in counts.items():
            self._counts[key] = self._counts.get(key, 0) + value

    @property
    def usage(self) -> dict[str, int]:
        """The usage added so far."""
        return dict(self._counts)

    @property
    def quantity(self) -> int | None:
        return self._quantity

    @property
    def spent(self) -> Decimal:
        """What the usage added so far costs (0 before any), at the feature's price."""
        if self._pricing is None:
            raise TollgateError(f"the price of {self.feature!r} is unknown (a server API key cannot read "
                                "/v1/features): pass pricing= to reserve()", code="pricing_unknown")
        if not self._counts and self._quantity is None:
            return Decimal(0)
        return self._pricing.cost(self._counts or None, quantity=self._quantity)

    @property
    def remaining(self) -> Decimal:
        """What the hold can still cover: ``held - spent``, never below 0."""
        return max(Decimal(0), self.held - self.spent)

    # -- transitions ---------------------------------------------------------------------------

    def _check_opened(self, reservation: Reservation) -> None:
        self.reservation = reservation
        self.status = reservation.status
        if reservation.status != "open":
            # The same idempotency key found a hold that was settled, released or has expired.
            raise ReservationClosed(f"reservation {reservation.reservation_id} is {reservation.status}",
                                    reservation_status=reservation.status, code="reservation_closed")

    def _settle_call(self, usage: object | None, quantity: int | None, amount: CreditsLike | None,
                     metadata: Mapping[str, Any] | None) -> calls.Call:
        self._require_open()
        if usage is None and quantity is None and amount is None:
            usage = dict(self._counts) or None
            quantity = self._quantity
        return calls.settle(self.id, usage=usage, quantity=quantity, amount=amount, metadata=metadata,
                            idempotency_key=None)

    def _require_open(self) -> None:
        if self.status != "open":
            self._opened()
            raise ReservationClosed(f"hold {self.id} is already {self.status}", reservation_status=self.status,
                                    code="reservation_closed")

    def _closed_by(self, error: ReservationClosed) -> None:
        self.status = error.reservation_status or "closed"

    def _release_note(self, error: Exception) -> str:
        reservation = f" {self.reservation.reservation_id}" if self.reservation else ""
        return f"tollgate: releasing hold{reservation} failed too ({error}); it frees itself when it expires"

    def __repr__(self) -> str:
        rid = self.reservation.reservation_id if self.reservation else None
        return f"<{type(self).__name__} {self.feature} {rid} {self.status}>"


class Hold(_HoldState):
    """A hold of the synchronous client (see the module's docstring)."""

    def __init__(self, client: Tollgate, call: calls.Call, *, pricing: Pricing | None) -> None:
        super().__init__(call, pricing=pricing)
        self._client = client

    def open(self) -> Hold:
        """Create the reservation (once; ``with`` does this). Raises :class:`ReservationClosed` if
        this hold's idempotency key names one that is no longer open."""
        if self.status != "new":
            return self
        self._check_opened(parse(Reservation, self._client._send(self._call)))
        if self._pricing is None:
            self._pricing = self._client._pricing_for(self.feature)
        return self

    def settle(self, usage: object | None = None, *, quantity: int | None = None,
               amount: CreditsLike | None = None, metadata: Mapping[str, Any] | None = None) -> Settlement:
        """Charge what the call used (at most what is held) and free the rest. Without arguments,
        what was added with :meth:`add` (or, for a per-call feature, one call)."""
        call = self._settle_call(usage, quantity, amount, metadata)
        try:
            self.settlement = parse(Settlement, self._client._send(call))
        except ReservationClosed as closed:
            self._closed_by(closed)
            raise
        self.status = "settled"
        return self.settlement

    def release(self) -> Release | None:
        """Free the hold without charging it (leaving the ``with`` block does this)."""
        if self.status == "released":
            return self.release_result
        self._require_open()
        try:
            self.release_result = self._client.release_reservation(self.id)
        except ReservationClosed as closed:
            self._closed_by(closed)
            raise
        self.status = "released"
        return self.release_result

    def __enter__(self) -> Hold:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.status != "open":
            return
        try:
            self.release()
        except ReservationClosed:
            pass  # closed all the same: settled unseen, or expired
        except Exception as error:
            if exc is None:
                raise
            exc.add_note(self._release_note(error))


class AsyncHold(_HoldState):
    """A hold of the async client: ``async with client.reserve(...) as hold`` (see the module)."""

    def __init__(self, client: AsyncTollgate, call: calls.Call, *, pricing: Pricing | None) -> None:
        super().__init__(call, pricing=pricing)
        self._client = client

    async def open(self) -> AsyncHold:
        """Create the reservation (once; ``async with`` does this)."""
        if self.status != "new":
            return self
        self._check_opened(parse(Reservation, await self._client._send(self._call)))
        if self._pricing is None:
            self._pricing = await self._client._pricing_for(self.feature)
        return self

    async def settle(self, usage: object | None = None, *, quantity: int | None = None,
                     amount: CreditsLike | None = None, metadata: Mapping[str, Any] | None = None) -> Settlement:
        call = self._settle_call(usage, quantity, amount, metadata)
        try:
            self.settlement = parse(Settlement, await self._client._send(call))
        except ReservationClosed as closed:
            self._closed_by(closed)
            raise
        self.status = "settled"
        return self.settlement

    async def release(self) -> Release | None:
        if self.status == "released":
            return self.release_result
        self._require_open()
        try:
            self.release_result = await self._client.release_reservation(self.id)
        except ReservationClosed as closed:
            self._closed_by(closed)
            raise
        self.status = "released"
        return self.release_result

    async def __aenter__(self) -> AsyncHold:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self.status != "open":
            return
        try:
            await self.release()
        except ReservationClosed:
            pass
        except Exception as error:
            if exc is None:
                raise
            exc.add_note(self._release_note(error))
