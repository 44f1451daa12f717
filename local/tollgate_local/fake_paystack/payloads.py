"""Every body the fake answers or sends, built from Paystack's own documented examples.

The examples are the verbatim payloads in ``tests/fixtures/paystack/`` (from Paystack's
documentation source, PaystackOSS/doc-code-snippets: the webhook examples of
``dist/doc/payments/webhooks/events.js`` and ``src/doc/payments/webhooks/events/``, the
``200`` responses of ``src/api/{transactions/initialize,transactions/verify,refunds/create,
refunds/fetch}/response.json``, and the List Refunds answer of
``src/doc/payments/refunds/list-refunds/index.json``).
Each builder deep-copies one and overwrites only the fields the fake knows (ids, reference,
amount, currency, status, metadata, the payer's email, times); a field the example does not
have is never added, and every other field keeps the example's value. So the shapes are
Paystack's, not this fake's idea of them, and the tests read the same files.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "paystack"
INTEGRATION_ID = 412829  # the integration id Paystack's examples use
DOMAIN = "test"  # test-mode keys: every object says so
MERCHANT_EMAIL = "merchant@example.com"  # the merchant's user who refunds


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def example(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/fixtures/paystack/<name>.json``."""
    return copy.deepcopy(_example(name))


def now() -> str:
    """The current time as Paystack writes it (``2024-08-22T09:15:02.000Z``)."""
    moment = dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _overlay(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``template`` with ``values`` written over the keys it has (and no others)."""
    return {key: values[key] if key in values else value for key, value in template.items()}


def _customer(template: Any, email: str) -> Any:
    if not isinstance(template, dict):
        return template
    digest = hashlib.sha256(email.encode()).hexdigest()
    return _overlay(template, {"id": int(digest[:7], 16), "first_name": None, "last_name": None, "email": email,
                               "customer_code": f"CUS_{digest[:15]}", "phone": None, "metadata": None})


def _transaction(template: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    paid = tx["paid_at"] is not None
    authorization = template.get("authorization")
    if isinstance(authorization, dict) and authorization:
        authorization = _overlay(authorization, {"authorization_code": f"AUTH_{tx['access_code'][:10]}"})
    return _overlay(template, {
        "id": tx["id"],
        "domain": DOMAIN,
        "status": tx["status"],
        "reference": tx["reference"],
        "amount": tx["amount"],
        "requested_amount": tx["amount"],
        "message": None,
        "gateway_response": tx["gateway_response"],
        "paid_at": tx["paid_at"],
        "paidAt": tx["paid_at"],
        "created_at": tx["created_at"],
        "createdAt": tx["created_at"],
        "transaction_date": tx["created_at"],
        "currency": tx["currency"],
        "ip_address": "127.0.0.1",
        "metadata": copy.deepcopy(tx["metadata"]) if tx["metadata"] is not None else "",
        "fees": (tx["amount"] * 15 + 999) // 1000 if paid else None,  # 1.5%, rounded up
        "log": template.get("log") if paid else None,
        "authorization": authorization if paid else {},
        "customer": _customer(template.get("customer"), tx["email"]),
    })


# -- API answers --------------------------------------------------------------------------


def initialized(tx: dict[str, Any], authorization_url: str) -> dict[str, Any]:
    """``POST /transaction/initialize``'s answer."""
    body = example("transaction_initialize")
    body["data"] = _overlay(body["data"], {"authorization_url": authorization_url,
                                           "access_code": tx["access_code"], "reference": tx["reference"]})
    return body


def transaction(tx: dict[str, Any]) -> dict[str, Any]:
    """A transaction as ``GET /transaction/verify`` shows it (its ``data``)."""
    return _transaction(example("transaction_verify")["data"], tx)


def verified(tx: dict[str, Any]) -> dict[str, Any]:
    """``GET /transaction/verify/{reference}``'s answer."""
    body = example("transaction_verify")
    body["data"] = transaction(tx)
    return body


def refund_created(refund: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    """``POST /refund``'s answer: the refund, queued."""
    body = example("refund_create")
    data = body["data"]
    data["transaction"] = _overlay(data["transaction"], {
        "id": tx["id"], "domain": DOMAIN, "reference": tx["reference"], "amount": tx["amount"],
        "paid_at": tx["paid_at"], "paidAt": tx["paid_at"], "channel": "card", "currency": tx["currency"],
    })
    body["data"] = _overlay(data, {
        "integration": INTEGRATION_ID, "merchant_note": refund["merchant_note"],
        "customer_note": refund["customer_note"], "status": refund["status"], "refunded_by": MERCHANT_EMAIL,
        "expected_at": refund["created_at"], "currency": refund["currency"], "domain": DOMAIN,
        "amount": refund["amount"], "id": refund["id"], "createdAt": refund["created_at"],
        "updatedAt": refund["created_at"],
    })
    return body


def _refund_item(template: dict[str, Any], refund: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    processed = refund["status"] == "processed"
    return _overlay(template, {
        "integration": INTEGRATION_ID, "transaction": tx["id"], "dispute": None, "settlement": None,
        "id": refund["id"], "domain": DOMAIN, "currency": refund["currency"], "amount": refund["amount"],
        "status": refund["status"], "refunded_at": refund["refunded_at"], "refunded_by": MERCHANT_EMAIL,
        "customer_note": refund["customer_note"], "merchant_note": refund["merchant_note"],
        "deducted_amount": refund["amount"] if processed else 0, "fully_deducted": processed,
        "expected_at": refund["created_at"], "createdAt": refund["created_at"], "updatedAt": refund["updated_at"],
    })


def refund(record: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    """A refund as ``GET /refund/{id}`` shows it (its ``data``: the transaction by its id)."""
    return _refund_item(example("refund_fetch")["data"], record, tx)


def refund_fetched(record: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    """``GET /refund/{id}``'s answer."""
    body = example("refund_fetch")
    body["data"] = refund(record, tx)
    return body


def refunds_listed(page: list[tuple[dict[str, Any], dict[str, Any]]], *, total: int, per_page: int,
                   page_number: int) -> dict[str, Any]:
    """``GET /refund``'s answer: one page of (refund, its transaction), and the page's ``meta``."""
    body = example("refund_list")
    template = body["data"][0]
    body["data"] = [_refund_item(template, record, tx) for record, tx in page]
    body["meta"] = _overlay(body["meta"], {"total": total, "skipped": (page_number - 1) * per_page,
                                           "perPage": per_page, "page": page_number,
                                           "pageCount": max(1, -(-total // per_page))})
    return body


# -- webhook data ---------------------------------------------------------------------------


def charge_success(tx: dict[str, Any]) -> dict[str, Any]:
    """``charge.success``'s ``data``."""
    return _transaction(example("charge_success")["data"], tx)


def refund_event(refund: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    """``refund.processed`` or ``refund.failed``'s ``data`` (by the refund's status), from that
    event's example: no ``id``; the amount a string or a number as the example has it
    (``"5000"`` processed, ``20000`` failed)."""
    data = example("refund_processed" if refund["status"] == "processed" else "refund_failed")["data"]
    amount = str(refund["amount"]) if isinstance(data["amount"], str) else refund["amount"]
    return _overlay(data, {
        "status": refund["status"], "transaction_reference": refund["reference"],
        "refund_reference": refund["refund_reference"], "amount": amount, "currency": refund["currency"],
        "customer": _overlay(data["customer"], {"first_name": None, "last_name": None, "email": tx["email"]}),
        "integration": INTEGRATION_ID, "domain": DOMAIN,
    })


def dispute(record: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
    """``charge.dispute.create`` (open) or ``charge.dispute.resolve`` (resolved)'s ``data``."""
    data = example("dispute_resolve" if record["resolution"] else "dispute_create")["data"]
    opened = record["created_at"]
    return _overlay(data, {
        "id": record["id"], "refund_amount": record["refund_amount"], "currency": tx["currency"],
        "status": record["status"], "resolution": record["resolution"], "domain": DOMAIN,
        "transaction": _transaction(data["transaction"], tx), "transaction_reference": None,
        "customer": _customer(data["customer"], tx["email"]), "resolvedAt": record["resolved_at"],
        "history": [{**item, "by": tx["email"], "createdAt": opened} for item in data["history"]],
        "messages": [{**item, "sender": tx["email"], "createdAt": opened} for item in data["messages"]],
        "created_at": opened, "updated_at": record["resolved_at"] or opened,
    })


__all__ = [
    "FIXTURES",
    "INTEGRATION_ID",
    "MERCHANT_EMAIL",
    "charge_success",
    "dispute",
    "example",
    "initialized",
    "now",
    "refund",
    "refund_created",
    "refund_event",
    "refund_fetched",
    "refunds_listed",
    "transaction",
    "verified",
]
