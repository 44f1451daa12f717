"""The payout workflow's steps (``statemachines/payout.asl.json``), each safe to run again.

Reserve → Transfer → (Paystack: AwaitConfirmation, resumed by the ``transfer.*`` webhook,
or Verify after a timeout) → MarkPaid; a permanent failure anywhere → Compensate.

Every step is idempotent: it reads the payout, does nothing if its effect is already there,
and otherwise writes its effect conditioned on the payout's status, so a step re-run after a
crash changes nothing twice. Money moves between the developer's earnings fields in the same
transaction as the payout's status, logged on the earnings ledger:

* Reserve: ``available → in_payout`` (only if that much is available);
* MarkPaid: ``in_payout → paid``; Compensate: ``in_payout → available``;
* a reversal after payment: ``paid → available``.

Transient failures raise :class:`TransientPayoutError` (the state machine retries it),
permanent ones :class:`PermanentPayoutError` (caught into Compensate).
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, gateways
from tollgate.data import ConditionFailed, Transaction, TransactionCancelled
from tollgate.gateways.exceptions import GatewayError
from tollgate.gateways.payouts import Transfer, is_transient
from tollgate.payouts import repository
from tollgate.payouts.exceptions import PermanentPayoutError, TransientPayoutError
from tollgate.payouts.models import PayoutItem
from tollgate.workflows import engine

P = PayoutItem
IN_FLIGHT = ("reserved", "awaiting_confirmation")
TRANSFER_FAILED = "TransferFailed"  # the error a failed transfer webhook ends the wait with


def _payout(payout_id: str) -> PayoutItem:
    payout = repository.get_payout(payout_id)
    if payout is None:
        raise PermanentPayoutError(f"no payout {payout_id}")
    return payout


def _now() -> str:
    return clock.iso(clock.now_ms())


def _commit(tx: Transaction) -> bool:
    """Commit; False if a condition failed (another run of the step got there first)."""
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if "ConditionalCheckFailed" in cancelled.codes.values():
            return False
        raise TransientPayoutError(str(cancelled)) from None
    return True


def reserve(payout_id: str) -> dict[str, Any]:
    """Move the payout's credits from available to in_payout."""
    payout = _payout(payout_id)
    if payout.status == "requested":
        now = _now()
        tx = Transaction()
        repository.update_payout(tx, payout, [P.status.set("reserved"), repository.step("reserve", "succeeded", now),
                                              P.updated_at.set(now)], P.status == "requested")
        repository.move_earnings(tx, payout, {"available": -payout.credits_mc, "in_payout": payout.credits_mc}, now,
                                 "payout_reserved", condition=repository.held_by(payout)
                                 & (repository.D.available >= payout.credits_mc))
        if not _commit(tx):
            payout = _payout(payout_id)
            if payout.status == "requested":  # the earnings refused: no longer available
                raise PermanentPayoutError("the earnings are no longer available to pay out")
    elif payout.status not in (*IN_FLIGHT, "paid"):
        raise PermanentPayoutError(f"payout {payout_id} is {payout.status}")
    return {"payout_id": payout_id, "gateway": payout.gateway}


def transfer(payout_id: str) -> dict[str, Any]:
    """Send the money (once: the gateway call is keyed by the payout); the transfer's status."""
    payout = _payout(payout_id)
    if payout.status == "paid":
        return _result(payout, "succeeded")
    if payout.status not in IN_FLIGHT:
        raise PermanentPayoutError(f"payout {payout_id} is {payout.status}")
    gateway = gateways.get_payout_gateway(payout.gateway)
    if not payout.transfer_attempted:
        repository.set_fields(payout_id, [P.transfer_attempted.set(True)])
    try:
        sent = gateway.transfer(payout_id, payout.account_id, payout.amount, payout.currency)
    except GatewayError as exc:
        _record(payout_id, "transfer", "retrying" if is_transient(exc) else "failed", exc.message)
        if is_transient(exc):
            raise TransientPayoutError(exc.message) from None
        raise PermanentPayoutError(exc.message) from None
    return _transferred(payout, sent)


def _transferred(payout: PayoutItem, sent: Transfer) -> dict[str, Any]:
    now = _now()
    status = {"succeeded": "succeeded", "pending": "pending"}.get(sent.status, "failed")
    actions = [P.transfer_id.set(sent.transfer_id), repository.step("transfer", status, now, sent.failure),
               P.updated_at.set(now)]
    if status == "pending":
        actions.append(P.status.set("awaiting_confirmation"))
    repository.set_fields(payout.payout_id, actions)
    if status == "failed":
        raise PermanentPayoutError(sent.failure or f"the transfer is {sent.status}")
    return _result(payout, status)


def _result(payout: PayoutItem, transfer_status: str) -> dict[str, Any]:
    return {"payout_id": payout.payout_id, "gateway": payout.gateway, "transfer_status": transfer_status}


def _record(payout_id: str, step: str, status: str, error: str | None = None) -> None:
    now = _now()
    repository.set_fields(payout_id, [repository.step(step, status, now, error), P.updated_at.set(now)])


def await_confirmation(payout_id: str, token: str) -> None:
    """Wait for the transfer's webhook: keep the task token where the webhook finds it. If the
    webhook came first, its outcome is on the payout already: answer the token now."""
    payout = repository.set_fields(payout_id, [P.task_token.set(token), P.updated_at.set(_now())], P.pk.exists())
    if payout.confirmation:
        _answer(payout, token, payout.confirmation)


