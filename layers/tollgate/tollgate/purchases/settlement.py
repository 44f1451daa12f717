"""Webhook events applied to purchases: grants, failures, refunds and disputes, each exactly once.

* A successful payment moves the purchase from pending (or failed: the customer retried
  the card) to paid and grants its credits in one conditional transaction (purchase
  update + ledger entry + wallet credit). The entry's key derives from the purchase, so
  retries, duplicates and different events for one payment grant once, in any order.
* An amount or currency that does not match the purchase grants nothing and flags it.
* A failure marks a pending purchase failed and never undoes a grant.
* Refunds and disputes claw back the purchase's credits in proportion, never below zero:
  what the wallet no longer holds is recorded on the purchase as unrecovered. A refund
  Tollgate started itself (``refunds/``) is not clawed back again: its webhook only tells the
  refund's workflow how the gateway's refund ended (``refunds/webhooks.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tollgate import clock, ids
from tollgate.data import TransactionCancelled
from tollgate.gateways import GatewayEvent, Refund, get_gateway
from tollgate.ledger import posting
from tollgate.ledger.exceptions import InsufficientCredits
from tollgate.purchases import repository
from tollgate.purchases.exceptions import SettlementBusy
from tollgate.purchases.models import PurchaseItem

_PAID_STATES = ("paid", "partially_refunded", "refunded", "disputed")
P = PurchaseItem


class Outcome(StrEnum):
    """What one verified webhook event did."""

    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    UNKNOWN_PURCHASE = "unknown_purchase"
    GRANTED = "granted"
    ALREADY_GRANTED = "already_granted"
    FLAGGED_MISMATCH = "flagged_mismatch"
    NOT_CONFIRMED = "not_confirmed"
    MARKED_FAILED = "marked_failed"
    IGNORED_NOT_PENDING = "ignored_not_pending"
    NO_REFUNDS = "no_refunds"
    CLAWED_BACK = "clawed_back"
    CLAWED_BACK_PARTIALLY = "clawed_back_partially"
    OWN_REFUND = "own_refund"  # a refund Tollgate started: its workflow is told, nothing more is taken
    ALREADY_APPLIED = "already_applied"
    FLAGGED_NOT_PAID = "flagged_not_paid"
    RETRY_LATER = "retry_later"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    IGNORED_NO_OPEN_DISPUTE = "ignored_no_open_dispute"
    UNKNOWN_PAYOUT = "unknown_payout"
    TRANSFER_CONFIRMED = "transfer_confirmed"
    TRANSFER_FAILED = "transfer_failed"
    TRANSFER_REVERSED = "transfer_reversed"


@dataclass(frozen=True)
class Settled:
    """The outcome of an event (one per refund when it carries several) and its purchase."""

    outcomes: tuple[Outcome, ...]
    purchase_id: str | None = None

    @property
    def outcome(self) -> Outcome:
        """The event's overall outcome: the first one (an event with one refund has one)."""
        return self.outcomes[0]


def handle(gateway: str, event: GatewayEvent) -> Settled:
    """Apply one verified event, once; the result goes to the response and the dedupe record."""
    if event.kind == "ignored":
        return Settled((Outcome.IGNORED,))
    if repository.seen_webhook(gateway, event.event_id):
        return Settled((Outcome.DUPLICATE,))
    if event.kind.startswith("transfer_"):
        from tollgate.payouts import transfers  # payouts load only for payout events

        outcome = Outcome(transfers.handle(gateway, event))
        repository.record_webhook(gateway, event.event_id, clock.now_ms() // 1000, kind=event.kind,
                                  raw_type=event.raw_type, outcome=outcome, received_at=clock.iso(clock.now_ms()))
        return Settled((outcome,))
    purchase = _purchase_for(gateway, event)
    outcomes: tuple[Outcome, ...]
    if purchase is None:
        outcomes = (Outcome.UNKNOWN_PURCHASE,)
    elif event.kind == "payment_succeeded":
        outcomes = (_succeeded(gateway, purchase, event),)
    elif event.kind == "payment_failed":
        failed = _mark_failed(purchase, event.raw_type)
        # A late failure never undoes a grant.
        outcomes = (Outcome.MARKED_FAILED if failed else Outcome.IGNORED_NOT_PENDING,)
    elif event.kind in ("refund", "refund_failed"):
        outcomes = tuple(_refunded(gateway, purchase, event, r) for r in event.refunds) or (Outcome.NO_REFUNDS,)
    elif event.kind == "dispute_opened":
        outcomes = (_claw_back(purchase.purchase_id, f"dispute:{event.dispute_id}", event.dispute_amount,
                               dispute=True),)
    else:
        outcomes = (_dispute_closed(purchase, event),)
    if Outcome.RETRY_LATER in outcomes:
        # Not applied (the wallet kept changing under us): no dedupe record, and a 503 so
        # the gateway delivers it again.
        raise SettlementBusy("the event could not be applied yet; deliver it again")
    result = Settled(outcomes, purchase.purchase_id if purchase else None)
    repository.record_webhook(gateway, event.event_id, clock.now_ms() // 1000, kind=event.kind,
                              raw_type=event.raw_type, purchase_id=result.purchase_id,
                              outcome=",".join(outcomes), received_at=clock.iso(clock.now_ms()))
    return result


