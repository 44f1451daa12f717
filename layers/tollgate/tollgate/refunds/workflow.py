"""The refund workflow's steps (``statemachines/refund.asl.json``), each safe to run again.

ClawBack → GatewayRefund → (a refund the gateway has not finished, as Paystack's always are:
AwaitConfirmation, resumed by the gateway's refund webhook, or GatewayRefund again after a
timeout) → MarkRefunded; a permanent failure anywhere → Compensate.

* **ClawBack**, one transaction: the ledger entry ``refund`` and the wallet debit (only if
  that much is available: never below zero), the purchase's ``clawed_back_mc`` (only if the
  purchase still has that many unrefunded credits, conditioned on the values read) and the
  refund's ``approved → processing``. Spent meanwhile: ``credits_used``; taken by another
  refund meanwhile: ``already_refunded``.
* **GatewayRefund** asks the gateway once per refund: Stripe by the idempotency key
  ``refund-<id>``; Paystack has none, so its adapter lists the transaction's refunds and
  adopts the one carrying this key before creating one.
* **MarkRefunded**: the purchase ``refunded`` / ``partially_refunded`` and the refund
  ``succeeded``, in one transaction.
* **Compensate**: the credits come back (ledger entry ``refund_reversal``), the purchase's
  claw-back is undone and the refund is ``failed`` with the reason. A refund whose gateway
  outcome is unknown (the call was made, and no answer said it failed) is asked about first:
  money that moved is marked refunded, never given back as well.

Transient failures raise :class:`TransientRefundError` (the state machine retries it),
permanent ones :class:`PermanentRefundError` whose message starts with the failure reason.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, ids
from tollgate.data import StoreUnavailable, Transaction, TransactionCancelled
from tollgate.gateways import GatewayError, Refund, get_gateway, is_transient
from tollgate.ledger import posting
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.purchases import repository as purchases
from tollgate.purchases.models import PurchaseItem
from tollgate.refunds import repository
from tollgate.refunds.eligibility import REFUNDABLE_STATES, unrefunded_mc
from tollgate.refunds.exceptions import PermanentRefundError, TransientRefundError
from tollgate.refunds.models import RefundItem
from tollgate.workflows import engine

R = RefundItem
P = PurchaseItem
REFUND_FAILED = "RefundFailed"  # the error a failed refund webhook ends the wait with
FAILURE_REASONS = ("credits_used", "already_refunded", "gateway_refused", "gateway_failed")
_DEFINITIVE_ERRORS = ("PermanentRefundError", REFUND_FAILED)
_ATTEMPTS = 8


def _refund(refund_id: str) -> RefundItem:
    refund = repository.get_refund(refund_id)
    if refund is None:
        raise PermanentRefundError(f"no refund {refund_id}")
    return refund


def _now() -> str:
    return clock.iso(clock.now_ms())


def _result(refund: RefundItem, gateway_status: str | None = None) -> dict[str, Any]:
    return {"refund_id": refund.refund_id, "gateway": refund.gateway,
            "gateway_status": gateway_status or refund.gateway_status or "none"}


def claw_back(refund_id: str) -> dict[str, Any]:
    """Take the refund's credits from the wallet (never below zero) and mark them on the purchase."""
    refund = _refund(refund_id)
    if refund.status in ("processing", "succeeded"):
        return _result(refund)
    if refund.status != "approved":
        raise PermanentRefundError(f"refund {refund_id} is {refund.status}")
    for _ in range(_ATTEMPTS):
        purchase = purchases.get_purchase(refund.purchase_id)
        if purchase is None or purchase.status not in REFUNDABLE_STATES or unrefunded_mc(purchase) < refund.credits_mc:
            raise PermanentRefundError("already_refunded: the purchase no longer has that many unrefunded credits")
        try:
            _take(refund, purchase)
        except posting.Replayed:
            break  # an earlier run took them
        except InsufficientCredits:
            raise PermanentRefundError("credits_used: the credits were spent before the refund could take them"
                                       ) from None
        except TransactionCancelled as cancelled:
            if cancelled.failed(repository.REFUND):
                if _refund(refund_id).status in ("processing", "succeeded"):
                    break
                raise PermanentRefundError(f"refund {refund_id} is no longer approved") from None
            if cancelled.failed(repository.PURCHASE):
                continue  # another refund or a webhook changed the purchase: read it again
            raise TransientRefundError(str(cancelled)) from None
        except StoreUnavailable:
            continue  # contended or throttled past the data layer's retries: read it again
        break
    else:
        raise TransientRefundError("the purchase kept changing under the claw-back")
    return _result(_refund(refund_id))


