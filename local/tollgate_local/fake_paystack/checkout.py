"""The checkout page an authorization URL opens (``/checkout/<access_code>``).

A tiny page with "Pay" and "Fail" buttons. Pressing one completes the transaction (its
webhook goes out) and redirects to the transaction's ``callback_url`` with
``?trxref=<reference>&reference=<reference>``, as Paystack does.
"""

from __future__ import annotations

import html
import urllib.parse

from tollgate_local.fake_paystack.scenarios import PaystackScenarios

ACTIONS = {"pay": True, "fail": False}  # the button -> whether the payment succeeds


def page(fake: PaystackScenarios, access_code: str) -> tuple[int, str]:
    """``GET /checkout/<access_code>``: (status, HTML)."""
    tx = fake.transaction_for_checkout(access_code)
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


def act(fake: PaystackScenarios, access_code: str, action: str) -> tuple[int, str, str | None]:
    """``POST /checkout/<access_code>/<pay|fail>``: (status, HTML, redirect location)."""
    tx = fake.transaction_for_checkout(access_code)
    if tx is None or action not in ACTIONS:
        return 404, "<p>Unknown checkout</p>", None
    try:
        fake.complete(tx["reference"], success=ACTIONS[action])
    except ValueError as exc:
        return 409, f"<p>{html.escape(str(exc))}</p>", None
    callback = tx["callback_url"]
    if callback:
        query = urllib.parse.urlencode({"trxref": tx["reference"], "reference": tx["reference"]})
        return 303, "", f"{callback}{'&' if '?' in callback else '?'}{query}"
    return 200, f"<p>Payment {'successful' if ACTIONS[action] else 'failed'}.</p>", None


__all__ = ["act", "page"]