def confirm(payout: PayoutItem, outcome: str, reason: str | None = None) -> None:
    """A transfer webhook's outcome (``succeeded`` | ``failed``): noted on the payout, then handed
    to the waiting step if it is waiting (whichever of the two writes second answers)."""
    if payout.status not in IN_FLIGHT:
        return
    actions = [P.confirmation.set(outcome), repository.step("confirmation", outcome, _now(), reason)]
    try:
        updated = repository.set_fields(payout.payout_id, actions, P.status.is_in(*IN_FLIGHT))
    except ConditionFailed:
        return  # settled meanwhile
    if updated.task_token:
        _answer(updated, updated.task_token, outcome, reason)


def _answer(payout: PayoutItem, token: str, outcome: str, reason: str | None = None) -> None:
    if outcome == "succeeded":
        engine().succeed(token, _result(payout, "succeeded"))
    else:
        engine().fail(token, TRANSFER_FAILED, reason or "the gateway reported the transfer failed")


def verify(payout_id: str) -> dict[str, Any]:
    """No webhook in time: ask the gateway how the transfer stands."""
    payout = _payout(payout_id)
    if payout.status == "paid":
        return _result(payout, "succeeded")
    try:
        found = gateways.get_payout_gateway(payout.gateway).find_transfer(payout_id)
    except GatewayError as exc:
        if is_transient(exc):
            raise TransientPayoutError(exc.message) from None
        raise PermanentPayoutError(exc.message) from None
    status = "failed" if found is None else {"succeeded": "succeeded", "pending": "pending"}.get(found.status,
                                                                                                 "failed")
    _record(payout_id, "verify", status, None if found else "the gateway has no such transfer")
    if status == "failed":
        raise PermanentPayoutError((found.failure if found else None) or "the transfer did not go through")
    return _result(payout, status)


def mark_paid(payout_id: str) -> dict[str, Any]:
    """``in_payout → paid``; the developer may ask for the next payout."""
    payout = _payout(payout_id)
    if payout.status in IN_FLIGHT:
        now = _now()
        tx = Transaction()
        repository.update_payout(tx, payout, [P.status.set("paid"), P.paid_at.set(now), P.task_token.remove(),
                                              repository.step("mark_paid", "succeeded", now), P.updated_at.set(now)],
                                 P.status.is_in(*IN_FLIGHT))
        repository.move_earnings(tx, payout, {"in_payout": -payout.credits_mc, "paid": payout.credits_mc}, now,
                                 "payout_paid", condition=repository.held_by(payout), release=True)
        if not _commit(tx) and _payout(payout_id).status != "paid":
            raise TransientPayoutError("the payout changed while being marked paid")
    elif payout.status != "paid":
        raise PermanentPayoutError(f"payout {payout_id} is {payout.status}")
    return {"payout_id": payout_id, "status": "paid"}


def compensate(payout_id: str, error: str | None) -> dict[str, Any]:
    """Give the credits back (``in_payout → available``) and mark the payout failed with why.

    A transfer whose outcome is unknown (attempted, and no webhook said it failed) is looked
    up first: money that moved is marked paid, never given back as well."""
    payout = _payout(payout_id)
    if payout.status in ("failed", "paid", "reversed"):
        return {"payout_id": payout_id, "status": payout.status}
    # A transfer attempted without a word from the gateway on how it ended is looked up first.
    if payout.transfer_attempted and payout.status in IN_FLIGHT and payout.confirmation != "failed":
        found = _find(payout)
        if found is not None and found.status == "succeeded":
            return mark_paid(payout_id)
        if found is not None and found.status == "pending":
            raise TransientPayoutError("the transfer is still pending at the gateway")
    now = _now()
    reason = (error or "the payout failed")[:500]
    tx = Transaction()
    repository.update_payout(tx, payout, [P.status.set("failed"), P.failure.set(reason), P.task_token.remove(),
                                          repository.step("compensate", "succeeded", now, reason),
                                          P.updated_at.set(now)], P.status == payout.status)
    deltas = {"in_payout": -payout.credits_mc, "available": payout.credits_mc} if payout.status in IN_FLIGHT else {}
    repository.move_earnings(tx, payout, deltas, now, "payout_released", condition=repository.held_by(payout),
                             release=True)
    if not _commit(tx):
        raise TransientPayoutError("the payout changed while being compensated")
    return {"payout_id": payout_id, "status": "failed"}


def _find(payout: PayoutItem) -> Transfer | None:
    try:
        return gateways.get_payout_gateway(payout.gateway).find_transfer(payout.payout_id)
    except GatewayError as exc:
        raise TransientPayoutError(exc.message) from None


def reverse(payout: PayoutItem, reason: str | None) -> None:
    """The gateway reversed a transfer: a paid payout's credits are available again; one still
    waiting ends as a failed transfer."""
    if payout.status in IN_FLIGHT:
        confirm(payout, "failed", reason or "the transfer was reversed")
        return
    if payout.status != "paid":
        return
    now = _now()
    tx = Transaction()
    repository.update_payout(tx, payout, [P.status.set("reversed"), P.failure.set(reason or "reversed by the gateway"),
                                          repository.step("reversal", "succeeded", now, reason),
                                          P.updated_at.set(now)], P.status == "paid")
    repository.move_earnings(tx, payout, {"paid": -payout.credits_mc, "available": payout.credits_mc}, now,
                             "payout_reversed")
    _commit(tx)


__all__ = ["await_confirmation", "compensate", "confirm", "mark_paid", "reserve", "reverse",
           "transfer", "verify"]