def _take(refund: RefundItem, purchase: PurchaseItem) -> None:
    now_ms = clock.now_ms()
    now = clock.iso(now_ms)
    entry = posting.new_entry(
        wallet_id=refund.wallet_id, transaction_id=ids.located_id("tx", refund.wallet_id, "refund", refund.refund_id),
        entry_type="refund", amount=-refund.credits_mc, now_ms=now_ms,
        request_hash=ids.request_hash(f"refund:{refund.refund_id}"), actor=refund.requested_by,
        reference=f"purchase:{refund.purchase_id}", reason=refund.reason,
        metadata={"refund_id": refund.refund_id, "refunded_minor": refund.amount, "currency": refund.currency})
    also = Transaction()
    repository.update_refund(also, refund.refund_id, [
        R.status.set("processing"), repository.step("claw_back", "succeeded", now), R.updated_at.set(now)],
        R.status == "approved")
    repository.update_purchase(also, purchase.purchase_id, [
        P.clawed_back_mc.set(purchase.clawed_back_mc + refund.credits_mc),
        P.own_refunds.set({**(purchase.own_refunds or {}), refund.refund_id: refund.amount})],
        (P.clawed_back_mc == purchase.clawed_back_mc) & (P.unrecovered_mc == purchase.unrecovered_mc)
        & P.status.is_in(*REFUNDABLE_STATES))
    posting.debit(entry, refund.credits_mc, also)


def _payment_reference(purchase: PurchaseItem) -> str:
    """What the gateway knows the payment by (a PaymentIntent, a Checkout Session, a Paystack reference)."""
    paid = purchase.paid_reference
    if paid and paid != purchase.purchase_id:
        return paid
    return purchase.reference or purchase.purchase_id


def gateway_refund(refund_id: str) -> dict[str, Any]:
    """Refund the money at the gateway, once per refund; how the gateway says it stands."""
    refund = _refund(refund_id)
    if refund.status == "succeeded":
        return _result(refund, "succeeded")
    if refund.status != "processing":
        raise PermanentRefundError(f"refund {refund_id} is {refund.status}")
    if refund.gateway_refund_id and (refund.gateway_status == "succeeded" or refund.confirmation == "succeeded"):
        return _result(refund, "succeeded")  # a re-run after the gateway said so: nothing to ask
    if refund.confirmation == "failed":
        raise PermanentRefundError(f"gateway_failed: {refund.failure or 'the gateway reports the refund failed'}")
    made = _ask_gateway(refund)
    if made.status == "failed":
        raise PermanentRefundError(f"gateway_failed: {made.failure or 'the gateway reports the refund failed'}")
    return _result(refund, made.status)


def _ask_gateway(refund: RefundItem) -> Refund:
    """Create (or find: the call is idempotent per refund) the gateway's refund and record it."""
    purchase = purchases.get_purchase(refund.purchase_id)
    if purchase is None:
        raise PermanentRefundError(f"gateway_refused: purchase {refund.purchase_id} is gone")
    if not refund.gateway_attempted:
        repository.set_fields(refund.refund_id, [R.gateway_attempted.set(True)])
    try:
        made = get_gateway(refund.gateway).refund(_payment_reference(purchase), refund.amount,
                                                  idempotency_key=f"refund-{refund.refund_id}",
                                                  refund_id=refund.refund_id)
    except GatewayError as exc:
        _record(refund.refund_id, "gateway_refund", "retrying" if is_transient(exc) else "failed", exc.message)
        if is_transient(exc):
            raise TransientRefundError(exc.message) from None
        raise PermanentRefundError(f"gateway_refused: {exc.message}") from None
    repository.put_reference(refund.gateway, made.refund_id, refund.refund_id)
    now = _now()
    repository.set_fields(refund.refund_id, [
        R.gateway_refund_id.set(made.refund_id), R.gateway_status.set(made.status),
        repository.step("gateway_refund", made.status, now, made.failure), R.updated_at.set(now)])
    return made


