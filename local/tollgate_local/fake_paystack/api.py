"""The API emulation: what Tollgate calls, checked the way Paystack checks it.

``POST /transaction/initialize`` and ``GET /transaction/verify/{reference}``:
``Authorization: Bearer <secret key>`` (401 otherwise), a JSON body, the required fields, an
integer amount in the currency's minor unit, a valid email, a reference of alphanumerics and
``- . =`` only, and a reference used once ("Duplicate Transaction Reference"). Errors carry
Paystack's documented message where it documents one; the few marked ``(fake)`` are this
fake's own wording. Every request is recorded for assertions. The answers' bodies come from
``payloads.py`` (Paystack's own examples). Subclasses serve more endpoints by extending
:meth:`PaystackApi._route` (``refunds.py``: refunds; ``transfers.py``: payouts).
"""

from __future__ import annotations

import copy
import hmac
import itertools
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tollgate_local.fake_paystack import payloads

_REFERENCE_OK = re.compile(r"^[A-Za-z0-9.=-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")
DEFAULT_SECRET_KEY = "sk_test_tollgate_fake_paystack"
DEFAULT_CURRENCIES = ("NGN", "GHS", "ZAR", "USD", "KES")

Answer = tuple[int, dict[str, Any]]


class PaystackRefusal(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra  # more of the error body, where Paystack documents it (type, code, meta)

    @property
    def body(self) -> dict[str, Any]:
        return {"status": False, "message": self.message, **self.extra}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    body: Any  # the JSON body, parsed (None if none or not JSON)
    status: int  # what the fake answered
    query: dict[str, str] = field(default_factory=dict)  # the query string's parameters

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


def amount_of(value: Any) -> int:
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


def json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise PaystackRefusal(400, "Invalid JSON body (fake)") from None
    if not isinstance(body, dict):
        raise PaystackRefusal(400, "Invalid JSON body (fake)")
    return body


def _metadata(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):  # Paystack also takes it as stringified JSON
        try:
            value = json.loads(value)
        except ValueError:
            raise PaystackRefusal(400, "Invalid metadata (fake)") from None
    if value is not None and not isinstance(value, dict):
        raise PaystackRefusal(400, "Invalid metadata (fake)")
    return value


class PaystackApi:
    """Paystack's state (transactions, disputes) and its API over it."""

    def __init__(self, secret_key: str = DEFAULT_SECRET_KEY, *, currencies: Iterable[str] = DEFAULT_CURRENCIES) -> None:
        self.secret_key = secret_key
        self.currencies = frozenset(currencies)
        self._lock = threading.Lock()
        self._ids = itertools.count(3_000_001)
        self.reset()

    @property
    def endpoint(self) -> str:
        """Where the fake is served (authorization URLs point at its checkout page)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every transaction, dispute and recorded request."""
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._transactions: dict[str, dict[str, Any]] = {}
            self._by_access_code: dict[str, str] = {}
            self._disputes: dict[int, dict[str, Any]] = {}

    def clear_requests(self) -> None:
        """Forget the recorded requests only (the state stays)."""
        with self._lock:
            self._requests = []

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
            return payloads.transaction(self._get(reference))

    def transaction_for_checkout(self, access_code: str) -> dict[str, Any] | None:
        """A copy of the transaction whose checkout page ``access_code`` opens, if any."""
        with self._lock:
            reference = self._by_access_code.get(access_code)
            return copy.deepcopy(self._transactions[reference]) if reference else None

    def _get(self, reference: str) -> dict[str, Any]:
        try:
            return self._transactions[reference]
        except KeyError:
            raise KeyError(f"no transaction {reference!r}") from None

    # -- the API ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one API request (already routed to the API, not the checkout page).

        ``target`` is the path, with its query string if any (``/bank?country=nigeria``)."""
        split = urllib.parse.urlsplit(target)
        path, query = split.path, dict(urllib.parse.parse_qsl(split.query))
        try:
            self._authorize(headers.get("authorization"))
            result = self._route(method, path, query, raw)
        except PaystackRefusal as refusal:
            result = refusal.status, refusal.body
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers, raw, body, result[0], query))
        return result

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Answer:
        """One authorized request to its endpoint (subclasses serve more, then defer to this)."""
        if method == "POST" and path == "/transaction/initialize":
            return 200, self._initialize(json_body(raw))
        if method == "GET" and path.startswith("/transaction/verify/"):
            return 200, self._verify(urllib.parse.unquote(path.removeprefix("/transaction/verify/")))
        raise PaystackRefusal(404, "Not found (fake)")

    def _authorize(self, authorization: str | None) -> None:
        if not authorization:
            raise PaystackRefusal(401, "No Authorization Header was found")
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key:
            raise PaystackRefusal(401, "Format is Authorization Bearer [secret key]")
        if not hmac.compare_digest(key.encode(), self.secret_key.encode()):
            raise PaystackRefusal(401, "Invalid key")

    def _initialize(self, body: dict[str, Any]) -> dict[str, Any]:
        email = body.get("email")
        if not email:
            raise PaystackRefusal(400, "Email is not allowed to be empty")
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise PaystackRefusal(400, "Invalid Email Address Passed")
        amount = amount_of(body.get("amount"))
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
        metadata = _metadata(body.get("metadata"))
        access_code = secrets.token_hex(8)
        with self._lock:
            if reference in self._transactions:
                raise PaystackRefusal(400, "Duplicate Transaction Reference")
            tx = self._transactions[reference] = {
                "id": next(self._ids), "reference": reference, "access_code": access_code, "amount": amount,
                "currency": currency, "email": email, "metadata": metadata, "callback_url": callback_url,
                "status": "abandoned", "gateway_response": "The transaction was not completed",
                "created_at": payloads.now(), "paid_at": None, "refunded": 0,
            }
            self._by_access_code[access_code] = reference
            return payloads.initialized(tx, f"{self.endpoint}/checkout/{access_code}")

    def _verify(self, reference: str) -> dict[str, Any]:
        with self._lock:
            tx = self._transactions.get(reference)
            if tx is None:
                raise PaystackRefusal(400, "Transaction reference not found")
            return payloads.verified(tx)


__all__ = [
    "DEFAULT_CURRENCIES",
    "DEFAULT_SECRET_KEY",
    "PaystackApi",
    "PaystackRefusal",
    "RecordedRequest",
    "amount_of",
    "json_body",
]
