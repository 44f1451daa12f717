"""Refunds on the fake: create, list and fetch, their outcomes and ``refund.*`` webhooks.

The API, checked as Paystack checks it (the bearer secret key first, as for every endpoint):

* ``POST /refund``: ``transaction`` (a reference or an id) of a successful transaction, an
  optional ``amount`` (default: what is left to refund; never more), an optional
  ``currency`` (the transaction's), ``merchant_note`` / ``customer_note`` kept as given. The
  answer is the refund ``pending``; then the outcome set by :meth:`~PaystackRefunds.refund_outcome`
  happens once the answer has been written (the refund's status changes, and its signed
  ``refund.processed`` / ``refund.failed`` goes to ``webhook_url``), as Paystack processes a
  refund after answering. Without the server (``handle`` called directly),
  :meth:`~PaystackRefunds.deliver_pending` does that part. A failed refund gives its amount
  back to the transaction's refundable amount.
* ``GET /refund?transaction=<id or reference>``: that transaction's refunds (all refunds
  without it; ``currency``, ``perPage`` (default 50) and ``page`` too), newest first, in
  Paystack's list envelope with ``meta``.
* ``GET /refund/{id}``: one refund, or 404 "Refund not found (fake)".

Scenario switches: :meth:`~PaystackRefunds.refund_outcome`, :meth:`~PaystackRefunds.fail_next_refunds`,
:meth:`~PaystackRefunds.send_refund_webhook`, :meth:`~PaystackRefunds.process_refund`, and
:meth:`~PaystackRefunds.refunds` to see what was made. ``control.py`` serves the same over
HTTP under ``/_tollgate/`` for a test in another process.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.parse
from typing import Any, Literal

from tollgate_local.fake_paystack import payloads
from tollgate_local.fake_paystack.api import PaystackRefusal, amount_of, json_body
from tollgate_local.fake_paystack.scenarios import PaystackScenarios

RefundOutcome = Literal["processed", "failed", "none"]
REFUND_OUTCOMES: tuple[RefundOutcome, ...] = ("processed", "failed", "none")
REFUND_EVENTS = {"processed": "refund.processed", "failed": "refund.failed"}
DEFAULT_PER_PAGE = 50
# What the fake answers for an injected failure, by status (Paystack documents no refund errors to copy).
INJECTED_MESSAGES = {429: "Too many requests. Please try again later (fake)"}


class PaystackRefunds(PaystackScenarios):
    def reset(self) -> None:
        """Also forget every refund, and set the switches back (outcome ``processed``)."""
        super().reset()
        with self._lock:
            self._refunds: dict[int, dict[str, Any]] = {}  # by id, in creation order
            self._refund_outcome: RefundOutcome = "processed"
            self._failing_refunds: list[tuple[int, bool]] = []  # (status, after creating) for the next POST /refund
            self._pending_refunds: list[int] = []  # ids whose outcome waits for the answer to be written

    # -- scenario switches --------------------------------------------------------------------

    def refund_outcome(self, outcome: RefundOutcome) -> None:
        """How the next refunds end: ``processed`` or ``failed`` (each with its webhook), or
        ``none`` (they stay pending until :meth:`send_refund_webhook`)."""
        if outcome not in REFUND_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(REFUND_OUTCOMES)}")
        with self._lock:
            self._refund_outcome = outcome

    def fail_next_refunds(self, status: int, count: int = 1, *, after_creating: bool = False) -> None:
        """The next ``count`` ``POST /refund`` answer ``status`` with Paystack's error body.
        ``after_creating``: the refund is made all the same, and only the answer is lost (an
        unknown outcome for the caller, which must list the transaction's refunds)."""
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 400-599 and count at least 1")
        with self._lock:
            self._failing_refunds.extend([(status, after_creating)] * count)

    def refunds(self) -> list[dict[str, Any]]:
        """Every refund made, oldest first, as the fake keeps it: ``id``, ``reference`` (the
        transaction's), ``transaction`` (its id), ``amount``, ``currency``, ``status``,
        ``merchant_note``, ``customer_note``, ``refund_reference``, times."""
        with self._lock:  # our bookkeeping keys start with "_"
            return [{k: v for k, v in refund.items() if not k.startswith("_")} for refund in self._refunds.values()]

    def send_refund_webhook(self, refund_id: int | str, outcome: str = "processed", *,
                            url: str | None = None) -> int:
        """The pending refund ends as ``outcome`` says (``processed`` or ``failed``) and that
        signed webhook goes to ``url`` (default: ``webhook_url``); returns the receiver's HTTP
        status. A refund that already ended so sends its webhook again (a redelivery)."""
        if outcome not in REFUND_EVENTS:
            raise ValueError(f"outcome must be one of {', '.join(REFUND_EVENTS)}")
        target = url or self.webhook_url
        if not target:
            raise ValueError("no webhook url: pass url= or set webhook_url")
        data = self._settle_refund(int(refund_id), outcome)
        return self.send_webhook(target, REFUND_EVENTS[outcome], data)

    def process_refund(self, refund_id: int | str, success: bool = True) -> dict[str, Any]:
        """The processor settles a pending refund: ``refund.processed`` (or ``refund.failed``)
        goes to ``webhook_url`` when one is set (again, for a refund that already ended so).
        Returns the webhook's ``data``."""
        outcome = "processed" if success else "failed"
        data = self._settle_refund(int(refund_id), outcome)
        self._notify(REFUND_EVENTS[outcome], data)
        return data

    def deliver_pending(self) -> None:
        """Play the outcome of every refund answered since the last call (after what the
        classes after this one play: the server calls this after writing each answer)."""
        super().deliver_pending()
        with self._lock:
            ids, self._pending_refunds = self._pending_refunds, []
        for refund_id in ids:
            try:
                with self._lock:
                    refund = self._refunds[refund_id]
                    if refund["status"] != "pending":
                        continue  # ended on demand meanwhile
                    outcome = refund["_outcome"]
                data = self._settle_refund(refund_id, outcome)
            except (KeyError, ValueError):  # forgotten by a reset, or ended on demand meanwhile
                continue
            if self.webhook_url:
                try:
                    self.send_webhook(self.webhook_url, REFUND_EVENTS[outcome], data)
                except (urllib.error.URLError, OSError):
                    self.sent_webhooks.append((self.webhook_url, REFUND_EVENTS[outcome], 0))  # Paystack retries later

    def _settle_refund(self, refund_id: int, outcome: str) -> dict[str, Any]:
        with self._lock:
            refund = self._refunds.get(refund_id)
            if refund is None:
                raise KeyError(f"no refund {refund_id}")
            tx = self._transactions[refund["reference"]]
            if refund["status"] == outcome:
                return payloads.refund_event(refund, tx)  # ended so already: the same webhook again
            if refund["status"] != "pending":
                raise ValueError(f"refund {refund_id} is already {refund['status']}")
            now = payloads.now()
            refund.update(status=outcome, updated_at=now, refund_reference=str(secrets.randbelow(10**12)).zfill(12))
            if outcome == "processed":
                refund["refunded_at"] = now
            else:  # the money was never returned: it can be refunded again
                tx["refunded"] -= refund["amount"]
                if tx["status"] == "reversed":
                    tx["status"] = "success"
            return payloads.refund_event(refund, tx)

    # -- the API --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/refund":
            return 200, self._create_refund(json_body(raw))
        if method == "GET" and path == "/refund":
            return 200, self._list_refunds(query)
        if method == "GET" and path.startswith("/refund/"):
            return 200, self._fetch_refund(urllib.parse.unquote(path.removeprefix("/refund/")))
        return super()._route(method, path, query, raw)

    def _find_transaction(self, key: Any) -> dict[str, Any] | None:
        """A transaction by its reference or its id (the caller holds the lock)."""
        return self._transactions.get(str(key)) or next(
            (t for t in self._transactions.values() if str(t["id"]) == str(key)), None)

    def _create_refund(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            failing = self._failing_refunds.pop(0) if self._failing_refunds else None
        if failing is not None and not failing[1]:
            _refuse_injected(failing[0])
        key = body.get("transaction")
        if key in (None, "") or isinstance(key, bool | dict | list):
            raise PaystackRefusal(400, "Transaction reference or id is required (fake)")
        with self._lock:
            tx = self._find_transaction(key)
            if tx is None:
                raise PaystackRefusal(404, "Transaction not found")
            if tx["status"] == "reversed" or (tx["status"] == "success" and tx["refunded"] >= tx["amount"]):
                raise PaystackRefusal(400, "Transaction has been fully reversed")
            if tx["status"] != "success":
                raise PaystackRefusal(400, "Cannot refund a transaction that was not successful (fake)")
            remaining = tx["amount"] - tx["refunded"]
            amount = remaining if body.get("amount") in (None, "") else amount_of(body.get("amount"))
            if amount > remaining:
                raise PaystackRefusal(400, "Refund amount cannot be more than the transaction amount (fake)")
            currency = body.get("currency") or tx["currency"]
            if currency != tx["currency"]:
                raise PaystackRefusal(400, "Currency does not match the transaction's (fake)")
            tx["refunded"] += amount
            if tx["refunded"] >= tx["amount"]:
                tx["status"] = "reversed"
            refund_id, now = next(self._ids), payloads.now()
            refund = self._refunds[refund_id] = {
                "id": refund_id, "reference": tx["reference"], "transaction": tx["id"], "amount": amount,
                "currency": currency, "status": "pending", "created_at": now, "updated_at": now,
                "refunded_at": None, "refund_reference": None,
                "merchant_note": body.get("merchant_note")
                or f"Refund for transaction {tx['reference']} by {payloads.MERCHANT_EMAIL}",
                "customer_note": body.get("customer_note") or f"Refund for transaction {tx['reference']}",
                "_outcome": self._refund_outcome,
            }
            if self._refund_outcome != "none":
                self._pending_refunds.append(refund_id)
            answer = payloads.refund_created(refund, tx)
        if failing is not None:
            _refuse_injected(failing[0])  # made, and the answer lost
        return answer

    def _list_refunds(self, query: dict[str, str]) -> dict[str, Any]:
        per_page, page = _positive(query, "perPage", DEFAULT_PER_PAGE), _positive(query, "page", 1)
        with self._lock:
            found = [(r, self._transactions[r["reference"]]) for r in reversed(self._refunds.values())]
            if "transaction" in query:
                tx = self._find_transaction(query["transaction"])
                found = [(r, t) for r, t in found if tx is not None and t is tx]
            if "currency" in query:
                found = [(r, t) for r, t in found if r["currency"] == query["currency"]]
            shown = found[(page - 1) * per_page: page * per_page]
            return payloads.refunds_listed(shown, total=len(found), per_page=per_page, page_number=page)

    def _fetch_refund(self, key: str) -> dict[str, Any]:
        with self._lock:
            refund = self._refunds.get(int(key)) if key.isdigit() else None
            if refund is None:
                raise PaystackRefusal(404, "Refund not found (fake)")
            return payloads.refund_fetched(refund, self._transactions[refund["reference"]])


def _positive(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise PaystackRefusal(400, f"Invalid {name} (fake)")
    return int(value)


def _refuse_injected(status: int) -> None:
    message = INJECTED_MESSAGES.get(status) or (
        "Internal server error (fake)" if status >= 500 else f"Request failed ({status}, fake)")
    raise PaystackRefusal(status, message)


__all__ = ["REFUND_EVENTS", "REFUND_OUTCOMES", "PaystackRefunds", "RefundOutcome"]
