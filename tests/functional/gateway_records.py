"""Helpers for the reconciliation job's gateway checks: Stripe fakes with the read-only look-ups,
refunds and payouts as their workflows leave them, runs and their findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from tests.functional.fake_gateway import FakeGateway
from tests.functional.fake_payouts import FakePayoutGateway
from tests.support import ADMIN, advance_clock, invoke, set_gateway, set_payout_gateway
from tollgate import clock
from tollgate.gateways import Refund

WALLET = "user:alice"
DEVELOPER = "dev-carol"
PAST_THE_LAG_MS = 16 * 60_000  # the job reads what was made up to 15 minutes before it (CURSOR_LAG_MS)


class StripeRefunds(FakeGateway):
    """The functional fake, with Stripe's ``GET /v1/refunds/{id}``: what it made, as ``gateway_view``
    says it is now (a test changes that to make the gateway disagree), or ``lookup_error``."""

    def __init__(self) -> None:
        super().__init__("stripe")
        self.gateway_view: dict[str, Refund] = {}
        self.lookups: list[str] = []
        self.lookup_error: Exception | None = None

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str,
               refund_id: str | None = None) -> Refund:
        made = replace(super().refund(reference, amount, idempotency_key=idempotency_key, refund_id=refund_id),
                       currency="USD")
        self.gateway_view.setdefault(made.refund_id, made)
        return made

    def get_refund(self, refund_id: str) -> Refund | None:
        self.lookups.append(refund_id)
        if self.lookup_error is not None:
            raise self.lookup_error
        return self.gateway_view.get(refund_id)


def stripe_fakes() -> Iterator[tuple[StripeRefunds, FakePayoutGateway]]:
    """Stripe's fakes installed in every function for a test (a fixture yields from it), then removed."""
    refunds, payouts = StripeRefunds(), FakePayoutGateway("stripe")
    set_gateway("stripe", refunds)
    set_payout_gateway("stripe", payouts)
    try:
        yield refunds, payouts
    finally:
        set_gateway("stripe", None)
        set_payout_gateway("stripe", None)


def done(at: str) -> dict[str, str]:
    return {"status": "succeeded", "at": at}


def refund_item(refund_id: str, *, status: str = "succeeded", amount: int = 1_000, currency: str = "USD",
                gateway: str = "stripe", gateway_refund_id: str | None = None, **fields: Any) -> None:
    """A refund as its workflow leaves it (``status`` succeeded, or failed and compensated)."""
    from tollgate.refunds import repository

    now = clock.iso(clock.now_ms())
    step = "mark_refunded" if status == "succeeded" else "compensate"
    values: dict[str, Any] = {
        "refund_id": refund_id, "purchase_id": f"pur_{refund_id}", "wallet_id": WALLET, "gateway": gateway,
        "currency": currency, "credits_mc": 100_000, "amount": amount, "reason": "r", "status": status,
        "requested_by": WALLET, "request_hash": "h", "gateway_attempted": True,
        "gateway_refund_id": gateway_refund_id, "gateway_status": "succeeded" if status == "succeeded" else "failed",
        "steps": {step: done(now)}, "created_at": now, "updated_at": now, **fields}
    repository.new_refund(**values).save()


def payout_item(payout_id: str, *, status: str = "paid", amount: int = 2_000, currency: str = "USD",
                gateway: str = "stripe", transfer_id: str | None = None, reference: str | None = None,
                **fields: Any) -> None:
    """A payout as its workflow leaves it (paid, failed or reversed, with that step)."""
    from tollgate.payouts import repository

    now = clock.iso(clock.now_ms())
    step = {"paid": "mark_paid", "failed": "compensate", "reversed": "reversal"}.get(status)
    values: dict[str, Any] = {
        "payout_id": payout_id, "developer_id": DEVELOPER, "status": status, "credits_mc": 200_000,
        "amount": amount, "currency": currency, "rate": "1", "gateway": gateway, "account_id": "acct_1",
        "reference": reference or payout_id, "transfer_id": transfer_id, "transfer_attempted": True,
        "steps": {step: done(now)} if step else {}, "trigger": "request", "request_hash": "h",
        "created_at": now, "updated_at": now, **fields}
    repository.new_payout(**values).save()


def set_payout_status(payout_id: str, status: str, step: str) -> None:
    from tollgate.payouts import repository
    from tollgate.payouts.models import PayoutItem as P

    now = clock.iso(clock.now_ms())
    repository.set_fields(payout_id, [P.status.set(status), repository.step(step, "succeeded", now),
                                      P.updated_at.set(now)])


def run_now(capsys) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """POST /v1/admin/reconciliation/run, once what was made before is old enough to be read (the
    job leaves the last minutes' to its next run): the run, and the metrics it emitted."""
    advance_clock(PAST_THE_LAG_MS)
    capsys.readouterr()
    reply = invoke("reconciliation_post_run.json", caller=ADMIN)
    assert reply.status == 200, reply
    return reply.body, emitted(capsys.readouterr().out)


def emitted(out: str) -> dict[str, list[int]]:
    values: dict[str, list[int]] = {"ReconciliationFindings": [], "ReconciliationGatewayDeferred": []}
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            for name, seen in values.items():
                if name in doc:
                    value = doc[name]
                    seen += [int(v) for v in (value if isinstance(value, list) else [value])]
    return values


def found() -> list[tuple[str, str | None, int, int, str]]:
    """Every finding recorded today: (kind, subject, expected, actual, detail), sorted."""
    today = clock.iso(clock.now_ms())[:10]
    reply = invoke("reconciliation_list_findings.json", caller=ADMIN, query={"from": today, "to": today})
    assert reply.status == 200, reply
    return sorted((f["kind"], f["wallet_id"] or f["developer_id"], f["expected_mc"], f["actual_mc"], f["detail"])
                  for f in reply.body["data"])
