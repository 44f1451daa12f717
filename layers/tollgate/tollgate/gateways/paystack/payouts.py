"""Paystack payouts: ``nuban`` transfer recipients and transfers in NGN.

* **Accounts.** :meth:`~PaystackPayouts.open_account` checks the bank account here first
  (``bank_code`` 3-6 digits, ``account_number`` 10 digits, ``account_name`` 1-100
  characters; each a 422 naming the field, before any call), then creates a transfer
  recipient. Paystack resolves the account with the bank: when it cannot (a wrong number or
  bank), its refusal is a 422 on ``account_number``, not a 502. A recipient needs no
  onboarding, so the account is ``active`` at once. Paystack has no idempotency key; it
  answers a recipient created again with the same bank details with the existing one.
* **Transfers.** The ``reference`` derives from the payout id (:func:`transfer_reference`)
  and is a uniqueness key at Paystack, not a replay key (a second ``POST /transfer`` with it
  is refused, "Duplicate Transfer Reference"). So :meth:`~PaystackPayouts.transfer` first
  verifies the reference and adopts a transfer it finds, and a duplicate refusal (a
  concurrent attempt got there first) is resolved the same way. A transfer is ``pending``
  until Paystack's ``transfer.*`` webhook (or a verify) says how it ended. Transfers that
  need an OTP (``status: otp``) stay pending: turn OTP off for automated payouts.
  :meth:`~PaystackPayouts.get_transfer` (the reconciliation job's look-up) is the default:
  verify by the payout's reference, one ``GET``, which names the ``transfer_code`` to compare.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from tollgate.errors import ValidationFailed
from tollgate.gateways.exceptions import GatewayError
from tollgate.gateways.models import answer_object
from tollgate.gateways.payouts import (
    PAYOUT_CURRENCIES,
    BankAccount,
    PayoutAccount,
    PayoutGateway,
    Transfer,
    TransferStatus,
    transfer_reference,
)
from tollgate.gateways.paystack import schemas
from tollgate.gateways.paystack.client import PaystackClient, PaystackRefusal, not_found
from tollgate.gateways.paystack.events import GATEWAY

CURRENCY = PAYOUT_CURRENCIES[GATEWAY]
_BANK_CODE = re.compile(r"[0-9]{3,6}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{10}")
MAX_ACCOUNT_NAME = 100

# Paystack's final transfer statuses; any other (pending, processing, received, otp, queued...) is in flight.
TRANSFER_STATUSES: dict[str, TransferStatus] = {
    "success": "succeeded",
    "failed": "failed",
    "abandoned": "failed",
    "rejected": "failed",
    "reversed": "reversed",
}
# Refusals that are not about the bank account: our key (401, 403) or our pace (429).
_NOT_THE_ACCOUNT = frozenset({401, 403, 429})
_DUPLICATE = "duplicate transfer reference"


def transfer_status(status: str | None) -> TransferStatus:
    """A Paystack transfer status as a payout Transfer's."""
    return TRANSFER_STATUSES.get((status or "").strip().lower(), "pending")


def checked_bank(bank: BankAccount | None) -> BankAccount:
    """``bank`` with its name trimmed, or ValidationFailed (422) naming the first bad field."""
    if bank is None:
        raise ValidationFailed("Paystack payouts need a Nigerian bank account", field="bank_code")
    if not isinstance(bank.bank_code, str) or not _BANK_CODE.fullmatch(bank.bank_code):
        raise ValidationFailed("bank_code must be 3 to 6 digits", field="bank_code")
    if not isinstance(bank.account_number, str) or not _ACCOUNT_NUMBER.fullmatch(bank.account_number):
        raise ValidationFailed("account_number must be exactly 10 digits", field="account_number")
    name = bank.account_name.strip() if isinstance(bank.account_name, str) else ""
    if not 1 <= len(name) <= MAX_ACCOUNT_NAME or not name.isprintable():
        raise ValidationFailed(f"account_name must be 1 to {MAX_ACCOUNT_NAME} printable characters",
                               field="account_name")
    return BankAccount(bank_code=bank.bank_code, account_number=bank.account_number, account_name=name)


