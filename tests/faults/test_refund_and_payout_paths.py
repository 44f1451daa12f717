"""Refunds and payouts past their first step, under each DynamoDB fault (issue 14, part 3).

Refunds: the request and an admin's approval (HTTP), and the workflow's GatewayRefund (its writes
after the gateway refunded), MarkRefunded and Compensate (giving the credits back after the gateway
refused; marking it refunded when the gateway did refund and only the answer was lost). Payouts: the
workflow's Transfer (its write after the gateway transferred), MarkPaid and Compensate (giving the
earnings back; marking it paid when the transfer went through unheard), and the transfer webhooks
(Paystack's ``transfer.success`` / ``failed`` / ``reversed``, Stripe's ``transfer.reversed``).
What each case asserts and the report are ``tests/faults/matrix.py``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.faults.layer import FaultyGateway
from tests.faults.matrix import (
    WALLET,
    Attempt,
    Path,
    caught,
    dynamo_cases,
    earned,
    http,
    retried_errors,
    run_dynamo_case,
    shop,
    step,
    workflows,
)
from tests.functional.developers import CAROL
from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, FakeGateway, webhook_body
from tests.functional.fake_payouts import FakePayoutGateway, RecordingEngine
from tests.functional.fake_refunds import ask, buy, decide, put_settings, refund_items
from tests.support import (
    assert_earnings_invariant,
    assert_ledger_invariant,
    invoke,
    set_gateway,
    set_payout_gateway,
)


@dataclass
class Flow:
    """A refund or payout under way, and the fakes around it."""

    engine: RecordingEngine
    refund_id: str = ""
    purchase_id: str = ""
    payout_id: str = ""
    gateway: Any = None  # the payment gateway fake (refunds) or the payout gateway fake (payouts)
    faulty: FaultyGateway | None = None
    error: dict[str, str] = field(default_factory=dict)  # what a Catch hands Compensate


def webhook(gateway: str, **event: Any) -> Attempt:
    return http(invoke(f"webhooks_{gateway}.json", caller=None, raw_body=webhook_body(**event),
                       headers={SIGNATURE_HEADER: GOOD_SIGNATURE}))


# -- refunds ------------------------------------------------------------------------------------


def _refund(refund_id: str) -> Any:
    from tollgate.refunds import repository

    return repository.get_refund(refund_id)


def _purchase(purchase_id: str) -> Any:
    from tollgate.purchases import repository

    return repository.get_purchase(purchase_id)


def _refund_step(name: str, flow: Flow, **event: Any) -> Attempt:
    return step("refund_workflow", {"step": name, "refund_id": flow.refund_id, **event})


def _bought(aws: Any, *, auto_approve: str | None = None) -> Flow:
    fakes = shop(aws)
    if auto_approve is not None:
        put_settings(refund_auto_approve_credits=auto_approve)
    engine = workflows()
    purchase = buy()  # 100 credits for 1000 cents, through Stripe
    return Flow(engine, purchase_id=purchase["purchase_id"], gateway=fakes["stripe"])


def _nothing_moved_yet() -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["entries"]) == (100_000, [100_000]), state


def _ask(flow: Flow) -> Attempt:
    return http(ask(flow.purchase_id, {"credits": "40", "reason": "fault tier"}, key="fault-rf"))


def _requested_once(flow: Flow) -> None:
    (refund_id, item), = refund_items().items()
    assert (item["status"], item["workflow_started"], item["credits_mc"]) == ("approved", True, 40_000), item
    assert set(flow.engine.started) == {refund_id} and set(flow.engine.workflows) == {"refund"}, flow.engine.started
    _nothing_moved_yet()  # nothing moves before the workflow's ClawBack


def _waiting_approval(aws: Any) -> Flow:
    flow = _bought(aws, auto_approve="10")
    reply = ask(flow.purchase_id, {"credits": "40", "reason": "fault tier"})
    assert (reply.status, reply.body["status"]) == (202, "pending_approval"), reply
    flow.refund_id = reply.body["refund_id"]
    return flow


def _approve(flow: Flow) -> Attempt:
    return http(decide(flow.refund_id, "approve"))


def _found_approved(again: Attempt) -> bool:
    """Approving again a refund already approved (and started) is a 409 naming its status (README)."""
    reply = again.reply
    return reply is not None and (reply.status, reply.error_code) == (409, "refund_already_decided") \
        and reply.body["error"]["status"] == "approved"


def _approved_once(flow: Flow) -> None:
    item = _refund(flow.refund_id)
    assert (item.status, item.workflow_started) == ("approved", True), item.attribute_values
    assert set(flow.engine.started) == {flow.refund_id}, flow.engine.started
    _nothing_moved_yet()


def _clawed_back(aws: Any, *, faulty: bool = False) -> Flow:
    """An approved refund of 40 of the purchase's 100 credits, clawed back (ClawBack has run)."""
    from tollgate.gateways import GatewayError

    flow = _bought(aws)
    if faulty:
        flow.faulty = FaultyGateway(flow.gateway, "stripe", GatewayError)
        set_gateway("stripe", flow.faulty)
    reply = ask(flow.purchase_id, {"credits": "40", "reason": "fault tier"})
    assert (reply.status, reply.body["status"]) == (202, "approved"), reply
    flow.refund_id = reply.body["refund_id"]
    assert _refund_step("claw_back", flow).error is None
    return flow


