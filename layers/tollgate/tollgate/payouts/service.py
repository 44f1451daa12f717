"""Asking for payouts and reading them.

A payout converts credits to money at the setting ``payout_rates[currency]`` (minor units
per credit, exact to 0.001): ``amount = floor(credits_mc * rate / 1000)`` minor units. One
payout per developer is in flight at a time: asking for it records the payout and marks it
on the developer's earnings balance in one transaction, conditioned on none being in flight
and the credits being available; its workflow (named by the payout id) then reserves,
transfers and settles it.
"""

from __future__ import annotations

from decimal import Decimal

from tollgate import clock, cursors, idempotency, ids, keys, workflows
from tollgate.amounts import format_credits
from tollgate.data import TransactionCancelled
from tollgate.earnings import available_now, mature
from tollgate.earnings import repository as earnings
from tollgate.earnings.models import DeveloperEarningsItem
from tollgate.errors import Forbidden
from tollgate.gateways.payouts import transfer_reference
from tollgate.payouts import accounts, repository
from tollgate.payouts.exceptions import (
    PayoutInProgress,
    PayoutNotAllowed,
    PayoutNotFound,
    PayoutsUnavailable,
)
from tollgate.payouts.models import PayoutItem
from tollgate.payouts.schemas import PayoutIn, PayoutList, PayoutOut, PayoutStep
from tollgate.principal import Principal
from tollgate.purchases import catalog

STEP_ORDER = ("request", "reserve", "transfer", "confirmation", "verify", "mark_paid", "compensate", "reversal")


def amount_for(credits_mc: int, rate: str) -> int:
    """Minor units for ``credits_mc`` at ``rate`` minor units per credit, rounded down, exactly."""
    rate_milli = int(Decimal(rate) * 1000)  # the setting's pattern allows at most 3 decimals
    return credits_mc * rate_milli // 1_000_000


def view(item: PayoutItem) -> PayoutOut:
    steps = sorted(item.steps.items(), key=lambda kv: (STEP_ORDER.index(kv[0]) if kv[0] in STEP_ORDER else 99,
                                                       str(kv[1].get("at"))))
    return PayoutOut(
        payout_id=item.payout_id, developer_id=item.developer_id, status=item.status,  # type: ignore[arg-type]
        credits=item.credits_mc, amount=item.amount, currency=item.currency,
        gateway=item.gateway,  # type: ignore[arg-type]
        failure=item.failure,
        steps=[PayoutStep(name=name, status=str(s["status"]), at=str(s["at"]), error=s.get("error"))
               for name, s in steps],
        created_at=item.created_at, updated_at=item.updated_at, paid_at=item.paid_at,
    )


def request_payout(developer_id: str, body: PayoutIn, idempotency_key: str | None, *,
                   return_url: str | None = None, trigger: str = "request") -> PayoutOut:
    """Record a payout of ``body.credits`` (default: all available) and start its workflow."""
    payout_id = payout_id_for(developer_id, idempotency_key)
    request_hash = idempotency.request_hash({"op": "payout", "developer": developer_id, "credits": body.credits})
    existing = repository.get_payout(payout_id)
    if existing is not None:
        return _replayed(existing, request_hash)
    account = accounts.active_account(developer_id, return_url=return_url)
    settings = catalog.settings()
    rate = settings.payout_rates.get(account.currency)  # type: ignore[call-overload]
    if rate is None:
        raise PayoutsUnavailable(f"payouts in {account.currency} are not configured (payout_rates)")
    # Checked against what is available on paper first, so a refused request writes nothing.
    balance, available = available_now(developer_id, settings.earnings_hold_days)
    if balance is not None and balance.active_payout:
        raise PayoutInProgress(f"payout {balance.active_payout} is still in progress")
    credits = body.credits if body.credits is not None else available
    if credits <= 0:
        raise PayoutNotAllowed("no earnings are available to pay out yet", field="credits")
    if credits > available:
        raise PayoutNotAllowed(f"only {format_credits(max(available, 0))} credits are available",
                               field="credits", available=format_credits(max(available, 0)))
    amount = amount_for(credits, rate)
    minimum = max(settings.payout_minimums.get(account.currency, 1), 1)  # type: ignore[call-overload]
    if amount < minimum:
        raise PayoutNotAllowed(f"the minimum payout is {minimum} {account.currency} minor units; "
                               f"{format_credits(credits)} credits make {amount}", field="credits", minimum=minimum)
    mature(developer_id, settings.earnings_hold_days)  # the payout's condition reads the stored balance
    now = clock.iso(clock.now_ms())
    item = repository.new_payout(
        payout_id=payout_id, developer_id=developer_id, status="requested", credits_mc=credits, amount=amount,
        currency=account.currency, rate=rate, gateway=account.gateway, account_id=account.account_id,
        reference=transfer_reference(payout_id) if account.gateway == "paystack" else payout_id,
        steps={"request": {"status": "succeeded", "at": now}}, trigger=trigger, request_hash=request_hash,
        created_at=now, updated_at=now)
    try:
        repository.request_payout(item, now)
    except TransactionCancelled as cancelled:
        if cancelled.failed(repository.PAYOUT):
            stored = repository.get_payout(payout_id)
            if stored is not None:
                return _replayed(stored, request_hash)
        old = cancelled.old(earnings.BALANCE, DeveloperEarningsItem)
        if old is not None and old.active_payout:
            raise PayoutInProgress(f"payout {old.active_payout} is still in progress") from None
        raise PayoutNotAllowed("the available earnings changed; ask again", field="credits") from None
    _start(payout_id)
    return view(item)


def payout_id_for(developer_id: str, idempotency_key: str | None) -> str:
    """The id of the payout a request makes: derived from its key (random without one)."""
    return idempotency.record_id("po", developer_id, "payout", idempotency_key)


def _start(payout_id: str) -> None:
    workflows.start("payout", payout_id, {"payout_id": payout_id},
                    resume="send the same request (same Idempotency-Key) again")


def _replayed(stored: PayoutItem, request_hash: str) -> PayoutOut:
    idempotency.check_replay(stored.request_hash, request_hash)
    if stored.status == "requested":
        _start(stored.payout_id)  # in case the first request stopped before starting it
    return view(stored)


def get_payout(principal: Principal, payout_id: str) -> PayoutOut:
    item = repository.get_payout(payout_id)
    if item is None or not (principal.is_admin or item.developer_id == principal.sub):
        raise PayoutNotFound("no such payout")
    return view(item)


def list_payouts(principal: Principal, *, limit: int, cursor: str | None, status: str | None,
                 developer_id: str | None) -> PayoutList:
    """A developer sees their own payouts; an admin everyone's (or one developer's)."""
    if not principal.is_admin:
        if developer_id is not None and developer_id != principal.sub:
            raise Forbidden("only admins may list another developer's payouts")
        developer_id = principal.sub
    scope = cursors.scope("payouts", developer_id, status)
    index, partition = (("GSI2", keys.ALL_PAYOUTS_GSI2PK) if developer_id is None
                        else ("GSI1", keys.developer_payouts_gsi1pk(developer_id)))
    start = cursors.decode_index(cursor, scope, index, partition)
    items, last = repository.list_payouts(developer_id=developer_id, status=status, limit=limit, start=start)
    return PayoutList(data=[view(i) for i in items], next_cursor=cursors.encode(last, scope) if last else None)


def weekly_key(week: str) -> str:
    """The idempotency key of a developer's scheduled payout for an ISO week (``2026-W49``)."""
    return ids.request_hash(f"weekly-payout|{week}")[:32]
