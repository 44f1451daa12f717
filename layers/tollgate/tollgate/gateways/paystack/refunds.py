"""Paystack refunds, made once per idempotency key although Paystack takes no such key.

``POST /refund`` has no idempotency key, so :meth:`PaystackRefunds.refund` writes the key into
the refund's ``merchant_note`` as ``Tollgate refund <key>`` (:func:`refund_marker`), and
before it creates a refund it lists the transaction's refunds (``GET /refund?transaction=<id>``,
the transaction's numeric id, which Paystack's List Refunds takes; the id comes from
verifying the reference) and adopts the one whose note carries that marker. So a call
retried after an unknown outcome (a timeout, a 5xx once the refund was made) returns the
refund the first attempt made instead of making a second one.

A Paystack refund starts ``pending`` and ends ``processed`` (-> ``succeeded``) or ``failed``
(-> ``failed``); ``processing``, ``needs-attention`` or any other status is ``pending``. Its
end comes with a ``refund.processed`` / ``refund.failed`` webhook (``events.py``), which names
the transaction and amount but not the refund id ``POST /refund`` answered. Paystack keeps no
metadata on a refund: the Refund's ``tollgate_refund_id`` is always None (the marker is not
read back into it). :meth:`PaystackRefunds.get_refund` fetches one by its id (``GET /refund/{id}``),
for the reconciliation job.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace
from typing import Any

from tollgate.gateways.base import Refund, RefundStatus
from tollgate.gateways.exceptions import GatewayError
from tollgate.gateways.models import answer_object
from tollgate.gateways.paystack import schemas
from tollgate.gateways.paystack.client import PaystackClient, PaystackRefusal, not_found
from tollgate.gateways.paystack.events import GATEWAY, REFUND_FAILED

MARKER_PREFIX = "Tollgate refund "
MAX_NOTE = 200  # the longest merchant_note written (a longer marker would be cut, and never match)
PER_PAGE = 100
MAX_PAGES = 10  # a transaction has a few refunds at most (each takes part of its amount)

# Paystack's final refund statuses; any other (pending, processing, needs-attention...) is in flight.
REFUND_STATUSES: dict[str, RefundStatus] = {"processed": "succeeded", "failed": "failed"}


def refund_status(status: str | None) -> RefundStatus:
    """A Paystack refund status as a Refund's."""
    return REFUND_STATUSES.get((status or "").strip().lower(), "pending")


def refund_marker(idempotency_key: str) -> str:
    """The ``merchant_note`` that marks the refund made for ``idempotency_key``."""
    marker = MARKER_PREFIX + idempotency_key
    if not idempotency_key or len(marker) > MAX_NOTE or not marker.isprintable():
        raise ValueError(f"a refund needs an idempotency key of 1 to {MAX_NOTE - len(MARKER_PREFIX)} printable characters")
    return marker


def carries_marker(note: str | None, marker: str) -> bool:
    """Whether a ``merchant_note`` carries ``marker`` as a whole (``... key-1`` is not ``... key-12``)."""
    return bool(note) and re.search(rf"(?:^|\s){re.escape(marker)}(?:\s|$)", note or "") is not None


def refund_from(record: schemas.Refund, *, asked: int | None = None) -> Refund:
    """A Paystack refund as a Refund (``asked``: the amount, when Paystack's answer leaves it out)."""
    amount = record.amount if record.amount is not None else asked
    if amount is None:
        raise GatewayError("Paystack refund answered without the amount refunded", gateway=GATEWAY)
    status = refund_status(record.status)
    return Refund(refund_id=record.id, amount=amount, status=status,
                  failure=REFUND_FAILED if status == "failed" else None)


class PaystackRefunds:
    """The refund half of the Paystack adapter (mixed into :class:`~tollgate.gateways.paystack.PaystackGateway`)."""

    client: PaystackClient

    def refund(self, reference: str, amount: int | None, *, idempotency_key: str,
               refund_id: str | None = None) -> Refund:
        """Refund the transaction ``reference``, once per ``idempotency_key`` (see the module).
        ``refund_id`` is not sent: Paystack keeps no metadata on a refund."""
        marker = refund_marker(idempotency_key)
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
            raise ValueError("a refund amount is a positive whole number of minor units")
        found = self.find_refund(reference, idempotency_key)
        if found is not None:
            if amount is not None and found.amount != amount:
                # What Stripe answers a key reused with other parameters; retrying cannot change it.
                raise GatewayError(f"The Paystack refund {found.refund_id} for this key is for another amount",
                                   gateway=GATEWAY, gateway_status=400)
            return found
        body: dict[str, Any] = {"transaction": reference}
        if amount is not None:
            body["amount"] = amount
        body["merchant_note"] = marker
        data = self.client.call("POST", "/refund", body, what="refund")
        return refund_from(answer_object(schemas.Refund, data, gateway=GATEWAY, what="refund"), asked=amount)

    def find_refund(self, reference: str, idempotency_key: str) -> Refund | None:
        """The refund made for ``idempotency_key`` on the transaction ``reference``, as Paystack
        reports it now, or None if there is none."""
        marker = refund_marker(idempotency_key)
        for record in self._refunds_of(self._transaction_id(reference)):
            if carries_marker(record.merchant_note, marker):
                return refund_from(record)
        return None

    def get_refund(self, refund_id: str) -> Refund | None:
        """``GET /refund/{id}``: the refund as Paystack reports it now, with its currency; None
        when Paystack does not know the id (404, or a 4xx saying it was not found)."""
        if not refund_id:
            raise ValueError("get_refund needs a refund id")
        try:
            data = self.client.call("GET", "/refund/" + urllib.parse.quote(refund_id, safe=""), None,
                                    what="fetch refund")
        except PaystackRefusal as exc:
            if not_found(exc):
                return None
            raise
        record = answer_object(schemas.Refund, data, gateway=GATEWAY, what="fetch refund")
        return replace(refund_from(record), currency=record.currency)

    def _transaction_id(self, reference: str) -> str:
        data = self.client.call("GET", "/transaction/verify/" + urllib.parse.quote(reference, safe=""), None,
                                what="verify")
        transaction = answer_object(schemas.Transaction, data, gateway=GATEWAY, what="verify")
        if transaction.id is None:
            raise GatewayError("The Paystack answer (verify) names no transaction id", gateway=GATEWAY)
        return transaction.id

    def _refunds_of(self, transaction_id: str) -> list[schemas.Refund]:
        """Every refund of the transaction, page by page (at most ``MAX_PAGES`` of ``PER_PAGE``)."""
        found: list[schemas.Refund] = []
        for page in range(1, MAX_PAGES + 1):
            query = urllib.parse.urlencode({"transaction": transaction_id, "perPage": PER_PAGE, "page": page})
            items, meta = self.client.call_list(f"/refund?{query}", what="list refunds")
            found += [answer_object(schemas.Refund, item, gateway=GATEWAY, what="list refunds") for item in items]
            page_count = meta.get("pageCount")
            if not items or not isinstance(page_count, int) or page >= page_count:
                break
        return found


__all__ = ["REFUND_STATUSES", "PaystackRefunds", "carries_marker", "refund_from", "refund_marker", "refund_status"]