def _refunded_at_the_gateway(aws: Any) -> Flow:
    flow = _clawed_back(aws)
    assert _refund_step("gateway_refund", flow).result["gateway_status"] == "succeeded"
    return flow


def _gateway_refund_retried(aws: Any) -> Flow:
    """GatewayRefund failed once at the gateway (a 5xx: nothing refunded) and runs again: its
    DynamoDB writes in that run all come after the gateway's answer."""
    flow = _clawed_back(aws, faulty=True)
    flow.faulty.plan("refund", "server_error")
    assert _refund_step("gateway_refund", flow).error == "TransientRefundError"
    return flow


def _refund_refused(aws: Any) -> Flow:
    """The gateway refused the refund (a 4xx): GatewayRefund failed for good; Compensate runs."""
    from tollgate.gateways import GatewayError

    flow = _clawed_back(aws)
    flow.gateway.refund_error = GatewayError("Stripe refused the refund: charge_disputed", gateway="stripe",
                                             gateway_status=400)
    assert _refund_step("gateway_refund", flow).error == "PermanentRefundError"
    flow.gateway.refund_error = None
    flow.error = caught("PermanentRefundError", "gateway_refused: Stripe refused the refund: charge_disputed")
    return flow


def _refund_made_unheard(aws: Any) -> Flow:
    """The gateway refunded but its answer never came, until GatewayRefund's retries ran out:
    Compensate runs, finds the refund made and marks it refunded."""
    flow = _clawed_back(aws, faulty=True)
    flow.faulty.plan("refund", "timeout_after_call")
    assert _refund_step("gateway_refund", flow).error == "TransientRefundError"
    flow.error = caught("TransientRefundError", "Could not reach stripe: TimeoutError")
    return flow


def _gateway_refund(flow: Flow) -> Attempt:
    return _refund_step("gateway_refund", flow)


def _mark_refunded(flow: Flow) -> Attempt:
    return _refund_step("mark_refunded", flow)


def _compensate_refund(flow: Flow) -> Attempt:
    return _refund_step("compensate", flow, error=flow.error)


def _one_refund_made(flow: Flow) -> None:
    calls = flow.gateway.refund_calls
    assert len({c.idempotency_key for c in calls}) == 1 and len(flow.gateway.refunds_made) == 1, calls


def _clawed_back_once() -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], sorted(state["entries"])) == (60_000, [-40_000, 100_000]), state


def _gateway_refunded_once(flow: Flow) -> None:
    item = _refund(flow.refund_id)
    assert (item.status, item.gateway_status) == ("processing", "succeeded") and item.gateway_refund_id, \
        item.attribute_values
    _one_refund_made(flow)
    _clawed_back_once()


def _refunded_once(flow: Flow) -> None:
    assert _refund(flow.refund_id).status == "succeeded"
    purchase = _purchase(flow.purchase_id)
    assert (purchase.status, purchase.refunded_amount, purchase.clawed_back_mc) == ("partially_refunded", 400, 40_000)
    _one_refund_made(flow)
    _clawed_back_once()


def _given_back_once(flow: Flow) -> None:
    item = _refund(flow.refund_id)
    assert (item.status, item.failure_reason) == ("failed", "gateway_refused"), item.attribute_values
    purchase = _purchase(flow.purchase_id)
    assert (purchase.status, purchase.clawed_back_mc, purchase.refunded_amount) == ("paid", 0, 0)
    assert flow.gateway.refunds_made == {}
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], sorted(state["entries"])) == (100_000, [-40_000, 40_000, 100_000]), state


# -- payouts ------------------------------------------------------------------------------------


def _payout(payout_id: str) -> Any:
    from tollgate.payouts import repository

    return repository.get_payout(payout_id)


def _payout_step(name: str, flow: Flow, **event: Any) -> Attempt:
    return step("payout_workflow", {"step": name, "payout_id": flow.payout_id, **event})


