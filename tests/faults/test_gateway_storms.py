"""Gateway faults as storms, every call failing for a while (issue 14, part 3), and Paystack's
verify call under a gateway fault.

* Checkout: each try is a 503 ``try_again`` with ``Retry-After`` while the storm lasts; the same
  request then makes the one payment.
* A Paystack payment webhook whose ``verify_payment`` call fails: a 503, so Paystack delivers it
  again; the delivery after the storm grants once, and a later one is a duplicate.
* The refund workflow's GatewayRefund and the payout workflow's Transfer, run as their Task states
  run them (again after each error the state retries, up to its MaxAttempts from the real
  ``.asl.json`` and template.yaml): a storm within those retries ends in one refund or transfer; a
  storm that outlasts them hands over to Compensate, which the storm keeps failing (retried) and
  which then settles it exactly once: the money that moved is marked done, never given back as well.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.conftest import record
from tests.faults.layer import FaultyGateway
from tests.faults.matrix import (
    GATEWAY_FAULTS,
    WALLET,
    Attempt,
    caught,
    earned,
    http,
    paystack_checkout,
    paystack_paid,
    refund_under_way,
    retries,
    run_task,
    shop,
    tries_summary,
)
from tests.functional.developers import CAROL
from tests.support import (
    assert_earnings_invariant,
    assert_ledger_invariant,
    invoke,
    ledger_state,
    set_gateway,
    set_payout_gateway,
)

GATEWAY_CASES = [pytest.param(*fault, id=fault[0]) for fault in GATEWAY_FAULTS]
STORM = 3  # calls in a row (HTTP tries, webhook deliveries)
COMPENSATE_TRIES_FAILED = 2  # the storm is still on when Compensate first runs


def _refused_for_now(attempt: Attempt) -> None:
    reply = attempt.reply
    assert reply is not None and (reply.status, reply.error_code, reply.headers.get("Retry-After")) == \
        (503, "try_again", "1"), reply


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_checkout_through_a_gateway_storm_starts_one_payment(aws, fault_name, fault):
    from tollgate.gateways import GatewayError
    from tollgate.purchases.models import PurchaseItem

    fakes = shop(aws)
    faulty = FaultyGateway(fakes["stripe"], "stripe", GatewayError)
    set_gateway("stripe", faulty)
    faulty.plan("create_payment", fault, times=STORM)
    body = {"package_id": "starter", "gateway": "stripe", "currency": "USD"}
    tries = [http(invoke("checkout_post_checkout.json", headers={"idempotency-key": "co-storm"}, body=body))
             for _ in range(STORM + 1)]
    for attempt in tries[:-1]:
        _refused_for_now(attempt)
    assert tries[-1].status == 201, tries[-1]
    # Every call for the purchase carried one idempotency key: the gateway made one payment.
    assert len({key for _, key in fakes["stripe"].created}) == 1, fakes["stripe"].created
    assert [p.purchase_id for p in PurchaseItem.scan()] == [tries[-1].reply.body["purchase_id"]]
    record(f"checkout (gateway storm: create payment x{STORM})", fault_name, tries_summary(tries))


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_paystack_payment_webhook_through_a_verify_storm_is_503_then_grants_once(aws, fault_name, fault):
    from tollgate.gateways import GatewayError

    purchase, fakes = paystack_checkout(aws)
    faulty = FaultyGateway(fakes["paystack"], "paystack", GatewayError)
    set_gateway("paystack", faulty)
    faulty.plan("verify_payment", fault, times=STORM)
    deliveries = []
    for _ in range(STORM):
        deliveries.append(paystack_paid(purchase))
        _refused_for_now(deliveries[-1])  # a 5xx: Paystack delivers it again
        assert ledger_state(WALLET)["entries"] == []  # nothing granted while Paystack cannot confirm it
    deliveries.append(paystack_paid(purchase))
    assert (deliveries[-1].status, deliveries[-1].reply.body["outcome"]) == (200, "granted"), deliveries[-1]
    again = paystack_paid(purchase)
    assert (again.status, again.reply.body["outcome"]) == (200, "duplicate"), again
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["entries"]) == (100_000, [100_000]), state
    record(f"grant from a Paystack payment webhook (gateway storm: verify_payment x{STORM})", fault_name,
           tries_summary(deliveries))


def _refunded_once(refund_id: str, stripe: Any) -> None:
    from tollgate.refunds import repository

    assert repository.get_refund(refund_id).status == "succeeded"
    keys = {c.idempotency_key for c in stripe.refund_calls}
    assert len(keys) == 1 and len(stripe.refunds_made) == 1, stripe.refund_calls
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], sorted(state["entries"])) == (60_000, [-40_000, 100_000]), state


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_refund_through_a_gateway_storm_within_its_retries_refunds_once(aws, fault_name, fault):
    refund_id, faulty, stripe = refund_under_way(aws)
    storm = retries("refund", "gateway_refund", "TransientRefundError")  # the last retry gets through
    faulty.plan("refund", fault, times=storm)
    tries = run_task("refund", {"step": "gateway_refund", "refund_id": refund_id})
    assert len(tries) == storm + 1 and tries[-1].error is None, tries
    assert run_task("refund", {"step": "mark_refunded", "refund_id": refund_id})[-1].error is None
    _refunded_once(refund_id, stripe)
    record("refund workflow: GatewayRefund (gateway storm within its retries)", fault_name, tries_summary(tries))


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_refund_through_a_gateway_storm_outlasting_its_retries_is_settled_once_by_compensate(aws, fault_name,
                                                                                                fault):
    refund_id, faulty, stripe = refund_under_way(aws)
    gave_up = retries("refund", "gateway_refund", "TransientRefundError") + 1
    faulty.plan("refund", fault, times=gave_up + COMPENSATE_TRIES_FAILED)
    tries = run_task("refund", {"step": "gateway_refund", "refund_id": refund_id})
    assert len(tries) == gave_up and tries[-1].error == "TransientRefundError", tries
    # The Catch hands Compensate the last error; Compensate asks the gateway what became of it.
    error = caught("TransientRefundError", "Could not reach stripe: TimeoutError")
    compensated = run_task("refund", {"step": "compensate", "refund_id": refund_id, "error": error})
    assert len(compensated) == COMPENSATE_TRIES_FAILED + 1, compensated
    assert compensated[-1].result == {"refund_id": refund_id, "status": "succeeded"}, compensated[-1]
    _refunded_once(refund_id, stripe)  # the money went back once; the credits stay taken, once
    record("refund workflow: GatewayRefund (gateway storm outlasting its retries) → Compensate", fault_name,
           f"{tries_summary(tries)} → Compensate: {tries_summary(compensated)} ({compensated[-1].result['status']})")


def _payout_under_way(aws: Any) -> tuple[str, FaultyGateway, Any]:
    """dev-carol's payout, reserved; the Paystack payout fake (transfers succeed at once) behind a fault layer."""
    from tollgate.gateways import GatewayError

    got = earned(aws)
    inner = got.payout_gateways["paystack"]
    inner.pending = False
    faulty = FaultyGateway(inner, "paystack", GatewayError)
    set_payout_gateway("paystack", faulty)
    reply = invoke("payouts_post_payout.json", caller=CAROL, body={}, headers={"idempotency-key": "po-storm"})
    assert reply.status == 202, reply
    payout_id = reply.body["payout_id"]
    assert run_task("payout", {"step": "reserve", "payout_id": payout_id})[-1].error is None
    return payout_id, faulty, inner


