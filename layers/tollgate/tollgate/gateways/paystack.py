"""Paystack adapter: the standard library only (urllib, hmac, hashlib, json) - no SDK.

What Paystack's API does, and what this adapter makes of it
-----------------------------------------------------------
* Every call carries ``Authorization: Bearer <secret key>`` and a JSON body, and answers
  ``{"status": true|false, "message": ..., "data": ...}``. A non-2xx answer, or
  ``"status": false``, becomes a :class:`GatewayError` carrying Paystack's message (never the
  key). A call that does not answer within ``timeout`` seconds (10 by default) is a
  :class:`GatewayError` too.
* **Idempotency.** Paystack documents no idempotency-key header, so none is sent (a header
  it silently ignores would only suggest a guarantee that does not exist). For a payment the
  transaction ``reference`` is the idempotency key: it is derived from the purchase id, and
  Paystack refuses a second initialize with the same reference ("Duplicate Transaction
  Reference", a GatewayError here) - so a replayed checkout can never open a second
  transaction; the caller replays the session it stored. Refunds have no idempotency at
  Paystack at all: the key is written into the refund's ``merchant_note`` (a documented,
  free-text field) so a refund can be traced back, but a refund retried after a timeout may
  be created twice - the caller must check the transaction's refunds before retrying.
* **References.** Paystack allows only alphanumerics and ``- . =`` in a merchant-chosen
  reference. Purchase ids are ``<prefix>_<base32>``, so :func:`reference_for` turns ``_``
  into ``-`` (``pur_abc`` -> ``pur-abc``); the session's ``reference`` is what Paystack knows
  the payment by and what :meth:`verify_payment` / :meth:`refund` take. Webhooks name the
  purchase through ``metadata.purchase_id`` (always sent).
* **Email.** Paystack requires the payer's email to initialize a transaction, so a request
  without one is refused here with :class:`ValidationFailed` (422) before any call is made.
* **Amounts** are integers in the currency's minor unit (kobo for NGN), in both directions.

Webhooks
--------
``x-paystack-signature`` is the hex HMAC-SHA512 of the raw request body keyed with the
secret key; it is compared in constant time over the exact bytes received. Paystack events
carry no event id, so one is built from the event name and the object's own id:
``charge.success:<transaction id>``, ``charge.dispute.create:<dispute id>``,
``charge.dispute.resolve:<dispute id>``; refund events have no ``id`` in their payload, so
``refund.processed:<refund_reference>`` (the processor's refund reference) is used, and
failing that a hash of the event's data. A retried delivery of the same event gets the same
id. Mapping:

* ``charge.success``         -> ``payment_succeeded`` (reference, amount, currency, purchase id)
* ``refund.processed``       -> ``refund`` with one :class:`Refund` (``data.id`` if present, else
  ``refund_reference``; the amount may arrive as a string and is parsed exactly). Beware:
  Paystack's documented refund payloads have no ``id``, and ``refund_reference`` is the
  processor's reference - not the refund id that ``POST /refund`` answered (which
  :meth:`PaystackGateway.refund` returns). A refund made here and its ``refund.processed``
  therefore carry different ids; match them on the transaction reference and amount.
* ``charge.dispute.create``  -> ``dispute_opened``
* ``charge.dispute.resolve`` -> ``dispute_closed``: ``"won"`` when the resolution is
  ``declined`` (the merchant contested the claim and it was declined), otherwise ``"lost"``
  (``merchant-accepted``, ``auto-accepted``: the customer is refunded)
* anything else             -> ``ignored``
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from tollgate.errors import ValidationFailed
from tollgate.gateways.base import (
    GatewayEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    Refund,
)
from tollgate.gateways.exceptions import GatewayError, GatewayNotConfigured, InvalidSignature

DEFAULT_API_BASE = "https://api.paystack.co"
DEFAULT_TIMEOUT_S = 10.0
SIGNATURE_HEADER = "x-paystack-signature"

# Paystack: "Only -, ., = and alphanumeric characters allowed" in a transaction reference.
_REFERENCE_OK = re.compile(r"^[A-Za-z0-9.=-]+$")
# What reference_for makes of an id shaped like tollgate.ids' (<prefix>_<base32>).
_OWN_REFERENCE = re.compile(r"^([a-z0-9]+)-([a-z2-7]+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_MAX_MESSAGE = 300
_MAX_NOTE = 200

# The dispute resolution in which the merchant keeps the money (Paystack's Resolve Dispute
# API takes "merchant-accepted" or "declined"; webhooks also show "auto-accepted").
_WON_RESOLUTIONS = frozenset({"declined"})

KeySource = Callable[[], str | None]


def reference_for(purchase_id: str) -> str:
    """The Paystack transaction reference for a purchase id (``pur_abc`` -> ``pur-abc``)."""
    reference = purchase_id.replace("_", "-")
    if not _REFERENCE_OK.fullmatch(reference):
        raise ValueError(f"purchase id {purchase_id!r} cannot be a Paystack reference")
    return reference


def purchase_id_for(reference: str) -> str:
    """Best effort inverse of :func:`reference_for` (webhooks without our metadata)."""
    match = _OWN_REFERENCE.fullmatch(reference)
    return f"{match.group(1)}_{match.group(2)}" if match else reference


def sign(secret_key: str, raw_body: bytes) -> str:
    """The ``x-paystack-signature`` Paystack sends with ``raw_body``."""
    return hmac.new(secret_key.encode(), raw_body, hashlib.sha512).hexdigest()


class PaystackGateway(PaymentGateway):
    name = "paystack"

    def __init__(
        self,
        secret_key: str | KeySource | None,
        *,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        scheme = urllib.parse.urlsplit(api_base).scheme
        if scheme not in {"https", "http"}:
            raise ValueError(f"Paystack API base must be an http(s) URL, not {api_base!r}")
        self._key_source: KeySource = secret_key if callable(secret_key) else (lambda: secret_key)
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_config(cls) -> PaystackGateway:
        """The key is looked up at each call (env, else SSM / Secrets Manager, cached there),
        so a deployment without it starts fine and answers 503 only where Paystack is used."""
        from tollgate.secrets import secret

        api_base = os.environ.get("PAYSTACK_API_BASE") or DEFAULT_API_BASE
        return cls(lambda: secret("PAYSTACK_SECRET_KEY"), api_base=api_base)

    # -- the interface ----------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentSession:
        if not request.email or not _EMAIL.fullmatch(request.email):
            raise ValidationFailed("Paying with Paystack needs the payer's email address", field="email")
        amount = _whole_amount(request.amount)
        if amount <= 0:
            raise ValueError("a payment amount must be positive")
        metadata = {**request.metadata, "purchase_id": request.purchase_id}
        body: dict[str, Any] = {
            "email": request.email,
            "amount": amount,
            "currency": request.currency.upper(),
            "reference": reference_for(request.purchase_id),
            "metadata": metadata,
        }
        if request.callback_url:
            body["callback_url"] = request.callback_url
        data = self._data(self._call("POST", "/transaction/initialize", body, what="initialize"), "initialize")
        try:
            return PaymentSession(
                reference=str(data["reference"]),
                authorization_url=str(data["authorization_url"]),
                access_code=str(data["access_code"]),
            )
        except KeyError as exc:
            raise GatewayError(f"Paystack initialize answered without {exc.args[0]}", gateway=self.name) from None

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        key = self._key()
        values = {value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER}
        if len(values) > 1:
            raise InvalidSignature("more than one x-paystack-signature header")
        given = next(iter(values), "").strip().lower()
        if not given:
            raise InvalidSignature("missing x-paystack-signature header")
        if not hmac.compare_digest(sign(key, raw_body).encode(), given.encode()):
            raise InvalidSignature("x-paystack-signature does not match the body")
        try:
            payload = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed("Paystack webhook body is not JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise ValidationFailed("Paystack webhook body has no event")
        return _to_event(payload["event"], payload.get("data"))

    def verify_payment(self, reference: str) -> PaymentStatus:
        path = "/transaction/verify/" + urllib.parse.quote(reference, safe="")
        data = self._data(self._call("GET", path, None, what="verify"), "verify")
        status = str(data.get("status") or "")
        try:
            return PaymentStatus(
                reference=str(data.get("reference") or reference),
                succeeded=status == "success",
                status=status,
                amount=_whole_amount(data.get("amount")),
                currency=str(data.get("currency") or "").upper(),
                purchase_id=_str_or_none(_metadata(data.get("metadata")).get("purchase_id")),
            )
        except ValueError as exc:
            raise GatewayError(f"Paystack verify answered an unusable amount: {exc}", gateway=self.name) from None

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str) -> Refund:
        body: dict[str, Any] = {"transaction": reference}
        if amount is not None:
            amount = _whole_amount(amount)
            if amount <= 0:
                raise ValueError("a refund amount must be positive")
            body["amount"] = amount
        body["merchant_note"] = f"Tollgate refund {idempotency_key}"[:_MAX_NOTE]
        data = self._data(self._call("POST", "/refund", body, what="refund"), "refund")
        try:
            return Refund(refund_id=str(data["id"]), amount=_whole_amount(data.get("amount", amount)))
        except (KeyError, ValueError):
            raise GatewayError("Paystack refund answered without a refund id or amount", gateway=self.name) from None

    # -- HTTP -------------------------------------------------------------------------

    def _key(self) -> str:
        key = self._key_source()
        if not key:
            raise GatewayNotConfigured("Paystack is not configured in this deployment (PAYSTACK_SECRET_KEY)")
        return key

    def _call(self, method: str, path: str, body: dict[str, Any] | None, *, what: str) -> dict[str, Any]:
        key = self._key()
        request = urllib.request.Request(  # noqa: S310 - api_base is checked to be http(s) in __init__
            self.api_base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "tollgate-paystack/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - see above
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, _read(exc)
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise GatewayError(
                _scrub(f"Paystack {what} failed: {type(reason).__name__}: {reason}", key), gateway=self.name
            ) from None
        payload = _json_object(raw)
        message = _scrub(str(payload.get("message") or f"HTTP {status}")[:_MAX_MESSAGE], key)
        if not 200 <= status < 300:
            raise GatewayError(f"Paystack {what} failed ({status}): {message}", gateway=self.name, gateway_status=status)
        if payload.get("status") is not True:
            raise GatewayError(f"Paystack {what} refused: {message}", gateway=self.name, gateway_status=status)
        return payload

    def _data(self, payload: dict[str, Any], what: str) -> dict[str, Any]:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise GatewayError(f"Paystack {what} answered without data", gateway=self.name)
        return data


# -- webhook mapping --------------------------------------------------------------------


def _to_event(event: str, data: Any) -> GatewayEvent:
    data = data if isinstance(data, dict) else {}
    if event == "charge.success":
        reference = _required_str(data, "reference", event)
        return GatewayEvent(
            event_id=_event_id(event, data),
            kind="payment_succeeded",
            raw_type=event,
            purchase_id=_purchase_id(data.get("metadata"), reference),
            reference=reference,
            amount=_event_amount(data.get("amount"), event),
            currency=str(data.get("currency") or "").upper() or None,
        )
    if event == "refund.processed":
        reference = _required_str(data, "transaction_reference", event)
        # Paystack's refund events carry no "id": the processor's refund_reference names the
        # refund (it is not the id POST /refund answered - see the module docstring).
        refund_id = _plain(data.get("id")) or _plain(data.get("refund_reference")) or _data_hash(data)
        return GatewayEvent(
            event_id=f"{event}:{refund_id}",
            kind="refund",
            raw_type=event,
            purchase_id=purchase_id_for(reference),
            reference=reference,
            currency=str(data.get("currency") or "").upper() or None,
            refunds=(Refund(refund_id=str(refund_id), amount=_event_amount(data.get("amount"), event)),),
        )
    if event in {"charge.dispute.create", "charge.dispute.resolve"}:
        transaction = data.get("transaction") if isinstance(data.get("transaction"), dict) else {}
        reference = transaction.get("reference") or data.get("transaction_reference")
        if not reference:
            raise ValidationFailed(f"Paystack {event} names no transaction")
        dispute_id = _required_str(data, "id", event)
        refund_amount = data.get("refund_amount")
        closed = event == "charge.dispute.resolve"
        resolution = str(data.get("resolution") or "").lower()
        return GatewayEvent(
            event_id=f"{event}:{dispute_id}",
            kind="dispute_closed" if closed else "dispute_opened",
            raw_type=event,
            purchase_id=_purchase_id(transaction.get("metadata"), str(reference)),
            reference=str(reference),
            currency=str(data.get("currency") or transaction.get("currency") or "").upper() or None,
            dispute_id=dispute_id,
            dispute_status=("won" if resolution in _WON_RESOLUTIONS else "lost") if closed else None,
            dispute_amount=_event_amount(refund_amount, event) if refund_amount not in (None, "") else None,
        )
    return GatewayEvent(event_id=_event_id(event, data), kind="ignored", raw_type=event)


def _event_id(event: str, data: dict[str, Any]) -> str:
    return f"{event}:{_plain(data.get('id')) or _data_hash(data)}"


def _plain(value: Any) -> str | None:
    """A scalar id as text; None for missing, empty or structured values."""
    if value in (None, "") or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _data_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "h" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _purchase_id(metadata: Any, reference: str) -> str:
    return _str_or_none(_metadata(metadata).get("purchase_id")) or purchase_id_for(reference)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _metadata(metadata: Any) -> dict[str, Any]:
    """Paystack echoes metadata as an object, a JSON string, ``""``, ``0`` or ``null``."""
    if isinstance(metadata, str) and metadata.strip().startswith("{"):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    return metadata if isinstance(metadata, dict) else {}


def _required_str(data: dict[str, Any], field: str, event: str) -> str:
    value = data.get(field)
    if value in (None, "") or isinstance(value, (dict, list, bool)):
        raise ValidationFailed(f"Paystack {event} has no {field}")
    return str(value)


def _event_amount(value: Any, event: str) -> int:
    try:
        amount = _whole_amount(value)
    except ValueError:
        amount = -1
    if amount < 0:
        raise ValidationFailed(f"Paystack {event} has no usable amount")
    return amount


def _whole_amount(value: Any) -> int:
    """An exact minor-unit amount: an int, or a string of digits (Paystack sends both)."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"not a whole minor-unit amount: {value!r}")


# -- small helpers ----------------------------------------------------------------------


def _read(response: Any) -> bytes:
    try:
        return response.read()
    except (OSError, http.client.HTTPException):
        return b""


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


__all__ = ["DEFAULT_API_BASE", "SIGNATURE_HEADER", "PaystackGateway", "purchase_id_for", "reference_for", "sign"]