def _record(refund_id: str, step: str, status: str, error: str | None = None) -> None:
    now = _now()
    repository.set_fields(refund_id, [repository.step(step, status, now, error), R.updated_at.set(now)])


def await_confirmation(refund_id: str, token: str) -> None:
    """Wait for the gateway's refund webhook: keep the task token where the webhook finds it. If
    the webhook came first, its outcome is on the refund already: answer the token now."""
    refund = repository.set_fields(refund_id, [R.task_token.set(token), R.updated_at.set(_now())], R.pk.exists())
    if refund.confirmation:
        _answer(refund, token, refund.confirmation, refund.failure)


def confirm(refund: RefundItem, outcome: str, reason: str | None = None) -> None:
    """A refund webhook's outcome (``succeeded`` | ``failed``), noted on the refund once (so a
    webhook matched to it by amount is matched to no other refund), then handed to the waiting
    step if the refund is still processing and waiting (whichever of the two writes second
    answers)."""
    if refund.confirmation:
        return
    actions = [R.confirmation.set(outcome), repository.step("confirmation", outcome, _now(), reason)]
    if reason and refund.status == "processing":
        actions.append(R.failure.set(reason[:500]))
    updated = repository.try_set_fields(refund.refund_id, actions, R.confirmation.does_not_exist())
    if updated is not None and updated.status == "processing" and updated.task_token:
        _answer(updated, updated.task_token, outcome, reason)


def _answer(refund: RefundItem, token: str, outcome: str, reason: str | None = None) -> None:
    if outcome == "succeeded":
        engine().succeed(token, _result(refund, "succeeded"))
    else:
        engine().fail(token, REFUND_FAILED, f"gateway_failed: {reason or 'the gateway reports the refund failed'}")


def mark_refunded(refund_id: str) -> dict[str, Any]:
    """The purchase ``refunded`` / ``partially_refunded`` and the refund ``succeeded``."""
    refund = _refund(refund_id)
    if refund.status == "succeeded":
        return {"refund_id": refund_id, "status": "succeeded"}
    if refund.status != "processing":
        raise PermanentRefundError(f"refund {refund_id} is {refund.status}")
    for _ in range(_ATTEMPTS):
        purchase = purchases.get_purchase(refund.purchase_id)
        if purchase is None:
            raise PermanentRefundError(f"purchase {refund.purchase_id} is gone")
        now = _now()
        refunded = purchase.refunded_amount + refund.amount
        fully = refunded >= purchase.amount or unrefunded_mc(purchase) == 0
        actions = [P.refunded_amount.set(refunded),
                   P.own_refunded_amount.set(purchase.own_refunded_amount + refund.amount)]
        if purchase.status in REFUNDABLE_STATES:
            actions.append(P.status.set("refunded" if fully else "partially_refunded"))
        tx = Transaction()
        repository.update_purchase(tx, purchase.purchase_id, actions,
                                   (P.refunded_amount == purchase.refunded_amount) & (P.status == purchase.status))
        repository.update_refund(tx, refund_id, [
            R.status.set("succeeded"), R.refunded_at.set(now), R.task_token.remove(),
            repository.step("mark_refunded", "succeeded", now), R.updated_at.set(now)], R.status == "processing")
        try:
            tx.commit()
        except TransactionCancelled as cancelled:
            if cancelled.failed(repository.REFUND):
                if _refund(refund_id).status == "succeeded":
                    break
                raise PermanentRefundError(f"refund {refund_id} is no longer processing") from None
            continue  # the purchase changed (another refund, a webhook): read it again
        break
    else:
        raise TransientRefundError("the purchase kept changing while the refund was marked")
    return {"refund_id": refund_id, "status": "succeeded"}