def _payout_settled_once(payout_id: str, inner: Any, *, paid: bool) -> None:
    from tollgate.payouts import repository

    payout = repository.get_payout(payout_id)
    assert payout.status == ("paid" if paid else "failed"), payout.attribute_values
    assert [t.reference for t in inner.transfers.values()] == ([payout_id] if paid else []), inner.transfers
    state = assert_earnings_invariant(CAROL.sub)
    moved = payout.credits_mc
    assert (state["paid"], state["available"], state["in_payout"]) == ((moved, 0, 0) if paid else (0, moved, 0)), state


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_payout_through_a_gateway_storm_within_its_retries_pays_once(aws, fault_name, fault):
    payout_id, faulty, inner = _payout_under_way(aws)
    storm = retries("payout", "transfer", "TransientPayoutError")
    faulty.plan("transfer", fault, times=storm)
    tries = run_task("payout", {"step": "transfer", "payout_id": payout_id})
    assert len(tries) == storm + 1 and tries[-1].result["transfer_status"] == "succeeded", tries
    assert run_task("payout", {"step": "mark_paid", "payout_id": payout_id})[-1].error is None
    _payout_settled_once(payout_id, inner, paid=True)
    record("payout workflow: Transfer (gateway storm within its retries)", fault_name, tries_summary(tries))


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_payout_through_a_gateway_storm_outlasting_its_retries_is_settled_once_by_compensate(aws, fault_name,
                                                                                                fault):
    payout_id, faulty, inner = _payout_under_way(aws)
    gave_up = retries("payout", "transfer", "TransientPayoutError") + 1
    faulty.plan("transfer", fault, times=gave_up)
    faulty.plan("find_transfer", "timeout" if fault == "timeout_after_call" else fault,  # a lookup changes nothing
                times=COMPENSATE_TRIES_FAILED)
    tries = run_task("payout", {"step": "transfer", "payout_id": payout_id})
    assert len(tries) == gave_up and tries[-1].error == "TransientPayoutError", tries
    error = caught("TransientPayoutError", "Could not reach paystack: TimeoutError")
    compensated = run_task("payout", {"step": "compensate", "payout_id": payout_id, "error": error})
    assert len(compensated) == COMPENSATE_TRIES_FAILED + 1, compensated
    # Sent unheard ("acted, answer lost"): found and marked paid. Never sent: the earnings are back.
    sent = fault == "timeout_after_call"
    assert compensated[-1].result["status"] == ("paid" if sent else "failed"), compensated[-1]
    _payout_settled_once(payout_id, inner, paid=sent)
    record("payout workflow: Transfer (gateway storm outlasting its retries) → Compensate", fault_name,
           f"{tries_summary(tries)} → Compensate: {tries_summary(compensated)} ({compensated[-1].result['status']})")