class PaystackPayouts(PayoutGateway):
    """The payout half of the Paystack adapter (mixed into :class:`~tollgate.gateways.paystack.PaystackGateway`)."""

    name = GATEWAY
    client: PaystackClient

    def open_account(self, developer_id: str, *, bank: BankAccount | None, return_url: str, refresh_url: str,
                     idempotency_key: str) -> PayoutAccount:
        bank = checked_bank(bank)
        body: dict[str, Any] = {
            "type": "nuban",
            "name": bank.account_name,
            "account_number": bank.account_number,
            "bank_code": bank.bank_code,
            "currency": CURRENCY,
            "metadata": {"developer_id": developer_id},
        }
        try:
            data = self.client.call("POST", "/transferrecipient", body, what="create recipient")
        except PaystackRefusal as exc:
            status = exc.details["gateway_status"]
            if 400 <= status < 500 and status not in _NOT_THE_ACCOUNT:
                raise ValidationFailed(f"Paystack could not verify the bank account: {exc.reason}",
                                       field="account_number", gateway=GATEWAY) from None
            raise
        recipient = answer_object(schemas.Recipient, data, gateway=GATEWAY, what="create recipient")
        return _account(recipient, fallback=bank)

    def account(self, account_id: str, *, return_url: str, refresh_url: str) -> PayoutAccount:
        path = "/transferrecipient/" + urllib.parse.quote(account_id, safe="")
        data = self.client.call("GET", path, None, what="fetch recipient")
        recipient = answer_object(schemas.Recipient, data, gateway=GATEWAY, what="fetch recipient")
        if not recipient.usable:
            # Paystack answered (200): a refusal to retry would not change, so it carries the status.
            raise GatewayError("The Paystack transfer recipient is inactive or deleted", gateway=GATEWAY,
                               gateway_status=200)
        return _account(recipient)

    def transfer(self, payout_id: str, account_id: str, amount: int, currency: str) -> Transfer:
        if not payout_id or not account_id:
            raise ValueError("a transfer needs a payout id and an account id")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("a transfer amount is a positive whole number of minor units")
        currency = currency.upper()
        existing = self.find_transfer(payout_id)
        if existing is not None:
            return _adopted(existing, amount, currency)
        body: dict[str, Any] = {
            "source": "balance",
            "amount": amount,
            "recipient": account_id,
            "reference": transfer_reference(payout_id),
            "reason": f"Tollgate payout {payout_id}",
            "currency": currency,
        }
        try:
            data = self.client.call("POST", "/transfer", body, what="transfer")
        except PaystackRefusal as exc:
            if _DUPLICATE not in exc.reason.lower():
                raise
            found = self.find_transfer(payout_id)  # another attempt made it meanwhile: that one is ours
            if found is None:
                raise
            return _adopted(found, amount, currency)
        return transfer_from(answer_object(schemas.Transfer, data, gateway=GATEWAY, what="transfer"),
                             body["reference"])

    def find_transfer(self, payout_id: str) -> Transfer | None:
        reference = transfer_reference(payout_id)
        try:
            data = self.client.call("GET", "/transfer/verify/" + urllib.parse.quote(reference, safe=""), None,
                                    what="verify transfer")
        except PaystackRefusal as exc:
            if not_found(exc):
                return None
            raise
        return transfer_from(answer_object(schemas.Transfer, data, gateway=GATEWAY, what="verify transfer"), reference)


def transfer_from(transfer: schemas.Transfer, reference: str) -> Transfer:
    status = transfer_status(transfer.status)
    failure = None
    if status in {"failed", "reversed"}:
        failure = transfer.gateway_response or f"Paystack reports the transfer {transfer.status}"
    return Transfer(transfer_id=transfer.transfer_code, reference=transfer.reference or reference, status=status,
                    amount=transfer.amount, currency=transfer.currency or "", failure=failure)


def _adopted(found: Transfer, amount: int, currency: str) -> Transfer:
    """The payout's transfer found at Paystack, if it is for what this call asks."""
    if (found.amount, found.currency) != (amount, currency):
        # What Paystack would answer a POST with this reference; retrying cannot change it.
        raise GatewayError(f"The Paystack transfer {found.reference} exists for another amount or currency",
                           gateway=GATEWAY, gateway_status=400)
    return found


def _account(recipient: schemas.Recipient, *, fallback: BankAccount | None = None) -> PayoutAccount:
    details = recipient.details
    number = details.account_number or (fallback.account_number if fallback else "")
    shown = {"bank_name": details.bank_name or "", "account_last4": number[-4:]}
    return PayoutAccount(gateway=GATEWAY, account_id=recipient.recipient_code, status="active",
                         currency=recipient.currency or CURRENCY, details=shown)


__all__ = ["TRANSFER_STATUSES", "PaystackPayouts", "checked_bank", "transfer_from", "transfer_status"]