def _reserved(aws: Any, gateway: str = "paystack", *, pending: bool = True, faulty: bool = False) -> Flow:
    """dev-carol's payout of all her earnings, requested and reserved (Reserve has run); the gateway's
    transfers wait for their webhook (``pending``) or succeed at once."""
    from tollgate.gateways import GatewayError

    got = earned(aws, gateway)
    flow = Flow(got.engine, gateway=got.payout_gateways[gateway])
    flow.gateway.pending = pending
    if faulty:
        flow.faulty = FaultyGateway(flow.gateway, gateway, GatewayError)
        set_payout_gateway(gateway, flow.faulty)
    reply = invoke("payouts_post_payout.json", caller=CAROL, body={}, headers={"idempotency-key": "po-1"})
    assert reply.status == 202, reply
    flow.payout_id = reply.body["payout_id"]
    assert _payout_step("reserve", flow).error is None
    return flow


def _transferred(aws: Any, gateway: str = "paystack", *, pending: bool = True) -> Flow:
    flow = _reserved(aws, gateway, pending=pending)
    expected = "pending" if pending else "succeeded"
    assert _payout_step("transfer", flow).result["transfer_status"] == expected
    return flow


def _transfer_retried(aws: Any) -> Flow:
    """Transfer failed once at the gateway (a 5xx: nothing sent) and runs again: its DynamoDB write
    in that run comes after the gateway's answer."""
    flow = _reserved(aws, faulty=True)
    flow.faulty.plan("transfer", "server_error")
    assert _payout_step("transfer", flow).error == "TransientPayoutError"
    return flow


def _transfer_never_made(aws: Any) -> Flow:
    """The gateway could not be reached until Transfer's retries ran out (nothing sent): Compensate runs."""
    flow = _reserved(aws, faulty=True)
    flow.faulty.plan("transfer", "timeout")
    assert _payout_step("transfer", flow).error == "TransientPayoutError"
    flow.error = caught("TransientPayoutError", "Could not reach paystack: TimeoutError")
    return flow


def _transfer_made_unheard(aws: Any) -> Flow:
    """The transfer went through but its answer never came, until Transfer's retries ran out:
    Compensate runs, finds the transfer made and marks the payout paid."""
    flow = _reserved(aws, pending=False, faulty=True)
    flow.faulty.plan("transfer", "timeout_after_call")
    assert _payout_step("transfer", flow).error == "TransientPayoutError"
    flow.error = caught("TransientPayoutError", "Could not reach paystack: TimeoutError")
    return flow


def _awaiting_confirmation(aws: Any) -> Flow:
    """A Paystack transfer made and pending; AwaitConfirmation holds task token ``token-1``."""
    for name in ("stripe", "paystack"):  # the payment gateways parse the webhooks
        set_gateway(name, FakeGateway(name))
    flow = _transferred(aws)
    assert _payout_step("await_confirmation", flow, task_token="token-1").error is None
    assert flow.engine.answers == []
    return flow


def _paid(gateway: str) -> Any:
    def setup(aws: Any) -> Flow:
        for name in ("stripe", "paystack"):
            set_gateway(name, FakeGateway(name))
        flow = _transferred(aws, gateway, pending=False)
        assert _payout_step("mark_paid", flow).error is None
        return flow

    return setup


def _transfer(flow: Flow) -> Attempt:
    return _payout_step("transfer", flow)


def _mark_paid(flow: Flow) -> Attempt:
    return _payout_step("mark_paid", flow)


def _compensate_payout(flow: Flow) -> Attempt:
    return _payout_step("compensate", flow, error=flow.error)


def _paystack_transfer(kind: str, raw_type: str, **fields: Any) -> Any:
    def deliver(flow: Flow) -> Attempt:
        reference = _payout(flow.payout_id).reference
        transfer_id = flow.gateway.transfers[flow.payout_id].transfer_id
        return webhook("paystack", event_id=f"{raw_type}:{transfer_id}", kind=kind, raw_type=raw_type,
                       transfer_reference=reference, transfer_id=transfer_id, **fields)

    return deliver


def _stripe_reversed(flow: Flow) -> Attempt:
    transfer_id = flow.gateway.transfers[flow.payout_id].transfer_id
    return webhook("stripe", event_id="evt_reversed", kind="transfer_reversed", raw_type="transfer.reversed",
                   payout_id=flow.payout_id, transfer_reference=flow.payout_id, transfer_id=transfer_id,
                   failure="Stripe reversed the transfer")


def _earnings(flow: Flow, **expected: int) -> None:
    state = assert_earnings_invariant(CAROL.sub)
    credits = _payout(flow.payout_id).credits_mc
    assert credits > 0 and {k: state[k] for k in expected} == {k: v * credits for k, v in expected.items()}, state


def _transfers(flow: Flow, made: int) -> None:
    inner: FakePayoutGateway = flow.gateway
    assert [t.reference for t in inner.transfers.values()] == [flow.payout_id] * made, inner.transfers


