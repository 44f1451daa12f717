"""Payouts on the fake: banks, transfer recipients, transfers, and their ``transfer.*`` webhooks.

The API, checked as Paystack checks it (the bearer secret key first, as for every endpoint):

* ``GET /bank?country=nigeria``: a few Nigerian banks (``transfer_payloads.BANKS``).
* ``POST /transferrecipient``: ``type`` ``nuban``, a ``name``, a known ``bank_code``, a
  10-digit ``account_number`` and ``currency`` NGN. An account number starting ``000`` is
  one the bank cannot resolve: 422 "Could not resolve account name...". The same bank
  details again answer the recipient already made, as Paystack does.
* ``GET`` / ``DELETE /transferrecipient/{id_or_code}`` (delete makes it inactive).
* ``POST /transfer``: ``source`` ``balance``, an amount, an active recipient's code, a
  ``reference`` of 16-50 of ``[a-z0-9_-]`` used once ("Duplicate Transfer Reference"
  otherwise), currency NGN. OTP is off: the answer is ``pending``; then the outcome set by
  :meth:`~PaystackTransfers.transfer_outcome` happens (the transfer's status changes, and
  its signed webhook goes to ``webhook_url``) once the answer has been written, as a
  payment processor settles it after answering. Without the server (``handle`` called
  directly), :meth:`~PaystackTransfers.deliver_pending` does that part.
* ``GET /transfer/verify/{reference}``: the transfer, or 404 "Transfer not found".

Scenario switches: :meth:`~PaystackTransfers.transfer_outcome`,
:meth:`~PaystackTransfers.fail_next_transfers`, :meth:`~PaystackTransfers.send_transfer_webhook`,
and :meth:`~PaystackTransfers.transfers` to see what was made. ``control.py`` serves the same
over HTTP under ``/_tollgate/`` for a test in another process.
"""

from __future__ import annotations

import itertools
import re
import secrets
import urllib.error
import urllib.parse
from collections.abc import Iterable
from typing import Any, Literal

from tollgate_local.fake_paystack import payloads, transfer_payloads
from tollgate_local.fake_paystack.api import DEFAULT_CURRENCIES, DEFAULT_SECRET_KEY, PaystackRefusal, amount_of, json_body
from tollgate_local.fake_paystack.scenarios import PaystackScenarios

