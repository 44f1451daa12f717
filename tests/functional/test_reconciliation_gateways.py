"""The reconciliation job against the gateways' own records (issue 14, part 2): each refund and
payout that reached a terminal state since the last run is compared with the refund or transfer
its gateway holds (status, amount, currency, whose it is); a gateway that does not answer leaves it
for the next run instead of making a finding.

Stripe is the functional tier's fakes (``fake_gateway``, ``fake_payouts``) with the read-only
look-ups added; Paystack is the real adapter over HTTP against the fake Paystack
(``tollgate_local.fake_paystack``) on 127.0.0.1, started and stopped by each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.functional.fake_payouts import FakePayoutGateway, RecordingEngine
from tests.functional.fake_refunds import ask, buy
from tests.functional.gateway_records import (
    DEVELOPER,
    WALLET,
    StripeRefunds,
    found,
    payout_item,
    refund_item,
    run_now,
    set_payout_status,
    stripe_fakes,
)
from tests.integration.servers import free_port
from tests.support import (
    ADMIN,
    advance_clock,
    invoke,
    patch_layer,
    set_gateway,
    set_payout_gateway,
    set_workflow_engine,
)
from tollgate.gateways import BankAccount, GatewayError, PaymentRequest, Refund, transfer_reference
from tollgate.gateways.paystack import PaystackGateway
from tollgate_local.fake_paystack import FakePaystack


@pytest.fixture
def stripe(aws) -> Iterator[tuple[StripeRefunds, FakePayoutGateway]]:
    yield from stripe_fakes()


@pytest.fixture
def paystack(aws) -> Iterator[tuple[FakePaystack, PaystackGateway]]:
    with FakePaystack(secret_key="sk_test_reconciliation") as fake:
        fake.refund_outcome("none")  # each ends when the test says (no thread racing the test)
        fake.transfer_outcome("none")
        gateway = PaystackGateway(fake.secret_key, api_base=fake.endpoint, timeout=5)
        set_gateway("paystack", gateway)
        set_payout_gateway("paystack", gateway)
        yield fake, gateway
        set_gateway("paystack", None)
        set_payout_gateway("paystack", None)


# -- refunds ----------------------------------------------------------------------------------


def test_refunds_whose_gateway_record_disagrees_are_findings(stripe, capsys):
    refunds, _ = stripe
    for refund_id in ("rf_match", "rf_status", "rf_amount", "rf_unknown", "rf_moved", "rf_other"):
        refunds.gateway_view[f"re_{refund_id}"] = Refund(f"re_{refund_id}", 1_000, "succeeded", refund_id,
                                                         currency="USD")
    refunds.gateway_view["re_rf_status"] = replace(refunds.gateway_view["re_rf_status"], status="failed")
    refunds.gateway_view["re_rf_amount"] = replace(refunds.gateway_view["re_rf_amount"], amount=900)
    del refunds.gateway_view["re_rf_unknown"]
    refunds.gateway_view["re_rf_other"] = replace(refunds.gateway_view["re_rf_other"], tollgate_refund_id="rf_x",
                                                  currency="EUR")
    for refund_id in ("rf_match", "rf_status", "rf_amount", "rf_unknown", "rf_other"):
        refund_item(refund_id, gateway_refund_id=f"re_{refund_id}")
    refund_item("rf_moved", status="failed", gateway_refund_id="re_rf_moved")  # credits given back, money gone
    refund_item("rf_declined", status="failed")  # refused by the gateway: nothing there to look up

    summary, metrics = run_now(capsys)
    assert (summary["refunds_checked"], summary["gateway_deferred"], summary["status"]) == (7, 0, "completed")
    assert metrics == {"ReconciliationFindings": [5], "ReconciliationGatewayDeferred": [0]}
    assert summary["findings"] == summary["new_findings"] == 5
    assert sorted(refunds.lookups) == ["re_rf_amount", "re_rf_match", "re_rf_moved", "re_rf_other", "re_rf_status",
                                       "re_rf_unknown"]
    assert found() == [
        ("refund_gateway", WALLET, 0, 1_000, "refund rf_moved failed (1000 USD): stripe reports refund re_rf_moved "
                                             "succeeded"),
        ("refund_gateway", WALLET, 1_000, 0, "refund rf_status succeeded (1000 USD): stripe reports refund "
                                             "re_rf_status failed"),
        ("refund_gateway", WALLET, 1_000, 0, "refund rf_unknown succeeded: stripe does not know refund re_rf_unknown "
                                             "(1000 USD)"),
        ("refund_gateway", WALLET, 1_000, 900, "refund rf_amount succeeded (1000 USD): stripe's amount is 900"),
        ("refund_gateway", WALLET, 1_000, 1_000, "refund rf_other succeeded (1000 USD): stripe's currency is EUR, "
                                                 "stripe made it for refund rf_x"),
    ]

    # Checked once: a later run looks at none of them again (nothing of theirs changed).
    refunds.lookups.clear()
    again, metrics = run_now(capsys)
    assert (again["refunds_checked"], again["findings"], refunds.lookups) == (0, 0, [])
    assert metrics["ReconciliationFindings"] == [0]


def test_a_refund_made_by_the_workflow_matches_its_gateway_record(stripe, capsys):
    """End to end: a refund through the real workflow steps, then the job finds nothing to report."""
    from tollgate.refunds import workflow

    refunds, _ = stripe
    set_workflow_engine(RecordingEngine())
    try:
        assert invoke("admin_put_package.json", caller=ADMIN).status == 200  # starter: 100 credits, 1000 cents
        assert invoke("admin_put_settings.json", caller=ADMIN).status == 200
        purchase = buy()
        reply = ask(purchase["purchase_id"], {"credits": "40", "reason": "bought too many"})
        assert reply.status == 202, reply
        refund_id = reply.body["refund_id"]
        workflow.claw_back(refund_id)
        workflow.gateway_refund(refund_id)
        workflow.mark_refunded(refund_id)
        # ... and one still waiting for its approval: not terminal, watched, not looked up.
        second = ask(buy(key="co-2")["purchase_id"], {"reason": "all of it"}, key="rf-2")
        assert second.status == 202 and second.body["status"] in ("approved", "pending_approval"), second
    finally:
        set_workflow_engine(None)

    summary, metrics = run_now(capsys)
    assert (summary["refunds_checked"], summary["findings"]) == (1, 0)
    assert metrics["ReconciliationFindings"] == [0]
    (made,) = refunds.refunds_made.values()
    assert refunds.lookups == [made.refund_id]
    assert found() == []


def test_paystack_refunds_are_compared_with_paystacks_record(paystack, capsys):
    fake, gateway = paystack
    ids = {}
    for n, outcome in enumerate((True, False, None)):  # processed, failed, still pending at Paystack
        purchase_id = f"pur_{'abcdefg'[n]}"
        session = gateway.create_payment(PaymentRequest(purchase_id=purchase_id, amount=500_000, currency="NGN",
                                                        description="credits", email="alice@example.com"),
                                         idempotency_key=purchase_id)
        fake.complete(session.reference)
        made = gateway.refund(session.reference, 200_000, idempotency_key=f"refund-rf_{n}")
        if outcome is not None:
            fake.process_refund(made.refund_id, success=outcome)
        ids[n] = made.refund_id
        refund_item(f"rf_{n}", gateway="paystack", currency="NGN", amount=200_000, gateway_refund_id=made.refund_id,
                    gateway_status="pending", confirmation="succeeded")

    summary, metrics = run_now(capsys)
    assert (summary["refunds_checked"], summary["gateway_deferred"]) == (3, 0)
    assert metrics["ReconciliationFindings"] == [2]
    assert found() == [
        ("refund_gateway", WALLET, 200_000, 0, f"refund rf_1 succeeded (200000 NGN): paystack reports refund "
                                               f"{ids[1]} failed"),
        ("refund_gateway", WALLET, 200_000, 0, f"refund rf_2 succeeded (200000 NGN): paystack reports refund "
                                               f"{ids[2]} pending"),
    ]
    assert len(fake.requests_to("/refund/")) == 3  # GET /refund/{id}, once each


# -- payouts ----------------------------------------------------------------------------------


def test_a_payout_reversed_at_the_gateway_but_paid_here_is_a_finding(stripe, capsys):
    _, payouts = stripe
    for payout_id in ("po_match", "po_reversed", "po_both", "po_failed"):
        payouts.transfer(payout_id, "acct_1", 2_000, "USD")
    for payout_id in ("po_reversed", "po_both"):
        payouts.transfers[payout_id] = replace(payouts.transfers[payout_id], status="reversed")
    payouts.transfers["po_failed"] = replace(payouts.transfers["po_failed"], status="failed")
    for payout_id in ("po_match", "po_reversed"):
        payout_item(payout_id, transfer_id=payouts.transfers[payout_id].transfer_id)
    payout_item("po_both", status="reversed", transfer_id=payouts.transfers["po_both"].transfer_id)
    payout_item("po_failed", status="failed")
    payout_item("po_flying", status="reserved")  # in flight: watched, not checked

    summary, metrics = run_now(capsys)
    assert (summary["payouts_checked"], summary["gateway_deferred"]) == (4, 0)
    assert metrics["ReconciliationFindings"] == [1]
    tr = payouts.transfers["po_reversed"].transfer_id
    assert found() == [("payout_gateway", DEVELOPER, 2_000, 0,
                        f"payout po_reversed paid (2000 USD): stripe reports transfer {tr} reversed")]

    # Later the matching one is reversed at the gateway and here too: terminal again, checked again;
    # the one in flight is paid with no transfer at the gateway at all.
    payouts.transfers["po_match"] = replace(payouts.transfers["po_match"], status="reversed")
    set_payout_status("po_match", "reversed", "reversal")
    set_payout_status("po_flying", "paid", "mark_paid")
    again, metrics = run_now(capsys)
    assert (again["payouts_checked"], again["findings"], again["new_findings"]) == (2, 1, 1)
    assert ("payout_gateway", DEVELOPER, 2_000, 0, "payout po_flying paid (2000 USD): no transfer id recorded, "
            "stripe has no transfer under reference po_flying") in found()


def test_paystack_transfers_are_compared_by_reference_and_transfer_code(paystack, capsys):
    fake, gateway = paystack
    account = gateway.open_account(DEVELOPER, bank=BankAccount("058", "0123456789", "Carol Okafor"),
                                   return_url="https://app.example/r", refresh_url="https://app.example/f",
                                   idempotency_key="acct-1")
    codes = {}
    for payout_id, event in (("po_ok", "transfer.success"), ("po_back", "transfer.reversed")):
        sent = gateway.transfer(payout_id, account.account_id, 250_000, "NGN")
        fake.settle_transfer(transfer_reference(payout_id), event)
        codes[payout_id] = sent.transfer_id
        payout_item(payout_id, gateway="paystack", currency="NGN", amount=250_000, transfer_id=sent.transfer_id,
                    reference=transfer_reference(payout_id), account_id=account.account_id)
    payout_item("po_lost", gateway="paystack", currency="NGN", amount=250_000, transfer_id="TRF_nowhere",
                reference=transfer_reference("po_lost"))

    summary, metrics = run_now(capsys)
    assert (summary["payouts_checked"], summary["gateway_deferred"]) == (3, 0)
    assert metrics["ReconciliationFindings"] == [2]
    assert found() == [
        ("payout_gateway", DEVELOPER, 250_000, 0, f"payout po_back paid (250000 NGN): paystack reports transfer "
                                                  f"{codes['po_back']} reversed"),
        ("payout_gateway", DEVELOPER, 250_000, 0, "payout po_lost paid (250000 NGN): paystack has no transfer "
                                                  "TRF_nowhere"),
    ]


# -- a gateway that does not answer -----------------------------------------------------------


def test_an_unreachable_gateway_defers_its_refunds_and_payouts_to_the_next_run(paystack, capsys):
    fake, gateway = paystack
    account = gateway.open_account(DEVELOPER, bank=BankAccount("058", "0123456789", "Carol Okafor"),
                                   return_url="https://app.example/r", refresh_url="https://app.example/f",
                                   idempotency_key="acct-1")
    sent = gateway.transfer("po_1", account.account_id, 250_000, "NGN")
    fake.settle_transfer(transfer_reference("po_1"), "transfer.reversed")
    payout_item("po_1", gateway="paystack", currency="NGN", amount=250_000, transfer_id=sent.transfer_id,
                reference=transfer_reference("po_1"))
    refund_item("rf_1", gateway="paystack", currency="NGN", gateway_refund_id="123")  # unknown to Paystack
    fake.clear_requests()
    # Paystack unreachable: nothing listens on that port, every call is refused at once.
    nowhere = PaystackGateway(fake.secret_key, api_base=f"http://127.0.0.1:{free_port()}", timeout=5)
    set_gateway("paystack", nowhere)
    set_payout_gateway("paystack", nowhere)

    summary, metrics = run_now(capsys)
    assert (summary["findings"], summary["refunds_checked"], summary["payouts_checked"]) == (0, 0, 0)
    assert summary["gateway_deferred"] == 2 and summary["status"] == "completed"
    assert metrics == {"ReconciliationFindings": [0], "ReconciliationGatewayDeferred": [2]}
    assert found() == []
    assert fake.requests == []  # nothing reached Paystack: the calls went to the closed port

    # Paystack answers again: the next run (its cursor past them) takes them from the watch list.
    set_gateway("paystack", gateway)
    set_payout_gateway("paystack", gateway)
    again, metrics = run_now(capsys)
    assert (again["refunds_checked"], again["payouts_checked"], again["gateway_deferred"]) == (1, 1, 0)
    assert metrics == {"ReconciliationFindings": [2], "ReconciliationGatewayDeferred": [0]}
    assert [(kind, expected, actual) for kind, _, expected, actual, _ in found()] == [
        ("payout_gateway", 250_000, 0), ("refund_gateway", 1_000, 0)]


def test_a_gateway_answering_5xx_is_asked_once_per_run_and_nothing_is_found(stripe, capsys):
    refunds, _ = stripe
    for refund_id in ("rf_a", "rf_b", "rf_c"):
        refund_item(refund_id, gateway_refund_id=f"re_{refund_id}", amount=5)  # would disagree, if asked
    refunds.lookup_error = GatewayError("Stripe failed to look up the refund (HTTP 503)", gateway="stripe",
                                        gateway_status=503)

    summary, metrics = run_now(capsys)
    assert (summary["gateway_deferred"], summary["refunds_checked"], summary["findings"]) == (3, 0, 0)
    assert metrics["ReconciliationGatewayDeferred"] == [3]
    assert len(refunds.lookups) == 1  # down for the rest of the run once it failed
    assert found() == []


def test_the_run_bound_counts_gateway_checks_and_keeps_the_place(stripe, monkeypatch, capsys):
    refunds, _ = stripe
    for refund_id in ("rf_1", "rf_2", "rf_3"):
        refunds.gateway_view[f"re_{refund_id}"] = Refund(f"re_{refund_id}", 1_000, currency="USD")
        refund_item(refund_id, gateway_refund_id=f"re_{refund_id}")
        advance_clock(1)  # created one after the other: the cursor's order
    patch_layer(monkeypatch, "tollgate.reconciliation.service", "MANUAL_MAX_SUBJECTS", 2)

    cut, _ = run_now(capsys)
    assert (cut["status"], cut["complete"], cut["refunds_checked"]) == ("partial", False, 2)
    rest, _ = run_now(capsys)
    assert (rest["status"], rest["refunds_checked"]) == ("completed", 1)
    assert sorted(refunds.lookups) == ["re_rf_1", "re_rf_2", "re_rf_3"]
