"""Webhook events applied to purchases: grants, failures, refunds and disputes, each exactly once.

* A successful payment moves the purchase from pending (or failed: the customer retried
  the card) to paid and grants its credits in one conditional transaction (purchase
  update + ledger entry + wallet credit). The entry's key derives from the purchase, so
  retries, duplicates and different events for one payment grant once, in any order.
* An amount or currency that does not match the purchase grants nothing and flags it.
* A failure marks a pending purchase failed and never undoes a grant.
* Refunds and disputes claw back the purchase's credits in proportion, never below zero:
  what the wallet no longer holds is recorded on the purchase as unrecovered.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, dynamo, ids, keys
from tollgate.dynamo import Item, TransactionCancelled
from tollgate.gateways import GatewayEvent, get_gateway
from tollgate.ledger import posting
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.purchases import repository
from tollgate.purchases.exceptions import SettlementBusy

_PAID_STATES = ("paid", "partially_refunded", "refunded", "disputed")


def handle(gateway: str, event: GatewayEvent) -> str:
    """Apply one verified event; returns what happened (for the response and the dedupe record)."""
    if event.kind == "ignored":
        return "ignored"
    if repository.seen_webhook(gateway, event.event_id):
        return "duplicate"
    purchase = _purchase_for(gateway, event)
    if purchase is None:
        outcome = "unknown_purchase"
    elif event.kind == "payment_succeeded":
        outcome = _succeeded(gateway, purchase, event)
    elif event.kind == "payment_failed":
        outcome = _failed(purchase, event)
    elif event.kind == "refund":
        outcomes = [_claw_back(purchase["purchase_id"], f"refund:{r.refund_id}", r.amount, dispute=False)
                    for r in event.refunds]
        outcome = ",".join(outcomes) or "no_refunds"
    elif event.kind == "dispute_opened":
        outcome = _claw_back(purchase["purchase_id"], f"dispute:{event.dispute_id}", event.dispute_amount,
                             dispute=True)
    else:
        outcome = _dispute_closed(purchase, event)
    if "retry_later" in outcome:
        # Not applied (the wallet kept changing under us): no dedupe record, and a 503 so
        # the gateway delivers it again.
        raise SettlementBusy("the event could not be applied yet; deliver it again")
    repository.record_webhook(gateway, event.event_id, {
        "kind": event.kind, "raw_type": event.raw_type, "purchase_id": purchase["purchase_id"] if purchase else None,
        "outcome": outcome, "received_at": clock.iso(clock.now_ms()),
    }, clock.now_ms() // 1000)
    return outcome


def _purchase_for(gateway: str, event: GatewayEvent) -> Item | None:
    purchase_id = event.purchase_id
    if not purchase_id and event.reference:
        purchase_id = repository.purchase_for_reference(gateway, event.reference)
    item = repository.get_purchase(purchase_id) if purchase_id else None
    # A Stripe event never touches a Paystack purchase, nor the other way round.
    return item if item and item["gateway"] == gateway else None


def _succeeded(gateway: str, purchase: Item, event: GatewayEvent) -> str:
    amount, currency = event.amount, event.currency
    if gateway == "paystack":
        # Paystack's webhook is confirmed with its verify endpoint before anything is granted.
        status = get_gateway("paystack").verify_payment(event.reference or purchase.get("reference")
                                                        or purchase["purchase_id"])
        if not status.succeeded:
            return "not_confirmed"
        amount, currency = status.amount, status.currency
    return grant(purchase["purchase_id"], amount, currency, event.reference)


def grant(purchase_id: str, amount: int | None, currency: str | None, reference: str | None) -> str:
    purchase = repository.get_purchase(purchase_id)
    if purchase is None:
        return "unknown_purchase"
    if purchase["status"] in _PAID_STATES:
        return "already_granted"
    if amount != int(purchase["amount"]) or (currency or "").upper() != purchase["currency"]:
        reason = f"paid {amount} {currency}, expected {purchase['amount']} {purchase['currency']}"
        repository.set_session(purchase_id, {"flagged": reason})
        return "flagged_mismatch"
    now_ms = clock.now_ms()
    wallet_id, credits = purchase["wallet_id"], int(purchase["credits_mc"])
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.derived_id("tx", wallet_id, "purchase", purchase_id),
        entry_type="purchase",
        amount=credits,
        now_ms=now_ms,
        request_hash=ids.request_hash(f"purchase:{purchase_id}"),
        actor=f"gateway:{purchase['gateway']}",
        reference=f"purchase:{purchase_id}",
        metadata={"gateway": purchase["gateway"], "amount": int(purchase["amount"]),
                  "currency": purchase["currency"], "package_id": purchase.get("package_id")},
    )
    paid = repository.update_purchase(
        purchase_id,
        sets={"status": "paid", "paid_at": clock.iso(now_ms), "paid_reference": reference or purchase_id},
        condition="#st IN (:pending, :failed) AND #amount = :amt AND #currency = :cur",
        condition_values={"pending": "pending", "failed": "failed", "amt": int(purchase["amount"]),
                          "cur": purchase["currency"]},
        removes=("failure_reason",) if purchase.get("failure_reason") else (),
    )
    try:
        posting.credit({**entry, "metadata": {k: v for k, v in entry["metadata"].items() if v is not None}},
                       credits, paid)
    except posting.Replayed:
        return "already_granted"
    except TransactionCancelled:
        return "already_granted"  # the purchase left pending/failed meanwhile: another event granted it
    return "granted"


def _failed(purchase: Item, event: GatewayEvent) -> str:
    try:
        dynamo.update(
            Key=keys.purchase(purchase["purchase_id"]),
            UpdateExpression="SET #st = :failed, failure_reason = :why",
            ConditionExpression="#st = :pending",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues=dynamo.values(failed="failed", pending="pending", why=event.raw_type),
        )
    except dynamo.ConditionFailed:
        return "ignored_not_pending"  # a late failure never undoes a grant
    return "marked_failed"


def _claw_back(purchase_id: str, source: str, refund_minor: int | None, *, dispute: bool) -> str:
    for _ in range(4):
        purchase = repository.get_purchase(purchase_id) or {}
        if purchase.get("status") not in _PAID_STATES:
            repository.set_session(purchase_id, {"flagged": f"{source} before the payment was granted"})
            return "flagged_not_paid"
        applied = set(purchase.get("applied_sources") or ())
        if source in applied:
            return "already_applied"
        amount, credits = int(purchase["amount"]), int(purchase["credits_mc"])
        taken = int(purchase.get("clawed_back_mc", 0)) + int(purchase.get("unrecovered_mc", 0))
        minor = amount - int(purchase.get("refunded_amount", 0)) if refund_minor is None else refund_minor
        target = min(credits * minor // amount, credits - taken)
        wallet = posting.read_wallet(purchase["wallet_id"])
        recover = max(0, min(target, wallet.effective_available(clock.now_ms())))
        unrecovered = target - recover
        try:
            _apply_claw_back(purchase, source, minor, recover, unrecovered, dispute=dispute)
        except (TransactionCancelled, InsufficientCredits):
            continue  # the wallet or purchase changed under us: read again and retry
        except posting.Replayed:
            return "already_applied"
        return "clawed_back" if unrecovered == 0 else "clawed_back_partially"
    return "retry_later"


def _apply_claw_back(purchase: Item, source: str, minor: int, recover: int, unrecovered: int, *,
                     dispute: bool) -> None:
    purchase_id, wallet_id = purchase["purchase_id"], purchase["wallet_id"]
    refunded = int(purchase.get("refunded_amount", 0)) + (0 if dispute else minor)
    status = "disputed" if dispute else ("refunded" if refunded >= int(purchase["amount"]) else "partially_refunded")
    sets: dict[str, Any] = {
        "status": status,
        "refunded_amount": refunded,
        "clawed_back_mc": int(purchase.get("clawed_back_mc", 0)) + recover,
        "unrecovered_mc": int(purchase.get("unrecovered_mc", 0)) + unrecovered,
        "applied_sources": sorted({*purchase.get("applied_sources", ()), source}),
    }
    if dispute:
        sets.update({"dispute_source": source, "dispute_clawed_mc": recover, "dispute_unrecovered_mc": unrecovered,
                     "status_before_dispute": purchase["status"]})
    update = repository.update_purchase(
        purchase_id, sets=sets,
        condition="#st = :seen AND #clawed_back_mc = :seen_clawed",
        condition_values={"seen": purchase["status"], "seen_clawed": int(purchase.get("clawed_back_mc", 0))},
    )
    if recover == 0:
        dynamo.transact_write([update])
        return
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.derived_id("tx", wallet_id, "clawback", purchase_id, source),
        entry_type="chargeback" if dispute else "refund",
        amount=-recover,
        now_ms=clock.now_ms(),
        request_hash=ids.request_hash(f"clawback:{purchase_id}:{source}"),
        actor=f"gateway:{purchase['gateway']}",
        reference=f"purchase:{purchase_id}",
        metadata={"source": source, "refunded_minor": minor, "currency": purchase["currency"],
                  "unrecovered_credits_mc": unrecovered},
    )
    posting.debit(entry, recover, update)


def _dispute_closed(purchase: Item, event: GatewayEvent) -> str:
    source = f"dispute:{event.dispute_id}"
    if purchase.get("dispute_source") != source or purchase.get("status") != "disputed":
        return "ignored_no_open_dispute"
    if event.dispute_status != "won":
        repository.set_session(purchase["purchase_id"], {"dispute_outcome": "lost"})
        return "dispute_lost"
    restored = int(purchase.get("dispute_clawed_mc", 0))
    update = repository.update_purchase(
        purchase["purchase_id"],
        sets={"status": purchase.get("status_before_dispute", "paid"), "dispute_outcome": "won",
              "clawed_back_mc": int(purchase.get("clawed_back_mc", 0)) - restored,
              "unrecovered_mc": int(purchase.get("unrecovered_mc", 0)) - int(purchase.get("dispute_unrecovered_mc", 0))},
        condition="#st = :disputed", condition_values={"disputed": "disputed"},
    )
    if restored == 0:
        dynamo.transact_write([update])
        return "dispute_won"
    wallet_id = purchase["wallet_id"]
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.derived_id("tx", wallet_id, "dispute-won", purchase["purchase_id"], source),
        entry_type="reversal", amount=restored, now_ms=clock.now_ms(),
        request_hash=ids.request_hash(f"dispute-won:{source}"), actor=f"gateway:{purchase['gateway']}",
        reference=f"purchase:{purchase['purchase_id']}", metadata={"source": source},
    )
    try:
        posting.credit(entry, restored, update)
    except (posting.Replayed, TransactionCancelled):
        return "already_applied"
    return "dispute_won"
