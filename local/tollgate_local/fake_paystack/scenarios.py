"""What happens on Paystack's side of a payment, and the signed webhooks it sends.

:meth:`~PaystackScenarios.complete` marks a transaction paid (or failed), as the payer would
on the checkout page; :meth:`~PaystackScenarios.open_dispute` /
:meth:`~PaystackScenarios.resolve_dispute` raise and close a chargeback (refunds and their
webhooks: ``refunds.py``). Each sends its webhook to :attr:`~PaystackScenarios.webhook_url` when one
is set. :meth:`~PaystackScenarios.send_webhook` POSTs ``{"event", "data"}`` to any URL,
signed as Paystack signs: ``x-paystack-signature`` = hex HMAC-SHA512 of the raw body, keyed
with the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from tollgate_local.fake_paystack import payloads
from tollgate_local.fake_paystack.api import DEFAULT_CURRENCIES, DEFAULT_SECRET_KEY, PaystackApi


class PaystackScenarios(PaystackApi):
    def __init__(self, secret_key: str = DEFAULT_SECRET_KEY, *, webhook_url: str | None = None,
                 currencies: Iterable[str] = DEFAULT_CURRENCIES) -> None:
        self.webhook_url = webhook_url
        super().__init__(secret_key, currencies=currencies)

    def reset(self) -> None:
        super().reset()
        self.sent_webhooks: list[tuple[str, str, int]] = []  # (url, event, status)

    # -- webhooks -------------------------------------------------------------------------

    def sign(self, raw_body: bytes, secret_key: str | None = None) -> str:
        return hmac.new((secret_key or self.secret_key).encode(), raw_body, hashlib.sha512).hexdigest()

    def send_webhook(
        self, url: str, event: str, data: dict[str, Any], *, secret_key: str | None = None, timeout: float = 10.0
    ) -> int:
        """POST a signed webhook to ``url``; returns the HTTP status the receiver answered."""
        raw = json.dumps({"event": event, "data": data}).encode()
        request = urllib.request.Request(
            url,
            data=raw,
            method="POST",
            headers={"Content-Type": "application/json", "x-paystack-signature": self.sign(raw, secret_key)},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = int(response.status)
                response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.sent_webhooks.append((url, event, status))
        return status

    def _notify(self, event: str, data: dict[str, Any]) -> None:
        if self.webhook_url:
            self.send_webhook(self.webhook_url, event, data)

    def deliver_pending(self) -> None:
        """Play what follows the answers written since the last call (the server calls this
        after writing each answer). Nothing here: ``refunds.py`` and ``transfers.py`` play
        their objects' outcomes."""

    # -- scenarios ------------------------------------------------------------------------

    def complete(self, reference: str, success: bool = True) -> dict[str, Any]:
        """The payer pays (or fails to): the transaction becomes ``success`` (or ``failed``);
        a successful payment sends ``charge.success``. Returns the transaction (verify's shape)."""
        with self._lock:
            tx = self._get(reference)
            if tx["status"] not in {"abandoned", "ongoing"}:
                raise ValueError(f"transaction {reference} is already {tx['status']}")
            tx["status"] = "success" if success else "failed"
            tx["gateway_response"] = "Successful" if success else "Declined"
            tx["paid_at"] = payloads.now() if success else None
            shown, event = payloads.transaction(tx), payloads.charge_success(tx)
        if success:
            self._notify("charge.success", event)
        return shown

    def open_dispute(self, reference: str, refund_amount: int | None = None) -> dict[str, Any]:
        """A chargeback on a paid transaction: ``charge.dispute.create``."""
        with self._lock:
            tx = self._get(reference)
            dispute_id = next(self._ids)
            dispute = self._disputes[dispute_id] = {
                "id": dispute_id, "reference": reference,
                "refund_amount": tx["amount"] if refund_amount is None else refund_amount,
                "status": "awaiting-merchant-feedback", "resolution": None, "created_at": payloads.now(),
                "resolved_at": None,
            }
            data = payloads.dispute(dispute, tx)
        self._notify("charge.dispute.create", data)
        return data

    def resolve_dispute(self, dispute_id: int | str, resolution: str = "merchant-accepted") -> dict[str, Any]:
        """Close a dispute: ``declined`` (merchant wins), ``merchant-accepted`` or
        ``auto-accepted`` (the customer is refunded and the transaction reversed)."""
        with self._lock:
            dispute = self._disputes[int(dispute_id)]
            dispute.update(status="resolved", resolution=resolution, resolved_at=payloads.now())
            tx = self._transactions[dispute["reference"]]
            if resolution != "declined":
                tx["status"] = "reversed"
            data = payloads.dispute(dispute, tx)
        self._notify("charge.dispute.resolve", data)
        return data


__all__ = ["PaystackScenarios"]
