"""The bodies of Paystack's payout endpoints and ``transfer.*`` webhooks, as the fake sends them.

The webhook data is built from Paystack's documented ``transfer.success`` example
(``tests/fixtures/paystack/transfer_success.json``, as ``payloads.py`` builds the others);
``transfer.failed`` and ``transfer.reversed`` have the same shape with another status. The
API answers (List Banks, Create / Fetch Transfer Recipient, Initiate Transfer, Verify
Transfer) have the fields and nesting of Paystack's API reference examples, with this
fake's values. Every builder takes the fake's own record of the object.
"""

from __future__ import annotations

import copy
from typing import Any

from tollgate_local.fake_paystack.payloads import DOMAIN, INTEGRATION_ID, example

BANK_CREATED_AT = "2016-07-14T10:04:29.000Z"

# A few Nigerian banks (Paystack lists every bank; codes as the Central Bank of Nigeria assigns them).
BANKS: tuple[dict[str, Any], ...] = tuple(
    {"id": bank_id, "name": name, "slug": slug, "code": code, "longcode": longcode, "gateway": gateway,
     "pay_with_bank": False, "supports_transfer": True, "active": True, "country": "Nigeria", "currency": "NGN",
     "type": "nuban", "is_deleted": False, "createdAt": BANK_CREATED_AT, "updatedAt": BANK_CREATED_AT}
    for bank_id, name, slug, code, longcode, gateway in (
        (1, "Access Bank", "access-bank", "044", "044150149", "emandate"),
        (3, "First Bank of Nigeria", "first-bank-of-nigeria", "011", "011151003", "ibank"),
        (9, "Guaranty Trust Bank", "guaranty-trust-bank", "058", "058152036", "ibank"),
        (17, "United Bank For Africa", "united-bank-for-africa", "033", "033153513", "emandate"),
        (21, "Zenith Bank", "zenith-bank", "057", "057150013", "emandate"),
        (67, "Kuda Bank", "kuda-bank", "50211", "", None),
    )
)
BANK_NAMES = {bank["code"]: bank["name"] for bank in BANKS}


def banks(country: str | None) -> dict[str, Any]:
    """``GET /bank?country=...``'s answer: the Nigerian banks (none for another country)."""
    listed = [copy.deepcopy(bank) for bank in BANKS] if (country or "nigeria").lower() == "nigeria" else []
    return {"status": True, "message": "Banks retrieved", "data": listed,
            "meta": {"next": None, "previous": None, "perPage": 50}}


def recipient(record: dict[str, Any]) -> dict[str, Any]:
    """A transfer recipient, as Create and Fetch Transfer Recipient show it (their ``data``)."""
    return {
        "active": record["active"], "createdAt": record["created_at"], "currency": record["currency"],
        "description": record["description"], "domain": DOMAIN, "email": record["email"], "id": record["id"],
        "integration": INTEGRATION_ID, "metadata": copy.deepcopy(record["metadata"]), "name": record["name"],
        "recipient_code": record["recipient_code"], "type": "nuban", "updatedAt": record["updated_at"],
        "is_deleted": record["is_deleted"], "isDeleted": record["is_deleted"],
        "details": {"authorization_code": None, "account_number": record["account_number"],
                    "account_name": record["name"], "bank_code": record["bank_code"],
                    "bank_name": record["bank_name"]},
    }


def recipient_created(record: dict[str, Any]) -> dict[str, Any]:
    return {"status": True, "message": "Transfer recipient created successfully", "data": recipient(record)}


def recipient_fetched(record: dict[str, Any]) -> dict[str, Any]:
    return {"status": True, "message": "Transfer recipient retrieved", "data": recipient(record)}


def transfer_queued(transfer: dict[str, Any], recipient_record: dict[str, Any]) -> dict[str, Any]:
    """``POST /transfer``'s answer (``recipient`` is the recipient's numeric id there)."""
    return {"status": True, "message": "Transfer has been queued", "data": {
        "transfersessionid": [], "transfertrials": [], "domain": DOMAIN, "amount": transfer["amount"],
        "currency": transfer["currency"], "reference": transfer["reference"], "source": "balance",
        "source_details": None, "reason": transfer["reason"], "status": transfer["status"], "failures": None,
        "transfer_code": transfer["transfer_code"], "titan_code": None, "transferred_at": transfer["transferred_at"],
        "id": transfer["id"], "integration": INTEGRATION_ID, "request": transfer["request"],
        "recipient": recipient_record["id"], "createdAt": transfer["created_at"], "updatedAt": transfer["updated_at"],
    }}


def transfer(transfer: dict[str, Any], recipient_record: dict[str, Any]) -> dict[str, Any]:
    """A transfer as Verify Transfer shows it (its ``data``: the recipient embedded)."""
    return {
        "amount": transfer["amount"], "createdAt": transfer["created_at"], "currency": transfer["currency"],
        "domain": DOMAIN, "failures": None, "id": transfer["id"], "integration": INTEGRATION_ID,
        "reason": transfer["reason"], "reference": transfer["reference"], "source": "balance",
        "source_details": None, "status": transfer["status"], "titan_code": None,
        "transfer_code": transfer["transfer_code"], "request": transfer["request"],
        "transferred_at": transfer["transferred_at"], "updatedAt": transfer["updated_at"],
        "recipient": recipient(recipient_record), "session": {"provider": None, "id": None},
        "fee_charged": transfer["fee"], "fees_breakdown": None, "gateway_response": transfer["gateway_response"],
    }


def transfer_verified(record: dict[str, Any], recipient_record: dict[str, Any]) -> dict[str, Any]:
    return {"status": True, "message": "Transfer retrieved", "data": transfer(record, recipient_record)}


def transfer_event(record: dict[str, Any], recipient_record: dict[str, Any]) -> dict[str, Any]:
    """``transfer.success`` / ``.failed`` / ``.reversed``'s ``data`` (Paystack's example, overlaid)."""
    data = example("transfer_success")["data"]
    shown = recipient(recipient_record)
    payee = {key: shown.get(key, value) for key, value in data["recipient"].items()}
    payee["details"] = {key: shown["details"].get(key, value) for key, value in data["recipient"]["details"].items()}
    payee["created_at"] = payee["updated_at"] = recipient_record["created_at"]
    values = {
        "amount": record["amount"], "currency": record["currency"], "domain": DOMAIN, "id": record["id"],
        "integration": {**data["integration"], "id": INTEGRATION_ID, "is_live": False},
        "reason": record["reason"], "recipient": payee, "reference": record["reference"],
        "status": record["status"], "transfer_code": record["transfer_code"],
        "transferred_at": record["transferred_at"], "created_at": record["created_at"],
        "updated_at": record["updated_at"],
    }
    return {key: values.get(key, value) for key, value in data.items()}


__all__ = [
    "BANKS",
    "BANK_NAMES",
    "banks",
    "recipient",
    "recipient_created",
    "recipient_fetched",
    "transfer",
    "transfer_event",
    "transfer_queued",
    "transfer_verified",
]