def failure_of(error: Any) -> tuple[str, str, bool]:
    """(reason code, message, definitive) from the error a Catch hands Compensate.

    Definitive: the step itself said the refund cannot happen (PermanentRefundError) or the
    gateway's webhook said it failed; anything else (retries exhausted, a timeout) leaves the
    gateway's outcome to be asked about."""
    import json

    if not isinstance(error, dict):
        return "gateway_failed", "the refund failed", False
    name, cause = str(error.get("Error") or ""), error.get("Cause")
    message = cause if isinstance(cause, str) else ""
    try:
        parsed = json.loads(message) if message.startswith("{") else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        message = str(parsed.get("errorMessage") or message)
    code = message.split(":", 1)[0].strip()
    if code not in FAILURE_REASONS:
        code = "gateway_failed"
    return code, f"{name}: {message}"[:500] if name else message[:500], name in _DEFINITIVE_ERRORS


def compensate(refund_id: str, error: Any) -> dict[str, Any]:
    """Give the credits back and mark the refund failed with why (or, if the money did move,
    mark it refunded; if the gateway is still working on it, say ``pending``)."""
    refund = _refund(refund_id)
    if refund.status in ("failed", "succeeded", "rejected"):
        return {"refund_id": refund_id, "status": refund.status}
    code, message, definitive = failure_of(error)
    if refund.status == "processing" and refund.gateway_attempted and not definitive \
            and refund.confirmation != "failed":
        try:
            found = _ask_gateway(refund)
        except PermanentRefundError as refused:
            code, message = "gateway_refused", str(refused)
        else:
            if found.status == "succeeded":
                return mark_refunded(refund_id)
            if found.status == "pending":
                return {"refund_id": refund_id, "status": "pending"}
            code, message = "gateway_failed", found.failure or "the gateway reports the refund failed"
    now = _now()
    failed = [R.status.set("failed"), R.failure_reason.set(code), R.failure.set(message[:500]),
              R.task_token.remove(), repository.step("compensate", "succeeded", now, message), R.updated_at.set(now)]
    if refund.status != "processing":  # nothing was taken: just record why
        if repository.try_set_fields(refund_id, failed, R.status == refund.status) is None:
            raise TransientRefundError("the refund changed while being compensated")
        return {"refund_id": refund_id, "status": "failed"}
    for _ in range(_ATTEMPTS):
        purchase = purchases.get_purchase(refund.purchase_id)
        if purchase is None:
            raise PermanentRefundError(f"purchase {refund.purchase_id} is gone")
        try:
            _give_back(refund, purchase, failed, code)
        except posting.Replayed:
            break
        except TransactionCancelled as cancelled:
            if cancelled.failed(repository.REFUND):
                break  # another run of this step got there first
            continue
        break
    else:
        raise TransientRefundError("the purchase kept changing while the refund was compensated")
    return {"refund_id": refund_id, "status": "failed"}


def _give_back(refund: RefundItem, purchase: PurchaseItem, failed: list[Any], code: str) -> None:
    now_ms = clock.now_ms()
    own = {k: v for k, v in (purchase.own_refunds or {}).items() if k != refund.refund_id}
    actions = [P.clawed_back_mc.set(max(0, purchase.clawed_back_mc - refund.credits_mc)), P.own_refunds.set(own)]
    if purchase.status == "refunded" and purchase.refunded_amount < purchase.amount:
        # Marked fully refunded by a refund still in flight alongside this one.
        actions.append(P.status.set("partially_refunded" if purchase.refunded_amount else "paid"))
    also = Transaction()
    repository.update_purchase(also, purchase.purchase_id, actions,
                               (P.clawed_back_mc == purchase.clawed_back_mc) & (P.status == purchase.status))
    repository.update_refund(also, refund.refund_id, failed, R.status == "processing")
    entry = posting.new_entry(
        wallet_id=refund.wallet_id,
        transaction_id=ids.located_id("tx", refund.wallet_id, "refund-reversal", refund.refund_id),
        entry_type="refund_reversal", amount=refund.credits_mc, now_ms=now_ms,
        request_hash=ids.request_hash(f"refund-reversal:{refund.refund_id}"), actor="system:refunds",
        reference=f"purchase:{refund.purchase_id}",
        # The money the refund entry counted as refunded, taken back off (tollgate.analytics).
        metadata={"refund_id": refund.refund_id, "failure_reason": code, "refunded_minor": refund.amount,
                  "currency": refund.currency})
    posting.credit(entry, refund.credits_mc, also)


__all__ = ["await_confirmation", "claw_back", "compensate", "confirm", "failure_of", "gateway_refund",
           "mark_refunded"]