def _purchase_for(gateway: str, event: GatewayEvent) -> PurchaseItem | None:
    purchase_id = event.purchase_id
    if not purchase_id and event.reference:
        purchase_id = repository.purchase_for_reference(gateway, event.reference)
    item = repository.get_purchase(purchase_id) if purchase_id else None
    # A Stripe event never touches a Paystack purchase, nor the other way round.
    return item if item and item.gateway == gateway else None


def _mark_failed(purchase: PurchaseItem, reason: str) -> bool:
    """A pending purchase's payment failed; False if it was not pending. An auto top-up's (a charge
    that was processing) fails as a declined one does: the month given back and auto top-up off too."""
    from tollgate import autotopup  # loads only for a failed payment

    if autotopup.made_it(purchase):
        return autotopup.purchase_failed(purchase, reason, f"the card payment failed ({reason})")
    return repository.mark_failed(purchase.purchase_id, reason)


def _succeeded(gateway: str, purchase: PurchaseItem, event: GatewayEvent) -> Outcome:
    amount, currency = event.amount, event.currency
    if gateway == "paystack":
        # Paystack's webhook is confirmed with its verify endpoint before anything is granted.
        status = get_gateway("paystack").verify_payment(event.reference or purchase.reference
                                                        or purchase.purchase_id)
        if not status.succeeded:
            return Outcome.NOT_CONFIRMED
        amount, currency = status.amount, status.currency
    return grant(purchase.purchase_id, amount, currency, event.reference)


def grant(purchase_id: str, amount: int | None, currency: str | None, reference: str | None) -> Outcome:
    purchase = repository.get_purchase(purchase_id)
    if purchase is None:
        return Outcome.UNKNOWN_PURCHASE
    if purchase.status in _PAID_STATES:
        return Outcome.ALREADY_GRANTED
    if amount != purchase.amount or (currency or "").upper() != purchase.currency:
        repository.set_fields(purchase_id, flagged=f"paid {amount} {currency}, expected {purchase.amount} "
                                                   f"{purchase.currency}")
        return Outcome.FLAGGED_MISMATCH
    now_ms = clock.now_ms()
    wallet_id, credits = purchase.wallet_id, purchase.credits_mc
    metadata = {"gateway": purchase.gateway, "amount": purchase.amount, "currency": purchase.currency,
                "package_id": purchase.package_id}
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.located_id("tx", wallet_id, "purchase", purchase_id),
        entry_type="purchase",
        amount=credits,
        now_ms=now_ms,
        request_hash=ids.request_hash(f"purchase:{purchase_id}"),
        actor=f"gateway:{purchase.gateway}",
        reference=f"purchase:{purchase_id}",
        metadata={k: v for k, v in metadata.items() if v is not None},
    )
    paid = repository.update_purchase(
        purchase_id,
        sets={"status": "paid", "paid_at": clock.iso(now_ms), "paid_reference": reference or purchase_id},
        condition=P.status.is_in("pending", "failed") & (P.amount == purchase.amount)
        & (P.currency == purchase.currency),
        removes=("failure_reason",) if purchase.failure_reason else (),
    )
    try:
        posting.credit(entry, credits, paid)
    except posting.Replayed:
        return Outcome.ALREADY_GRANTED
    except TransactionCancelled:
        return Outcome.ALREADY_GRANTED  # the purchase left pending/failed meanwhile: another event granted it
    return Outcome.GRANTED


def _refunded(gateway: str, purchase: PurchaseItem, event: GatewayEvent, refund: Refund) -> Outcome:
    """A refund the gateway reports: Tollgate's own confirms its workflow and takes nothing more;
    another (made in the gateway's dashboard) is clawed back once it has succeeded."""
    from tollgate.refunds import webhooks as own  # refunds load only for refund events

    mine = own.own_refund(gateway, purchase, refund)
    if mine is not None:
        own.apply(mine, refund)
        return Outcome.OWN_REFUND
    if event.kind == "refund_failed" or refund.status != "succeeded":
        return Outcome.IGNORED
    minor: int | None = refund.amount
    if event.refunded_total is not None:
        # Stripe's charge.refunded without its refunds: only the cumulative total says what is new.
        minor = own.external_minor(purchase, event.refunded_total)
        if minor == 0:  # nothing beyond Tollgate's own refunds and the refunds already applied
            return Outcome.OWN_REFUND if purchase.own_refunds else Outcome.ALREADY_APPLIED
    return _claw_back(purchase.purchase_id, f"refund:{refund.refund_id}", minor, dispute=False)


