"""A small fake Paystack API on 127.0.0.1, for tests and ``make dev``.

It serves what Tollgate calls - ``POST /transaction/initialize``,
``GET /transaction/verify/{reference}``, ``POST /refund`` - and checks each request the way
the real API does: ``Authorization: Bearer <secret key>`` (401 otherwise), a JSON body, the
required fields, an integer amount in the currency's minor unit, a valid email, a reference
of alphanumerics and ``- . =`` only, and a reference used once ("Duplicate Transaction
Reference"). Answers have Paystack's documented shapes (``{"status", "message", "data"}``)
and, where Paystack documents one, its error message; the few messages marked
``(fake)`` are this fake's own wording.

Every request is recorded (:attr:`FakePaystack.requests`) for assertions. Test helpers:

* :meth:`~FakePaystack.complete` marks a transaction paid (or failed), as the payer would on
  the checkout page; :meth:`~FakePaystack.process_refund` settles a queued refund;
  :meth:`~FakePaystack.open_dispute` / :meth:`~FakePaystack.resolve_dispute` raise and close
  a chargeback. Each sends its webhook to :attr:`~FakePaystack.webhook_url` when one is set.
* :meth:`~FakePaystack.send_webhook` POSTs ``{"event", "data"}`` to any URL, signed the way
  Paystack signs: ``x-paystack-signature`` = hex HMAC-SHA512 of the raw body, keyed with
  the secret key.

The authorization URL points at the fake itself (``/checkout/<access_code>``): a tiny page
with "Pay" and "Fail" buttons, which then redirects to the transaction's ``callback_url``
with ``?trxref=<reference>&reference=<reference>`` as Paystack does.

Usage::

    with FakePaystack() as paystack:
        os.environ["PAYSTACK_API_BASE"] = paystack.endpoint
        os.environ["PAYSTACK_SECRET_KEY"] = paystack.secret_key
        ...

The server runs in its own thread on a free port, bound to 127.0.0.1 only;
:meth:`~FakePaystack.stop` shuts it down and joins the thread.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_REFERENCE_OK = re.compile(r"^[A-Za-z0-9.=-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")
DEFAULT_SECRET_KEY = "sk_test_tollgate_fake_paystack"
DEFAULT_CURRENCIES = ("NGN", "GHS", "ZAR", "USD", "KES")
INTEGRATION_ID = 412829


class PaystackRefusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    body: Any  # the JSON body, parsed (None if none or not JSON)
    status: int  # what the fake answered

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


def _now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _amount(value: Any) -> int:
    """Paystack takes an integer, or a string of digits; anything else is refused."""
    if isinstance(value, bool) or value is None:
        raise PaystackRefusal(400, "Invalid Amount Sent")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        amount = int(value)
    else:
        raise PaystackRefusal(400, "Invalid Amount Sent")
    if amount <= 0:
        raise PaystackRefusal(400, "You must specify a valid amount")
    return amount


class FakePaystack:
    def __init__(
        self,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        port: int = 0,
        webhook_url: str | None = None,
        currencies: Iterable[str] = DEFAULT_CURRENCIES,
    ) -> None:
        self.secret_key = secret_key
        self.webhook_url = webhook_url
        self.currencies = frozenset(currencies)
        self._port = port
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(3_000_001)
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Paystack is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePaystack:
        handler = type("FakePaystackHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-paystack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakePaystack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every transaction, refund, dispute and recorded request."""
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._transactions: dict[str, dict[str, Any]] = {}
            self._by_access_code: dict[str, str] = {}
            self._refunds: dict[int, dict[str, Any]] = {}
            self._disputes: dict[int, dict[str, Any]] = {}
        self.sent_webhooks: list[tuple[str, str, int]] = []  # (url, event, status)

    # -- inspection ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def transaction(self, reference: str) -> dict[str, Any]:
        """The transaction as ``GET /transaction/verify`` would show it."""
        with self._lock:
            return self._transaction_data(self._get(reference))

    # -- test helpers -------------------------------------------------------------------

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

    def complete(self, reference: str, success: bool = True) -> dict[str, Any]:
        """The payer pays (or fails to): the transaction becomes ``success`` (or ``failed``).

        With a :attr:`webhook_url`, a successful payment sends ``charge.success`` there."""
        with self._lock:
            tx = self._get(reference)
            if tx["status"] not in {"abandoned", "ongoing"}:
                raise ValueError(f"transaction {reference} is already {tx['status']}")
            tx["status"] = "success" if success else "failed"
            tx["gateway_response"] = "Successful" if success else "Declined"
            tx["paid_at"] = _now() if success else None
            data = self._transaction_data(tx)
        if success and self.webhook_url:
            self.send_webhook(self.webhook_url, "charge.success", data)
        return data

    def process_refund(self, refund_id: int | str, success: bool = True) -> dict[str, Any]:
        """The processor settles a queued refund: ``refund.processed`` (or ``refund.failed``)
        data, in the documented shape (no ``id``; ``amount`` as a string, as documented)."""
        with self._lock:
            refund = self._refunds[int(refund_id)]
            if refund["status"] != "pending":
                raise ValueError(f"refund {refund_id} is already {refund['status']}")
            tx = self._transactions[refund["reference"]]
            refund["status"] = "processed" if success else "failed"
            refund["refund_reference"] = str(secrets.randbelow(10**12)).zfill(12)
            if not success:
                tx["refunded"] -= refund["amount"]
                if tx["status"] == "reversed":
                    tx["status"] = "success"
            data = {
                "status": refund["status"],
                "transaction_reference": refund["reference"],
                "refund_reference": refund["refund_reference"],
                "amount": str(refund["amount"]) if success else refund["amount"],
                "currency": refund["currency"],
                "processor": "mpgs_zen",
                "customer": {"first_name": None, "last_name": None, "email": tx["email"]},
                "integration": INTEGRATION_ID,
                "domain": "test",
            }
        if self.webhook_url:
            self.send_webhook(self.webhook_url, "refund.processed" if success else "refund.failed", data)
        return data

    def open_dispute(self, reference: str, refund_amount: int | None = None) -> dict[str, Any]:
        """A chargeback on a paid transaction: ``charge.dispute.create`` data."""
        with self._lock:
            tx = self._get(reference)
            dispute_id = next(self._ids)
            self._disputes[dispute_id] = {
                "id": dispute_id,
                "reference": reference,
                "refund_amount": tx["amount"] if refund_amount is None else refund_amount,
                "status": "awaiting-merchant-feedback",
                "resolution": None,
                "created_at": _now(),
                "resolved_at": None,
            }
            data = self._dispute_data(self._disputes[dispute_id])
        if self.webhook_url:
            self.send_webhook(self.webhook_url, "charge.dispute.create", data)
        return data

    def resolve_dispute(self, dispute_id: int | str, resolution: str = "merchant-accepted") -> dict[str, Any]:
        """Close a dispute: ``declined`` (merchant wins), ``merchant-accepted`` or
        ``auto-accepted`` (the customer is refunded and the transaction reversed)."""
        with self._lock:
            dispute = self._disputes[int(dispute_id)]
            dispute.update(status="resolved", resolution=resolution, resolved_at=_now())
            if resolution != "declined":
                self._transactions[dispute["reference"]]["status"] = "reversed"
            data = self._dispute_data(dispute)
        if self.webhook_url:
            self.send_webhook(self.webhook_url, "charge.dispute.resolve", data)
        return data

    # -- the API ------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one API request (already routed to the API, not the checkout page)."""
        body: Any = None
        try:
            self._authorize(headers.get("authorization"))
            if method == "POST":
                body = self._json_body(raw)
            if method == "POST" and path == "/transaction/initialize":
                result = 200, self._initialize(body)
            elif method == "GET" and path.startswith("/transaction/verify/"):
                result = 200, self._verify(urllib.parse.unquote(path.removeprefix("/transaction/verify/")))
            elif method == "POST" and path == "/refund":
                result = 200, self._refund(body)
            else:
                raise PaystackRefusal(404, "Not found (fake)")
        except PaystackRefusal as refusal:
            result = refusal.status, {"status": False, "message": refusal.message}
        if body is None and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers, raw, body, result[0]))
        return result

    def _authorize(self, authorization: str | None) -> None:
        if not authorization:
            raise PaystackRefusal(401, "No Authorization Header was found")
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key:
            raise PaystackRefusal(401, "Format is Authorization Bearer [secret key]")
        if not hmac.compare_digest(key.encode(), self.secret_key.encode()):
            raise PaystackRefusal(401, "Invalid key")

    @staticmethod
    def _json_body(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise PaystackRefusal(400, "Invalid JSON body (fake)") from None
        if not isinstance(body, dict):
            raise PaystackRefusal(400, "Invalid JSON body (fake)")
        return body

    def _initialize(self, body: dict[str, Any]) -> dict[str, Any]:
        email = body.get("email")
        if not email:
            raise PaystackRefusal(400, "Email is not allowed to be empty")
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise PaystackRefusal(400, "Invalid Email Address Passed")
        amount = _amount(body.get("amount"))
        currency = body.get("currency") or "NGN"
        if currency not in self.currencies:
            raise PaystackRefusal(400, "Currency not supported by merchant")
        reference = body.get("reference")
        if reference is None:
            reference = secrets.token_hex(8)
        elif not isinstance(reference, str) or not _REFERENCE_OK.fullmatch(reference):
            raise PaystackRefusal(400, "Invalid character in transaction reference")
        callback_url = body.get("callback_url")
        if callback_url is not None and (
            not isinstance(callback_url, str) or urllib.parse.urlsplit(callback_url).scheme not in {"http", "https"}
        ):
            raise PaystackRefusal(400, "Invalid callback_url (fake)")
        metadata = body.get("metadata")
        if isinstance(metadata, str):  # Paystack also takes it as stringified JSON
            try:
                metadata = json.loads(metadata)
            except ValueError:
                raise PaystackRefusal(400, "Invalid metadata (fake)") from None
        if metadata is not None and not isinstance(metadata, dict):
            raise PaystackRefusal(400, "Invalid metadata (fake)")
        access_code = secrets.token_hex(8)
        with self._lock:
            if reference in self._transactions:
                raise PaystackRefusal(400, "Duplicate Transaction Reference")
            self._transactions[reference] = {
                "id": next(self._ids),
                "reference": reference,
                "access_code": access_code,
                "amount": amount,
                "currency": currency,
                "email": email,
                "metadata": metadata,
                "callback_url": callback_url,
                "status": "abandoned",
                "gateway_response": "The transaction was not completed",
                "created_at": _now(),
                "paid_at": None,
                "refunded": 0,
            }
            self._by_access_code[access_code] = reference
        return {
            "status": True,
            "message": "Authorization URL created",
            "data": {
                "authorization_url": f"{self.endpoint}/checkout/{access_code}",
                "access_code": access_code,
                "reference": reference,
            },
        }

    def _verify(self, reference: str) -> dict[str, Any]:
        with self._lock:
            tx = self._transactions.get(reference)
            if tx is None:
                raise PaystackRefusal(400, "Transaction reference not found")
            return {"status": True, "message": "Verification successful", "data": self._transaction_data(tx)}

    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        key = body.get("transaction")
        if key in (None, "") or isinstance(key, (bool, dict, list)):
            raise PaystackRefusal(400, "Transaction reference or id is required (fake)")
        with self._lock:
            tx = self._transactions.get(str(key)) or next(
                (t for t in self._transactions.values() if str(t["id"]) == str(key)), None
            )
            if tx is None:
                raise PaystackRefusal(404, "Transaction not found")
            if tx["status"] == "reversed" or (tx["status"] == "success" and tx["refunded"] >= tx["amount"]):
                raise PaystackRefusal(400, "Transaction has been fully reversed")
            if tx["status"] != "success":
                raise PaystackRefusal(400, "Cannot refund a transaction that was not successful (fake)")
            remaining = tx["amount"] - tx["refunded"]
            amount = remaining if body.get("amount") in (None, "") else _amount(body.get("amount"))
            if amount > remaining:
                raise PaystackRefusal(400, "Refund amount cannot be more than the transaction amount (fake)")
            currency = body.get("currency") or tx["currency"]
            if currency != tx["currency"]:
                raise PaystackRefusal(400, "Currency does not match the transaction's (fake)")
            tx["refunded"] += amount
            if tx["refunded"] >= tx["amount"]:
                tx["status"] = "reversed"
            refund_id = next(self._ids)
            created = _now()
            refund = {
                "id": refund_id,
                "reference": tx["reference"],
                "amount": amount,
                "currency": currency,
                "status": "pending",
                "merchant_note": body.get("merchant_note")
                or f"Refund for transaction {tx['reference']} by merchant@example.com",
                "customer_note": body.get("customer_note") or f"Refund for transaction {tx['reference']}",
                "created_at": created,
            }
            self._refunds[refund_id] = refund
            transaction = self._transaction_data(tx)
        return {
            "status": True,
            "message": "Refund has been queued for processing",
            "data": {
                "transaction": {
                    field: transaction[field]
                    for field in ("id", "domain", "reference", "amount", "paid_at", "channel", "currency")
                },
                "integration": INTEGRATION_ID,
                "deducted_amount": 0,
                "channel": None,
                "merchant_note": refund["merchant_note"],
                "customer_note": refund["customer_note"],
                "status": "pending",
                "refunded_by": "merchant@example.com",
                "expected_at": created,
                "currency": currency,
                "domain": "test",
                "amount": amount,
                "fully_deducted": False,
                "id": refund_id,
                "createdAt": created,
                "updatedAt": created,
            },
        }

    # -- checkout page ------------------------------------------------------------------

    def checkout_page(self, access_code: str) -> tuple[int, str]:
        with self._lock:
            reference = self._by_access_code.get(access_code)
            tx = copy.deepcopy(self._transactions[reference]) if reference else None
        if tx is None:
            return 404, "<p>Unknown checkout</p>"
        major = f"{tx['amount'] / 100:,.2f}"
        state = "" if tx["status"] == "abandoned" else f"<p>This transaction is {html.escape(tx['status'])}.</p>"
        return 200, (
            "<!doctype html><title>Fake Paystack checkout</title>"
            f"<h1>Pay {html.escape(tx['currency'])} {major}</h1>"
            f"<p>{html.escape(tx['email'])} &middot; reference {html.escape(tx['reference'])}</p>{state}"
            f'<form method="post" action="/checkout/{access_code}/pay"><button>Pay</button></form>'
            f'<form method="post" action="/checkout/{access_code}/fail"><button>Fail</button></form>'
        )

    def checkout_action(self, access_code: str, action: str) -> tuple[int, str, str | None]:
        with self._lock:
            reference = self._by_access_code.get(access_code)
        if reference is None or action not in {"pay", "fail"}:
            return 404, "<p>Unknown checkout</p>", None
        try:
            self.complete(reference, success=action == "pay")
        except ValueError as exc:
            return 409, f"<p>{html.escape(str(exc))}</p>", None
        with self._lock:
            callback = self._transactions[reference]["callback_url"]
        if callback:
            query = urllib.parse.urlencode({"trxref": reference, "reference": reference})
            return 303, "", f"{callback}{'&' if '?' in callback else '?'}{query}"
        return 200, f"<p>Payment {'successful' if action == 'pay' else 'failed'}.</p>", None

    # -- shapes -------------------------------------------------------------------------

    def _get(self, reference: str) -> dict[str, Any]:
        try:
            return self._transactions[reference]
        except KeyError:
            raise KeyError(f"no transaction {reference!r}") from None

    def _transaction_data(self, tx: dict[str, Any]) -> dict[str, Any]:
        """The documented verify / charge.success ``data`` shape (fields we can fill)."""
        customer_id = int(hashlib.sha256(tx["email"].encode()).hexdigest()[:7], 16)
        paid = tx["paid_at"] is not None
        return {
            "id": tx["id"],
            "domain": "test",
            "status": tx["status"],
            "reference": tx["reference"],
            "amount": tx["amount"],
            "message": None,
            "gateway_response": tx["gateway_response"],
            "paid_at": tx["paid_at"],
            "created_at": tx["created_at"],
            "channel": "card",
            "currency": tx["currency"],
            "ip_address": "127.0.0.1",
            "metadata": copy.deepcopy(tx["metadata"]) if tx["metadata"] is not None else "",
            "log": None,
            "fees": (tx["amount"] * 15 + 999) // 1000 if paid else None,
            "customer": {
                "id": customer_id,
                "first_name": None,
                "last_name": None,
                "email": tx["email"],
                "customer_code": f"CUS_{hashlib.sha256(tx['email'].encode()).hexdigest()[:15]}",
                "phone": None,
                "metadata": None,
                "risk_action": "default",
            },
            "authorization": {
                "authorization_code": f"AUTH_{tx['access_code'][:10]}",
                "bin": "408408",
                "last4": "4081",
                "exp_month": "12",
                "exp_year": "2030",
                "channel": "card",
                "card_type": "visa ",
                "bank": "TEST BANK",
                "country_code": "NG",
                "brand": "visa",
                "reusable": True,
                "signature": "SIG_fake",
                "account_name": None,
            }
            if paid
            else {},
            "plan": None,
            "order_id": None,
            "paidAt": tx["paid_at"],
            "createdAt": tx["created_at"],
            "requested_amount": tx["amount"],
            "transaction_date": tx["created_at"],
        }

    def _dispute_data(self, dispute: dict[str, Any]) -> dict[str, Any]:
        """The documented ``charge.dispute.*`` ``data`` shape."""
        tx = self._transactions[dispute["reference"]]
        transaction = self._transaction_data(tx)
        return {
            "id": dispute["id"],
            "refund_amount": dispute["refund_amount"],
            "currency": tx["currency"],
            "status": dispute["status"],
            "resolution": dispute["resolution"],
            "domain": "test",
            "transaction": transaction,
            "transaction_reference": None,
            "category": "chargeback",
            "customer": transaction["customer"],
            "bin": "408408",
            "last4": "4081",
            "dueAt": None,
            "resolvedAt": dispute["resolved_at"],
            "evidence": None,
            "attachments": None,
            "note": None,
            "history": [{"status": "pending", "by": tx["email"], "createdAt": dispute["created_at"]}],
            "messages": [{"sender": tx["email"], "body": "Customer disputes the charge", "createdAt": dispute["created_at"]}],
            "created_at": dispute["created_at"],
            "updated_at": dispute["resolved_at"] or dispute["created_at"],
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakePaystack
    server_version = "FakePaystack/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/checkout/"):
            parts = path.removeprefix("/checkout/").split("/")
            if method == "GET" and len(parts) == 1:
                status, page = self.fake.checkout_page(parts[0])
                self._send(status, page.encode(), "text/html; charset=utf-8")
                return
            if method == "POST" and len(parts) == 2:
                status, page, location = self.fake.checkout_action(parts[0], parts[1])
                self._send(status, page.encode(), "text/html; charset=utf-8", location=location)
                return
            self._send(404, b"<p>Not found</p>", "text/html; charset=utf-8")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload = self.fake.handle(method, path, headers, raw)
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str, *, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)


__all__ = ["DEFAULT_SECRET_KEY", "FakePaystack", "RecordedRequest"]
