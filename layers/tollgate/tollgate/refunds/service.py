"""Asking for refunds, deciding them, and reading them.

A refund request is checked against the purchase's eligibility (``eligibility.py``) and
recorded under an id derived from its Idempotency-Key, so a retried request finds the refund
it made. A user's request for more than ``refund_auto_approve_credits`` waits for an admin
(``pending_approval``); anything else is ``approved`` at once and its workflow (named by the
refund id) started. Nothing moves until the workflow's ClawBack, which checks the credits
again in the same transaction that takes them.
"""

from __future__ import annotations

from tollgate import clock, cursors, idempotency, keys, workflows
from tollgate.amounts import format_credits
from tollgate.data import ConditionFailed
from tollgate.errors import Forbidden
from tollgate.ledger import posting
from tollgate.principal import Principal, validate_wallet_id
from tollgate.purchases import catalog
from tollgate.purchases.models import PurchaseItem
from tollgate.purchases.schemas import SettingsIn
from tollgate.purchases.service import visible_purchase
from tollgate.refunds import repository
from tollgate.refunds.eligibility import Eligibility, assess, money_for
from tollgate.refunds.exceptions import RefundAlreadyDecided, RefundNotAllowed, RefundNotFound
from tollgate.refunds.models import RefundItem
from tollgate.refunds.schemas import DecisionIn, EligibilityOut, RefundIn, RefundList, RefundOut, RefundStep

STEP_ORDER = ("request", "decision", "claw_back", "gateway_refund", "confirmation", "verify", "mark_refunded",
              "compensate")
R = RefundItem


def view(item: RefundItem) -> RefundOut:
    steps = sorted(item.steps.items(), key=lambda kv: (STEP_ORDER.index(kv[0]) if kv[0] in STEP_ORDER else 99,
                                                       str(kv[1].get("at"))))
    return RefundOut(
        refund_id=item.refund_id, purchase_id=item.purchase_id, wallet_id=item.wallet_id,
        status=item.status,  # type: ignore[arg-type]
        credits=item.credits_mc, amount=item.amount, currency=item.currency, gateway=item.gateway,
        reason=item.reason, requested_by=item.requested_by, decided_by=item.decided_by,
        decision_note=item.decision_note,
        failure_reason=item.failure_reason,  # type: ignore[arg-type]
        failure=item.failure, gateway_refund_id=item.gateway_refund_id,
        steps=[RefundStep(name=name, status=str(s["status"]), at=str(s["at"]), error=s.get("error"))
               for name, s in steps],
        created_at=item.created_at, updated_at=item.updated_at, refunded_at=item.refunded_at,
    )


def _eligibility(purchase: PurchaseItem, settings: SettingsIn) -> Eligibility:
    now_ms = clock.now_ms()
    available = posting.read_wallet(purchase.wallet_id).effective_available(now_ms)
    return assess(purchase, available, settings.refund_window_days, now_ms)


def purchase_eligibility(principal: Principal, purchase_id: str) -> EligibilityOut:
    return _eligibility(visible_purchase(principal, purchase_id), catalog.settings()).view()


def refund_id_for(wallet_id: str, idempotency_key: str | None) -> str:
    """The id of the refund a request makes: derived from its key within the purchase's wallet
    (random without one), so one key sent for two purchases of a wallet is a 409, not two refunds."""
    return idempotency.record_id("rf", wallet_id, "refund", idempotency_key)


def request_refund(principal: Principal, purchase_id: str, body: RefundIn, idempotency_key: str | None
                   ) -> RefundOut:
    """Record a refund of ``body.credits`` (default: all refundable) and, if approved, start it."""
    if principal.is_service:
        raise Forbidden("refunds are asked for by the purchase's owner or an admin")
    purchase = visible_purchase(principal, purchase_id)
    refund_id = refund_id_for(purchase.wallet_id, idempotency_key)
    request_hash = idempotency.request_hash({"op": "refund", "purchase": purchase_id, "credits": body.credits,
                                             "reason": body.reason})
    existing = repository.get_refund(refund_id)
    if existing is not None:
        return _replayed(existing, request_hash)
    settings = catalog.settings()
    assessed = _eligibility(purchase, settings)
    if not assessed.eligible:
        raise RefundNotAllowed(f"this purchase cannot be refunded: {', '.join(assessed.reasons)}",
                               reasons=list(assessed.reasons))
    credits = body.credits if body.credits is not None else assessed.refundable_mc
    if credits > assessed.refundable_mc:
        raise RefundNotAllowed(f"only {format_credits(assessed.refundable_mc)} credits of this purchase are "
                               "refundable", field="credits", refundable_credits=format_credits(assessed.refundable_mc))
    amount = money_for(purchase, credits)
    if amount <= 0:
        raise RefundNotAllowed(f"{format_credits(credits)} credits are worth less than one minor unit of "
                               f"{purchase.currency}", field="credits")
    waits = not principal.is_admin and credits > settings.refund_auto_approve_credits
    now = clock.iso(clock.now_ms())
    item = repository.new_refund(
        refund_id=refund_id, purchase_id=purchase_id, wallet_id=purchase.wallet_id, gateway=purchase.gateway,
        currency=purchase.currency, credits_mc=credits, amount=amount, reason=body.reason,
        status="pending_approval" if waits else "approved", requested_by=principal.actor,
        request_hash=request_hash, steps={"request": {"status": "succeeded", "at": now}},
        created_at=now, updated_at=now)
    if not waits:
        item.decided_by, item.decided_at = "auto", now
    try:
        repository.put_refund(item)
    except ConditionFailed:
        stored = repository.get_refund(refund_id)
        if stored is None:
            raise
        return _replayed(stored, request_hash)
    if not waits:
        _start(refund_id)
        item.workflow_started = True
    return view(item)


