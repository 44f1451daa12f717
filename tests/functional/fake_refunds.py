"""Helpers for refund tests: paid purchases through the real checkout and webhooks handlers,
settings changes, and a snapshot of everything a refused refund request must leave alone."""

from __future__ import annotations

from typing import Any

from tests.functional.fake_gateway import GOOD_SIGNATURE, SIGNATURE_HEADER, webhook_body
from tests.support import ADMIN, ALICE, BOB, Caller, invoke, ledger_state

DAY_MS = 86_400_000
# Packages: "starter" is the sample event's (100 credits for 1000 cents or 1,500,000 kobo);
# "odd" makes proportional money round down (1 cent is worth 7 millicredits).
ODD = {"name": "Odd", "credits": "7", "prices": {"USD": 1000}}


def put_settings(**changes: Any) -> dict[str, Any]:
    """The admin's settings with ``changes`` applied (through PUT /v1/admin/settings)."""
    body = {**invoke("admin_get_settings.json", caller=ADMIN).body, **changes}
    body.pop("updated_at", None)
    reply = invoke("admin_put_settings.json", caller=ADMIN, body=body)
    assert reply.status == 200, reply
    return reply.body


def checkout(package: str = "starter", *, caller: Caller = ALICE, key: str = "co-1", gateway: str = "stripe",
             currency: str = "USD") -> dict[str, Any]:
    reply = invoke("checkout_post_checkout.json", caller=caller, headers={"idempotency-key": key},
                   body={"package_id": package, "gateway": gateway, "currency": currency})
    assert reply.status == 201, reply
    return reply.body


def pay(purchase: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """The gateway's signed payment webhook for ``purchase``: its credits are granted."""
    body = webhook_body(event_id=event_id or f"evt-{purchase['purchase_id']}", kind="payment_succeeded",
                        purchase_id=purchase["purchase_id"], reference=purchase["reference"],
                        amount=purchase["amount"], currency=purchase["currency"])
    reply = invoke(f"webhooks_{purchase['gateway']}.json", caller=None, raw_body=body,
                   headers={SIGNATURE_HEADER: GOOD_SIGNATURE})
    assert (reply.status, reply.body["outcome"]) == (200, "granted"), reply
    return get_purchase(purchase["purchase_id"])


def buy(package: str = "starter", *, caller: Caller = ALICE, key: str = "co-1", **kwargs: Any) -> dict[str, Any]:
    """A paid purchase (as GET /v1/purchases/{id} shows it)."""
    return pay(checkout(package, caller=caller, key=key, **kwargs))


def get_purchase(purchase_id: str, caller: Caller = ADMIN) -> dict[str, Any]:
    reply = invoke("checkout_get_purchase.json", caller=caller, path=f"/v1/purchases/{purchase_id}",
                   path_params={"purchase_id": purchase_id})
    assert reply.status == 200, reply
    return reply.body


def eligibility(purchase_id: str, caller: Caller = ALICE):
    return invoke("checkout_get_refund_eligibility.json", caller=caller,
                  path=f"/v1/purchases/{purchase_id}/refund-eligibility", path_params={"purchase_id": purchase_id})


def ask(purchase_id: str, body: Any = ..., *, caller: Caller = ALICE, key: str | None = "rf-1",
        raw_body: str | None = None):
    """POST /v1/purchases/{id}/refunds (``key`` None: without an Idempotency-Key)."""
    return invoke("checkout_post_refund.json", caller=caller, body={"reason": "changed my mind"} if body is ... else body,
                  raw_body=raw_body, headers={"idempotency-key": key} if key else None,
                  drop_headers=() if key else ("idempotency-key",),
                  path=f"/v1/purchases/{purchase_id}/refunds", path_params={"purchase_id": purchase_id})


def get_refund(refund_id: str, caller: Caller = ALICE):
    return invoke("checkout_get_refund.json", caller=caller, path=f"/v1/refunds/{refund_id}",
                  path_params={"refund_id": refund_id})


def decide(refund_id: str, verb: str, body: Any = None, *, caller: Caller = ADMIN, raw_body: str | None = None):
    """POST /v1/admin/refunds/{id}/approve|reject (``body`` None: no body at all)."""
    return invoke(f"admin_{verb}_refund.json", caller=caller, body=body, raw_body=raw_body,
                  path=f"/v1/admin/refunds/{refund_id}/{verb}", path_params={"refund_id": refund_id})


def refund_items() -> dict[str, dict[str, Any]]:
    from tollgate.refunds.models import RefundItem

    return {item.refund_id: dict(item.attribute_values) for item in RefundItem.scan()}


def purchase_item(purchase_id: str) -> dict[str, Any]:
    from tollgate.purchases import repository

    item = repository.get_purchase(purchase_id)
    assert item is not None
    return dict(item.attribute_values)


def snapshot(engine: Any, *purchase_ids: str) -> dict[str, Any]:
    """Everything a refused refund request must leave as it was."""
    return {
        "wallets": {c.wallet_id: ledger_state(c.wallet_id) for c in (ALICE, BOB, ADMIN)},
        "purchases": {p: purchase_item(p) for p in purchase_ids},
        "refunds": refund_items(),
        "started": list(engine.started),
    }