def _sent_once(flow: Flow) -> None:
    payout = _payout(flow.payout_id)
    assert (payout.status, payout.transfer_id) == ("awaiting_confirmation", "tr_0"), payout.attribute_values
    _transfers(flow, 1)
    _earnings(flow, in_payout=1, available=0, paid=0)


def _paid_once(flow: Flow) -> None:
    assert _payout(flow.payout_id).status == "paid"
    _transfers(flow, 1)
    _earnings(flow, in_payout=0, available=0, paid=1)


def _released_once(flow: Flow) -> None:
    assert _payout(flow.payout_id).status == "failed"
    _transfers(flow, 0)
    _earnings(flow, in_payout=0, available=1, paid=0)


def _confirmed_once(outcome: str, answer: str) -> Any:
    def check(flow: Flow) -> None:
        payout = _payout(flow.payout_id)
        assert (payout.status, payout.confirmation) == ("awaiting_confirmation", outcome), payout.attribute_values
        # The waiting task is answered (again on a redelivery: answering a token twice is no error).
        answers = flow.engine.answers
        assert answers and {(kind, token) for kind, token, _ in answers} == {(answer, "token-1")}, answers
        if answer == "fail":
            assert {error for *_, error in answers} == {"TransferFailed"}, answers
        _earnings(flow, in_payout=1, available=0, paid=0)

    return check


def _reversed_once(flow: Flow) -> None:
    assert _payout(flow.payout_id).status == "reversed"
    _transfers(flow, 1)
    _earnings(flow, in_payout=0, available=1, paid=0)


PATHS = [
    Path("refund request (POST /v1/purchases/{id}/refunds)", ("PutItem", "UpdateItem"), _bought, _ask,
         _requested_once, ok=202),
    Path("refund approval (POST /v1/admin/refunds/{id}/approve)", ("UpdateItem",), _waiting_approval, _approve,
         _approved_once, also_done=_found_approved),
    Path("refund workflow: GatewayRefund (its writes after the gateway's answer)", ("PutItem", "UpdateItem"),
         _gateway_refund_retried, _gateway_refund, _gateway_refunded_once,
         retried=retried_errors("refund", "gateway_refund")),
    Path("refund workflow: MarkRefunded", ("TransactWriteItems",), _refunded_at_the_gateway, _mark_refunded,
         _refunded_once, retried=retried_errors("refund", "mark_refunded")),
    Path("refund workflow: Compensate (gateway refused: credits back)", ("TransactWriteItems",), _refund_refused,
         _compensate_refund, _given_back_once, retried=retried_errors("refund", "compensate")),
    Path("refund workflow: Compensate (refund made unheard: marked refunded)", ("TransactWriteItems",),
         _refund_made_unheard, _compensate_refund, _refunded_once, retried=retried_errors("refund", "compensate")),
    Path("payout workflow: Transfer (its write after the gateway's answer)", ("UpdateItem",), _transfer_retried,
         _transfer, _sent_once, retried=retried_errors("payout", "transfer")),
    Path("payout workflow: MarkPaid", ("TransactWriteItems",), lambda aws: _transferred(aws, pending=False),
         _mark_paid, _paid_once, retried=retried_errors("payout", "mark_paid")),
    Path("payout workflow: Compensate (nothing sent: earnings back)", ("TransactWriteItems",), _transfer_never_made,
         _compensate_payout, _released_once, retried=retried_errors("payout", "compensate")),
    Path("payout workflow: Compensate (transfer made unheard: marked paid)", ("TransactWriteItems",),
         _transfer_made_unheard, _compensate_payout, _paid_once, retried=retried_errors("payout", "compensate")),
    Path("Paystack transfer.success webhook", ("UpdateItem", "PutItem"), _awaiting_confirmation,
         _paystack_transfer("transfer_succeeded", "transfer.success"),
         _confirmed_once("succeeded", "succeed")),
    Path("Paystack transfer.failed webhook", ("UpdateItem", "PutItem"), _awaiting_confirmation,
         _paystack_transfer("transfer_failed", "transfer.failed", failure="Account closed"),
         _confirmed_once("failed", "fail")),
    Path("Paystack transfer.reversed webhook (after MarkPaid)", ("TransactWriteItems", "PutItem"), _paid("paystack"),
         _paystack_transfer("transfer_reversed", "transfer.reversed", failure="Reversed by the bank"),
         _reversed_once),
    Path("Stripe transfer.reversed webhook (after MarkPaid)", ("TransactWriteItems", "PutItem"), _paid("stripe"),
         _stripe_reversed, _reversed_once),
]


@pytest.mark.parametrize(("path", "fault_name", "fault", "times"), dynamo_cases(PATHS))
def test_a_dynamodb_fault_loses_nothing_and_a_retry_completes(aws, faults, path, fault_name, fault, times):
    run_dynamo_case(aws, faults, path, fault_name, fault, times)