def _claw_back(purchase_id: str, source: str, refund_minor: int | None, *, dispute: bool) -> Outcome:
    for _ in range(4):
        purchase = repository.get_purchase(purchase_id)
        if purchase is None or purchase.status not in _PAID_STATES:
            repository.set_fields(purchase_id, flagged=f"{source} before the payment was granted")
            return Outcome.FLAGGED_NOT_PAID
        if source in (purchase.applied_sources or ()):
            return Outcome.ALREADY_APPLIED
        amount, credits = purchase.amount, purchase.credits_mc
        taken = purchase.clawed_back_mc + purchase.unrecovered_mc
        minor = amount - purchase.refunded_amount if refund_minor is None else refund_minor
        target = min(credits * minor // amount, credits - taken)
        wallet = posting.read_wallet(purchase.wallet_id)
        recover = max(0, min(target, wallet.effective_available(clock.now_ms())))
        unrecovered = target - recover
        try:
            _apply_claw_back(purchase, source, minor, recover, unrecovered, dispute=dispute)
        except (TransactionCancelled, InsufficientCredits):
            continue  # the wallet or purchase changed under us: read again and retry
        except posting.Replayed:
            return Outcome.ALREADY_APPLIED
        return Outcome.CLAWED_BACK if unrecovered == 0 else Outcome.CLAWED_BACK_PARTIALLY
    return Outcome.RETRY_LATER


def _apply_claw_back(purchase: PurchaseItem, source: str, minor: int, recover: int, unrecovered: int, *,
                     dispute: bool) -> None:
    purchase_id, wallet_id = purchase.purchase_id, purchase.wallet_id
    refunded = purchase.refunded_amount + (0 if dispute else minor)
    status = "disputed" if dispute else ("refunded" if refunded >= purchase.amount else "partially_refunded")
    sets: dict[str, object] = {
        "status": status,
        "refunded_amount": refunded,
        "clawed_back_mc": purchase.clawed_back_mc + recover,
        "unrecovered_mc": purchase.unrecovered_mc + unrecovered,
        "applied_sources": sorted({*(purchase.applied_sources or ()), source}),
    }
    if dispute:
        sets.update({"dispute_source": source, "dispute_clawed_mc": recover, "dispute_unrecovered_mc": unrecovered,
                     "status_before_dispute": purchase.status})
    update = repository.update_purchase(
        purchase_id, sets=sets,
        condition=(P.status == purchase.status) & (P.clawed_back_mc == purchase.clawed_back_mc),
    )
    if recover == 0:
        update.commit()
        return
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.located_id("tx", wallet_id, "clawback", purchase_id, source),
        entry_type="chargeback" if dispute else "refund",
        amount=-recover,
        now_ms=clock.now_ms(),
        request_hash=ids.request_hash(f"clawback:{purchase_id}:{source}"),
        actor=f"gateway:{purchase.gateway}",
        reference=f"purchase:{purchase_id}",
        metadata={"source": source, "refunded_minor": minor, "currency": purchase.currency,
                  "unrecovered_credits_mc": unrecovered},
    )
    posting.debit(entry, recover, update)


def _dispute_closed(purchase: PurchaseItem, event: GatewayEvent) -> Outcome:
    source = f"dispute:{event.dispute_id}"
    if purchase.dispute_source != source or purchase.status != "disputed":
        return Outcome.IGNORED_NO_OPEN_DISPUTE
    if event.dispute_status != "won":
        repository.set_fields(purchase.purchase_id, dispute_outcome="lost")
        return Outcome.DISPUTE_LOST
    restored = purchase.dispute_clawed_mc or 0
    update = repository.update_purchase(
        purchase.purchase_id,
        sets={"status": purchase.status_before_dispute or "paid", "dispute_outcome": "won",
              "clawed_back_mc": purchase.clawed_back_mc - restored,
              "unrecovered_mc": purchase.unrecovered_mc - (purchase.dispute_unrecovered_mc or 0)},
        condition=P.status == "disputed",
    )
    if restored == 0:
        update.commit()
        return Outcome.DISPUTE_WON
    wallet_id = purchase.wallet_id
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=ids.located_id("tx", wallet_id, "dispute-won", purchase.purchase_id, source),
        entry_type="reversal", amount=restored, now_ms=clock.now_ms(),
        request_hash=ids.request_hash(f"dispute-won:{source}"), actor=f"gateway:{purchase.gateway}",
        reference=f"purchase:{purchase.purchase_id}", metadata={"source": source},
    )
    try:
        posting.credit(entry, restored, update)
    except (posting.Replayed, TransactionCancelled):
        return Outcome.ALREADY_APPLIED
    return Outcome.DISPUTE_WON