Outcome = Literal["success", "failed", "reversed", "none"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failed", "reversed", "none")
TRANSFER_EVENTS = {"transfer.success": "success", "transfer.failed": "failed", "transfer.reversed": "reversed"}
_TRANSFER_REFERENCE = re.compile(r"[a-z0-9_-]{16,50}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{10}")
UNRESOLVABLE_PREFIX = "000"  # account numbers the fake's banks cannot resolve
# What the fake answers for an injected failure, by status (a documented message where there is one).
INJECTED_MESSAGES = {
    400: "Your balance is not enough to fulfil this request",
    429: "Too many requests. Please try again later (fake)",
}
GATEWAY_RESPONSES = {"failed": "Could not credit the beneficiary account (fake)",
                     "reversed": "The beneficiary bank returned the transfer (fake)"}


class PaystackTransfers(PaystackScenarios):
    def __init__(self, secret_key: str = DEFAULT_SECRET_KEY, *, webhook_url: str | None = None,
                 currencies: Iterable[str] = DEFAULT_CURRENCIES) -> None:
        self._transfer_ids = itertools.count(870_000_001)
        super().__init__(secret_key, webhook_url=webhook_url, currencies=currencies)

    def reset(self) -> None:
        """Also forget every recipient and transfer, and set the switches back (outcome ``success``)."""
        super().reset()
        with self._lock:
            self._recipients: dict[str, dict[str, Any]] = {}  # by recipient code
            self._transfers: dict[str, dict[str, Any]] = {}  # by reference, in creation order
            self._outcome: Outcome = "success"
            self._failing: list[tuple[int, bool]] = []  # (status, after creating) for the next POST /transfer
            self._pending: list[str] = []  # references whose outcome waits for the answer to be written

    # -- scenario switches --------------------------------------------------------------------

    def transfer_outcome(self, outcome: Outcome) -> None:
        """How the next transfers end: ``success``, ``failed``, ``reversed`` (each with its
        webhook), or ``none`` (they stay pending until :meth:`send_transfer_webhook`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self._lock:
            self._outcome = outcome

    def fail_next_transfers(self, status: int, count: int = 1, *, after_creating: bool = False) -> None:
        """The next ``count`` ``POST /transfer`` answer ``status`` with Paystack's error body.
        ``after_creating``: the transfer is made all the same, and only the answer is lost (an
        unknown outcome for the caller, which must verify the reference)."""
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 400-599 and count at least 1")
        with self._lock:
            self._failing.extend([(status, after_creating)] * count)

    def transfers(self) -> list[dict[str, Any]]:
        """Every transfer made, oldest first, as Verify Transfer shows it."""
        with self._lock:
            return [transfer_payloads.transfer(t, self._recipients[t["recipient"]]) for t in self._transfers.values()]

    def recipients(self) -> list[dict[str, Any]]:
        """Every transfer recipient made, oldest first, as Fetch Transfer Recipient shows it."""
        with self._lock:
            return [transfer_payloads.recipient(r) for r in self._recipients.values()]

    def send_transfer_webhook(self, reference: str, event: str = "transfer.success", *,
                              url: str | None = None) -> int:
        """The transfer ends as ``event`` says (``transfer.success``, ``.failed``, ``.reversed``)
        and that signed webhook goes to ``url`` (default: ``webhook_url``); returns the
        receiver's HTTP status."""
        if event not in TRANSFER_EVENTS:
            raise ValueError(f"event must be one of {', '.join(TRANSFER_EVENTS)}")
        target = url or self.webhook_url
        if not target:
            raise ValueError("no webhook url: pass url= or set webhook_url")
        data = self._settle(reference, TRANSFER_EVENTS[event])
        return self.send_webhook(target, event, data)

    def settle_transfer(self, reference: str, event: str = "transfer.success") -> None:
        """The transfer ends as ``event`` says, and its webhook is lost (never sent): the
        receiver can learn the outcome only by verifying the reference."""
        if event not in TRANSFER_EVENTS:
            raise ValueError(f"event must be one of {', '.join(TRANSFER_EVENTS)}")
        self._settle(reference, TRANSFER_EVENTS[event])

    def deliver_pending(self) -> None:
        """Play the outcome of every transfer answered since the last call (the server calls
        this after writing each answer)."""
        with self._lock:
            references, self._pending = self._pending, []
        for reference in references:
            try:
                with self._lock:
                    outcome = self._transfers[reference]["_outcome"]
                data = self._settle(reference, outcome)
            except KeyError:  # forgotten by a reset meanwhile
                continue
            if self.webhook_url:
                event = next(name for name, status in TRANSFER_EVENTS.items() if status == outcome)
                try:
                    self.send_webhook(self.webhook_url, event, data)
                except (urllib.error.URLError, OSError):
                    self.sent_webhooks.append((self.webhook_url, event, 0))  # nobody listening: Paystack retries later

    def _settle(self, reference: str, status: str) -> dict[str, Any]:
        with self._lock:
            transfer = self._transfers.get(reference)
            if transfer is None:
                raise KeyError(f"no transfer {reference!r}")
            now = payloads.now()
            transfer.update(status=status, updated_at=now, gateway_response=GATEWAY_RESPONSES.get(status))
            if status == "success":
                transfer["transferred_at"] = now
            return transfer_payloads.transfer_event(transfer, self._recipients[transfer["recipient"]])

    # -- the API --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/bank":
            return 200, transfer_payloads.banks(query.get("country"))
        if method == "POST" and path == "/transferrecipient":
            return self._create_recipient(json_body(raw))
        if method in {"GET", "DELETE"} and path.startswith("/transferrecipient/"):
            key = urllib.parse.unquote(path.removeprefix("/transferrecipient/"))
            return 200, self._recipient(key, delete=method == "DELETE")
        if method == "POST" and path == "/transfer":
            return 200, self._transfer(json_body(raw))
        if method == "GET" and path.startswith("/transfer/verify/"):
            return 200, self._verify_transfer(urllib.parse.unquote(path.removeprefix("/transfer/verify/")))
        return super()._route(method, path, query, raw)

    def _create_recipient(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("type") != "nuban":
            raise PaystackRefusal(400, "Recipient type is invalid (fake: only nuban)")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PaystackRefusal(400, "Name is required (fake)")
        bank_code = body.get("bank_code")
        if not isinstance(bank_code, str) or bank_code not in transfer_payloads.BANK_NAMES:
            raise PaystackRefusal(400, f"Unknown bank code: {bank_code}")
        number = body.get("account_number")
        if not isinstance(number, str) or not _ACCOUNT_NUMBER.fullmatch(number):
            raise PaystackRefusal(400, "Account number must be 10 digits (fake)")
        if (body.get("currency") or "NGN") != "NGN":
            raise PaystackRefusal(400, "Currency is not supported for this recipient type (fake)")
        if number.startswith(UNRESOLVABLE_PREFIX):
            raise PaystackRefusal(422, "Could not resolve account name. Check parameters or try again.")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise PaystackRefusal(400, "Invalid metadata (fake)")
        with self._lock:
            for record in self._recipients.values():
                if (record["account_number"], record["bank_code"]) == (number, bank_code) and not record["is_deleted"]:
                    return 200, transfer_payloads.recipient_created(record)
            now = payloads.now()
            record = {
                "id": next(self._ids), "recipient_code": "RCP_" + secrets.token_hex(8)[:15], "name": name.strip(),
                "account_number": number, "bank_code": bank_code, "bank_name": transfer_payloads.BANK_NAMES[bank_code],
                "currency": "NGN", "metadata": metadata, "description": body.get("description"),
                "email": body.get("email"), "active": True, "is_deleted": False, "created_at": now, "updated_at": now,
            }
            self._recipients[record["recipient_code"]] = record
            return 201, transfer_payloads.recipient_created(record)

    def _recipient(self, key: str, *, delete: bool) -> dict[str, Any]:
        with self._lock:
            record = self._recipients.get(key) or next(
                (r for r in self._recipients.values() if str(r["id"]) == key), None)
            if record is None:
                raise PaystackRefusal(404, "Transfer recipient not found (fake)")
            if not delete:
                return transfer_payloads.recipient_fetched(record)
            record.update(active=False, is_deleted=True, updated_at=payloads.now())
            return {"status": True, "message": "Transfer recipient set as inactive"}

    def _transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            failing = self._failing.pop(0) if self._failing else None
        if failing is not None and not failing[1]:
            self._refuse_injected(failing[0])
        if body.get("source") != "balance":
            raise PaystackRefusal(400, "Invalid transfer source (fake: only balance)")
        amount = amount_of(body.get("amount"))
        reference = body.get("reference")
        if reference is None:
            reference = secrets.token_hex(10)
        elif not isinstance(reference, str) or not _TRANSFER_REFERENCE.fullmatch(reference):
            raise PaystackRefusal(400, "Invalid transfer reference: 16-50 of a-z, 0-9, - and _ (fake)")
        currency = body.get("currency") or "NGN"
        reason = body.get("reason")
        with self._lock:
            recipient = self._recipients.get(str(body.get("recipient")))
            if recipient is None or not recipient["active"]:
                raise PaystackRefusal(400, "Recipient specified is invalid", type="validation_error",
                                      code="invalid_transfer_recipient")
            if currency != recipient["currency"]:
                raise PaystackRefusal(400, "Currency is not supported for this recipient (fake)")
            if reference in self._transfers:
                raise PaystackRefusal(400, "Duplicate Transfer Reference")
            now = payloads.now()
            transfer = self._transfers[reference] = {
                "id": next(self._transfer_ids), "transfer_code": "TRF_" + secrets.token_hex(8)[:16],
                "reference": reference, "amount": amount, "currency": currency,
                "reason": reason if isinstance(reason, str) else None, "recipient": recipient["recipient_code"],
                "status": "pending", "created_at": now, "updated_at": now, "transferred_at": None,
                "request": next(self._ids), "fee": 0, "gateway_response": None, "_outcome": self._outcome,
            }
            if self._outcome != "none":
                self._pending.append(reference)
            answer = transfer_payloads.transfer_queued(transfer, recipient)
        if failing is not None:
            self._refuse_injected(failing[0])  # made, and the answer lost
        return answer

    def _refuse_injected(self, status: int) -> None:
        message = INJECTED_MESSAGES.get(status) or (
            "Internal server error (fake)" if status >= 500 else f"Request failed ({status}, fake)")
        raise PaystackRefusal(status, message)

    def _verify_transfer(self, reference: str) -> dict[str, Any]:
        with self._lock:
            transfer = self._transfers.get(reference)
            if transfer is None:
                raise PaystackRefusal(404, "Transfer not found")
            return transfer_payloads.transfer_verified(transfer, self._recipients[transfer["recipient"]])


__all__ = ["OUTCOMES", "TRANSFER_EVENTS", "Outcome", "PaystackTransfers"]