def _replayed(stored: RefundItem, request_hash: str) -> RefundOut:
    idempotency.check_replay(stored.request_hash, request_hash)
    if stored.status == "approved" and not stored.workflow_started:
        _start(stored.refund_id)  # the first request stopped before starting it
    return view(stored)


def _start(refund_id: str, *, retry: str = "send the same request (same Idempotency-Key) again") -> None:
    """Start the refund's workflow (once: the execution is named by the refund) and note it."""
    workflows.start("refund", refund_id, {"refund_id": refund_id}, resume=retry)
    repository.set_fields(refund_id, [R.workflow_started.set(True)])


def decide(principal: Principal, refund_id: str, approve: bool, body: DecisionIn | None) -> RefundOut:
    """An admin approves (its workflow starts) or rejects a refund waiting for approval.

    Deciding a refund already decided is a 409, except approving again an approved refund
    whose workflow did not start (the first approval answered 503): that starts it."""
    principal.require_admin()
    stored = repository.get_refund(refund_id) if refund_id.startswith("rf_") else None
    if stored is None:
        raise RefundNotFound("no such refund")
    if approve and stored.status == "approved" and not stored.workflow_started:
        _start(refund_id, retry="approve it again")
        return view(repository.get_refund(refund_id) or stored)
    now = clock.iso(clock.now_ms())
    actions = [R.status.set("approved" if approve else "rejected"), R.decided_by.set(principal.actor),
               R.decided_at.set(now), R.updated_at.set(now),
               repository.step("decision", "approved" if approve else "rejected", now)]
    if body is not None and body.note:
        actions.append(R.decision_note.set(body.note))
    updated = repository.try_set_fields(refund_id, actions, R.status == "pending_approval")
    if updated is None:
        stored = repository.get_refund(refund_id)
        if stored is None:
            raise RefundNotFound("no such refund")
        if (stored.status, stored.decided_by, stored.decided_at) != ("approved" if approve else "rejected",
                                                                      principal.actor, now):
            raise RefundAlreadyDecided(f"refund {refund_id} is {stored.status}, not waiting for approval",
                                       status=stored.status)
        updated = stored  # this request's own decision, applied on an attempt whose answer was lost
    if approve:
        _start(refund_id, retry="approve it again")
    return view(repository.get_refund(refund_id) or updated)


def get_refund(principal: Principal, refund_id: str) -> RefundOut:
    item = repository.get_refund(refund_id) if refund_id.startswith("rf_") else None
    if item is None or not (principal.is_admin or item.wallet_id == principal.own_wallet_id):
        raise RefundNotFound("no such refund")
    return view(item)


def list_refunds(principal: Principal, *, limit: int, cursor: str | None, status: str | None,
                 wallet_id: str | None, everyone: bool) -> RefundList:
    """The caller's own refunds; admins (``everyone``) all refunds, or one wallet's."""
    if everyone:
        principal.require_admin()
        wallet_id = validate_wallet_id(wallet_id) if wallet_id is not None else None
    else:
        wallet_id = principal.wallet_for_reading(wallet_id)
    scope = cursors.scope("refunds", wallet_id, status)
    index, partition = (("GSI2", keys.ALL_REFUNDS_GSI2PK) if wallet_id is None
                        else ("GSI1", keys.wallet_refunds_gsi1pk(wallet_id)))
    start = cursors.decode_index(cursor, scope, index, partition)
    items, last = repository.list_refunds(wallet_id=wallet_id, status=status, limit=limit, start=start)
    return RefundList(data=[view(i) for i in items], next_cursor=cursors.encode(last, scope) if last else None)


__all__ = ["decide", "get_refund", "list_refunds", "purchase_eligibility", "refund_id_for", "request_refund", "view"]
