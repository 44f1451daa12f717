"""Each money path under each DynamoDB fault and each gateway fault (issue 14, part 3): debits,
holds and their settle, the grant from a payment webhook, payout requests and the payout and refund
workflows' first steps, checkout, and the API key check. The matrix, what each case asserts and
the report are ``tests/faults/matrix.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.faults.conftest import record
from tests.faults.layer import FaultyGateway
from tests.faults.matrix import (
    GATEWAY_FAULTS,
    WALLET,
    Attempt,
    Path,
    dynamo_cases,
    earned,
    feature,
    fund,
    http,
    refund_under_way,
    retried_errors,
    run_dynamo_case,
    shop,
    step,
    step_under_fault,
)
from tests.functional.developers import CAROL
from tests.functional.fake_payouts import FakePayoutGateway
from tests.functional.fake_refunds import ask, buy, checkout
from tests.support import (
    ADMIN,
    assert_earnings_invariant,
    assert_ledger_invariant,
    invoke,
    load_function,
    set_gateway,
    set_payout_gateway,
)

# -- the paths ------------------------------------------------------------------------------


def _debit_setup(aws: Any) -> None:
    feature("ai-insight", "9")
    fund(WALLET, "100")
    # One debit first: the catalog is warm, so a planned GetItem fault hits the read after the write.
    assert invoke("deduction_post_usage.json", headers={"idempotency-key": "warm"}).status == 201


def _debit(_: Any) -> Attempt:
    return http(invoke("deduction_post_usage.json", headers={"idempotency-key": "fault-debit"}))


def _debited_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert state["balance"] == 100_000 - 2 * 9_000 and len(state["entries"]) == 3, state


def _hold_setup(aws: Any) -> None:
    feature("ai-report", "40")
    fund(WALLET, "100")


def _hold(_: Any) -> Attempt:
    return http(invoke("deduction_post_reservation.json", headers={"idempotency-key": "fault-hold"}))


def _held_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["reserved"], len(state["holds"])) == (100_000, 40_000, 1), state


def _settle_setup(aws: Any) -> str:
    _hold_setup(aws)
    reply = invoke("deduction_post_reservation.json", headers={"idempotency-key": "fault-hold"})
    assert reply.status == 201, reply
    return reply.body["reservation_id"]


def _settle(reservation_id: str) -> Attempt:
    return http(invoke("deduction_settle_reservation.json", path=f"/v1/reservations/{reservation_id}/settle",
                       path_params={"reservation_id": reservation_id}, headers={"idempotency-key": "fault-settle"}))


def _settled_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["reserved"], len(state["entries"])) == (60_000, 0, 2), state


def _grant_setup(aws: Any) -> dict[str, Any]:
    shop(aws)
    return checkout()


def _webhook(purchase: dict[str, Any]) -> Attempt:
    from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, webhook_body

    body = webhook_body(event_id="evt-fault", kind="payment_succeeded", purchase_id=purchase["purchase_id"],
                        reference=purchase["reference"], amount=purchase["amount"], currency=purchase["currency"])
    return http(invoke("webhooks_stripe.json", caller=None, raw_body=body, headers={SIGNATURE_HEADER: GOOD_SIGNATURE}))


def _granted_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], state["entries"]) == (100_000, [100_000]), state


def _payout_request_setup(aws: Any) -> None:
    earned(aws)


def _payout_request(_: Any) -> Attempt:
    return http(invoke("payouts_post_payout.json", caller=CAROL, body={}, headers={"idempotency-key": "fault-po"}))


def _payouts() -> list[Any]:
    from tollgate.payouts.models import PayoutItem

    return list(PayoutItem.scan())


def _payout_requested_once(_: Any) -> None:
    payouts = _payouts()
    assert len(payouts) == 1 and payouts[0].status == "requested", payouts
    assert_earnings_invariant(CAROL.sub)


def _reserve_setup(aws: Any) -> str:
    earned(aws)
    reply = invoke("payouts_post_payout.json", caller=CAROL, body={}, headers={"idempotency-key": "po-1"})
    assert reply.status == 202, reply
    return reply.body["payout_id"]


def _reserve(payout_id: str) -> Attempt:
    return step("payout_workflow", {"step": "reserve", "payout_id": payout_id})


def _reserved_once(payout_id: str) -> None:
    state = assert_earnings_invariant(CAROL.sub)
    payout = next(p for p in _payouts() if p.payout_id == payout_id)
    assert state["in_payout"] == payout.credits_mc and state["available"] == 0, state


def _claw_back_setup(aws: Any) -> str:
    shop(aws)
    purchase = buy()
    reply = ask(purchase["purchase_id"], {"credits": "40", "reason": "fault tier"})
    assert (reply.status, reply.body["status"]) == (202, "approved"), reply
    return reply.body["refund_id"]


def _claw_back(refund_id: str) -> Attempt:
    return step("refund_workflow", {"step": "claw_back", "refund_id": refund_id})


def _clawed_back_once(_: Any) -> None:
    state = assert_ledger_invariant(WALLET)
    assert (state["balance"], sorted(state["entries"])) == (60_000, [-40_000, 100_000]), state


PATHS = [
    Path("debit (POST /v1/usage)", ("TransactWriteItems",), _debit_setup, _debit, _debited_once, ok=201),
    Path("debit: the read after the write", ("GetItem",), _debit_setup, _debit, _debited_once, ok=201),
    Path("reservation hold", ("TransactWriteItems",), _hold_setup, _hold, _held_once, ok=201),
    Path("reservation settle", ("TransactWriteItems",), _settle_setup, _settle, _settled_once),
    Path("grant from a payment webhook", ("TransactWriteItems",), _grant_setup, _webhook, _granted_once),
    Path("payout request", ("TransactWriteItems", "PutItem"), _payout_request_setup, _payout_request,
         _payout_requested_once, ok=202),
    Path("payout workflow: Reserve", ("TransactWriteItems",), _reserve_setup, _reserve, _reserved_once,
         retried=retried_errors("payout", "reserve")),
    Path("refund workflow: ClawBack", ("TransactWriteItems",), _claw_back_setup, _claw_back, _clawed_back_once,
         retried=retried_errors("refund", "claw_back")),
]


CASES = dynamo_cases(PATHS)


@pytest.mark.parametrize(("path", "fault_name", "fault", "times"), CASES)
def test_a_dynamodb_fault_loses_nothing_and_a_retry_completes(aws, faults, path, fault_name, fault, times):
    run_dynamo_case(aws, faults, path, fault_name, fault, times)


# -- gateway faults -------------------------------------------------------------------------


GATEWAY_CASES = [pytest.param(*fault, id=fault[0]) for fault in GATEWAY_FAULTS]


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_checkout_under_a_gateway_fault_starts_one_payment(aws, fault_name, fault):
    from tollgate.gateways import GatewayError
    from tollgate.purchases.models import PurchaseItem

    fakes = shop(aws)
    faulty = FaultyGateway(fakes["stripe"], "stripe", GatewayError)
    set_gateway("stripe", faulty)
    faulty.plan("create_payment", fault)
    body = {"package_id": "starter", "gateway": "stripe", "currency": "USD"}
    first = invoke("checkout_post_checkout.json", headers={"idempotency-key": "co-fault"}, body=body)
    assert (first.status, first.error_code, first.headers.get("Retry-After")) == (503, "try_again", "1"), first
    again = invoke("checkout_post_checkout.json", headers={"idempotency-key": "co-fault"}, body=body)
    assert again.status == 201, again
    # Every call for the purchase carried one idempotency key: the gateway made one payment.
    assert len({key for _, key in fakes["stripe"].created}) == 1, fakes["stripe"].created
    assert [p.purchase_id for p in PurchaseItem.scan()] == [again.body["purchase_id"]]
    record("checkout (gateway: create payment)", fault_name, f"{http(first).summary()} → {http(again).summary()}")


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_payout_transfer_under_a_gateway_fault_pays_once(aws, fault_name, fault):
    from tollgate.gateways import GatewayError

    inner = FakePayoutGateway("paystack")
    inner.pending = False
    faulty = FaultyGateway(inner, "paystack", GatewayError)
    earned(aws)
    set_payout_gateway("paystack", faulty)
    reply = invoke("payouts_post_payout.json", caller=CAROL, body={}, headers={"idempotency-key": "po-fault"})
    assert reply.status == 202, reply
    payout_id = reply.body["payout_id"]
    assert step("payout_workflow", {"step": "reserve", "payout_id": payout_id}).error is None
    first, second = step_under_fault(faulty, "transfer", fault, "payout", {"step": "transfer", "payout_id": payout_id})
    assert [t.reference for t in inner.transfers.values()] == [payout_id]  # one transfer, whatever the tries
    state = assert_earnings_invariant(CAROL.sub)
    assert state["in_payout"] == reply_credits_mc(payout_id), state
    record("payout workflow: Transfer (gateway)", fault_name, f"{first.summary()} → {second.summary()}")


def reply_credits_mc(payout_id: str) -> int:
    return next(p.credits_mc for p in _payouts() if p.payout_id == payout_id)


@pytest.mark.parametrize(("fault_name", "fault"), GATEWAY_CASES)
def test_a_refund_under_a_gateway_fault_refunds_once(aws, fault_name, fault):
    refund_id, faulty, stripe = refund_under_way(aws)
    first, second = step_under_fault(faulty, "refund", fault, "refund", {"step": "gateway_refund", "refund_id": refund_id})
    calls = stripe.refund_calls
    # Every call for this refund carried one idempotency key, so the gateway made one refund.
    assert len({c.idempotency_key for c in calls}) == 1 and len(stripe.refunds_made) == 1, calls
    _clawed_back_once(None)
    record("refund workflow: GatewayRefund (gateway)", fault_name, f"{first.summary()} → {second.summary()}")


@dataclass(frozen=True)
class _AsTheAuthorizerSaid:
    """A caller whose request carries exactly the context the Lambda authorizer returned."""

    context: dict[str, Any]
    service_key: str = "as-returned"

    def authorizer(self) -> dict[str, Any]:
        return {"lambda": self.context}


@pytest.mark.parametrize(("fault_name", "fault"), [("throttle storm", "throttle"), ("5xx storm", "internal_error"),
                                                   ("connection reset storm", "reset")])
def test_an_api_key_that_cannot_be_checked_gets_503_not_500_and_charges_nothing(aws, faults, fault_name, fault):
    """The authorizer cannot look the key up: API Gateway would answer a bare 500 to an authorizer
    error, so it passes the request on marked unavailable and the route answers 503 try_again with
    Retry-After before reading anything; once DynamoDB answers, the same key is authorized again."""
    from tests.support import LambdaContext, ledger_state, sample_event

    assert invoke("admin_put_feature.json", caller=ADMIN, path="/v1/admin/features/ten",
                  path_params={"feature_id": "ten"},
                  body={"name": "ten", "pricing": {"type": "per_call", "credits": "10"}}).status == 200
    created = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "faults"})
    assert created.status == 201, created
    key = created.body["key"]
    before = ledger_state(WALLET)
    event = sample_event("authorizer_request.json")
    event["headers"] = {"x-api-key": key}
    authorizer = load_function("authorizer")

    faults.plan("GetItem", fault, times=5)
    said = authorizer.lambda_handler(event, LambdaContext())
    assert said == {"isAuthorized": True, "context": {"unavailable": "store"}}, said
    reply = invoke("deduction_post_usage_api_key.json", caller=_AsTheAuthorizerSaid(said["context"]),
                   body={"feature": "ten", "wallet_id": WALLET}, headers={"idempotency-key": "k-1"})
    assert (reply.status, reply.error_code, reply.headers.get("Retry-After")) == (503, "try_again", "1"), reply
    assert faults.pending("GetItem") == 0
    assert ledger_state(WALLET) == before
    record("API key check (authorizer)", fault_name, "503 try_again")

    faults.clear()
    said = authorizer.lambda_handler(event, LambdaContext())
    assert said["isAuthorized"] is True and said["context"]["key_id"] == created.body["key_id"], said
