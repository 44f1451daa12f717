"""A small fake Paystack API on 127.0.0.1, for tests and ``make dev``.

It serves what Tollgate calls (``POST /transaction/initialize``, ``GET
/transaction/verify/{reference}``; ``POST /refund``, ``GET /refund`` and ``GET /refund/{id}``;
for payouts ``GET /bank``, ``POST`` / ``GET /transferrecipient``, ``POST /transfer``, ``GET
/transfer/verify/{reference}``), checked as Paystack checks them, plus a checkout page, and
plays Paystack's side of a payment, a refund or a transfer with signed webhooks. Its bodies
are Paystack's documented examples (``tests/fixtures/paystack/``) with the fake's values
filled in.

* ``api.py``       the API emulation: state, request checks, recorded requests
* ``payloads.py``  every body, built from the verbatim examples
* ``scenarios.py`` payer, processor and chargebacks; signed webhooks
* ``refunds.py``   refunds: create, list, fetch, their outcomes and ``refund.*`` webhooks
* ``transfers.py`` payouts: banks, recipients, transfers, their outcomes and ``transfer.*`` webhooks
* ``transfer_payloads.py`` the payout endpoints' bodies
* ``control.py``   the scenario switches over HTTP (``/_tollgate/...``), for another process
* ``checkout.py``  the page an authorization URL opens
* ``server.py``    HTTP routing and the server's lifecycle

Usage::

    with FakePaystack() as paystack:
        os.environ["PAYSTACK_API_BASE"] = paystack.endpoint
        os.environ["PAYSTACK_SECRET_KEY"] = paystack.secret_key
        ...
"""

from __future__ import annotations

from tollgate_local.fake_paystack.api import DEFAULT_SECRET_KEY, RecordedRequest
from tollgate_local.fake_paystack.refunds import REFUND_EVENTS, REFUND_OUTCOMES
from tollgate_local.fake_paystack.server import FakePaystack
from tollgate_local.fake_paystack.transfers import OUTCOMES, TRANSFER_EVENTS

__all__ = [
    "DEFAULT_SECRET_KEY",
    "OUTCOMES",
    "REFUND_EVENTS",
    "REFUND_OUTCOMES",
    "TRANSFER_EVENTS",
    "FakePaystack",
    "RecordedRequest",
]
