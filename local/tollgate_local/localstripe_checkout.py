"""Stripe Checkout Sessions for localstripe, which lacks them: the hosted payment page, played locally.

Loaded by ``localstripe_shim.py`` (see its docstring) when run as a script; like the shim, it
imports nothing of Tollgate's. ``POST /v1/checkout/sessions`` (mode ``payment``, one line item of
``price_data``, Stripe's idempotency keys) creates the session and its PaymentIntent in localstripe
(with ``payment_intent_data.metadata``); ``GET /v1/checkout/sessions/{id}`` shows it, ``complete`` and
``paid`` once its PaymentIntent succeeded. Its ``url`` is ``GET /_tollgate/checkout/{id}`` on this
server, standing in for Stripe's page: its Pay button pays with the test card 4242 4242 4242 4242
(the PaymentIntent's own webhooks follow, as on Stripe), sends ``checkout.session.completed`` and
returns the payer to ``success_url`` (``{CHECKOUT_SESSION_ID}`` filled in, as Stripe does).
"""

from __future__ import annotations

import html
import time
from typing import Any

from localstripe_connect import Connect, StripeFailure, _metadata, _public, _unknown, _url

CHECKOUT_KEY = "tollgate_checkout:"
PAGE_PATH = "/_tollgate/checkout/"
SESSION_FIELDS = frozenset({"mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata",
                            "payment_intent_data", "customer_email", "payment_method_types", "expires_at", "locale"})
SESSION_TTL_S = 86_400
TEST_CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123"}


def _positive(value: Any, param: str) -> int:
    text = str(value if value is not None else "")
    if not text.isdigit() or int(text) <= 0:
        raise StripeFailure(400, "Invalid positive integer", param=param)
    return int(text)


class Checkout:
    """Checkout Sessions on localstripe's aiohttp app, sharing Connect's storage and idempotency."""

    def __init__(self, app: Any, connect: Connect) -> None:
        self.connect = connect
        routes = [
            ("POST", "/v1/checkout/sessions", self.create_session),
            ("GET", "/v1/checkout/sessions/{id}", self.retrieve_session),
            ("GET", PAGE_PATH + "{id}", self.page),
            ("POST", PAGE_PATH + "{id}/pay", self.pay),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, connect._answering(handler))

    async def create_session(self, request: Any) -> Any:
        params = await self.connect._params(request)
        origin = str(request.url.origin())

        def create() -> dict[str, Any]:
            from localstripe.resources import PaymentIntent

            _unknown(params, SESSION_FIELDS)
            if params.get("mode") != "payment":
                raise StripeFailure(400, "Invalid mode: only payment is played locally", param="mode")
            items = params.get("line_items")
            if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
                raise StripeFailure(400, "line_items: one item with price_data is played locally", param="line_items")
            price = items[0].get("price_data") or {}
            if not isinstance(price, dict):
                raise StripeFailure(400, "Invalid price_data", param="line_items[0][price_data]")
            total = _positive(price.get("unit_amount"), "line_items[0][price_data][unit_amount]") * _positive(
                items[0].get("quantity", 1), "line_items[0][quantity]")
            currency = str(price.get("currency") or "")
            if len(currency) != 3 or not currency.isalpha():
                raise StripeFailure(400, f"Invalid currency: {currency.lower()}", param="currency")
            success_url = _url(params, "success_url")
            intent_data = params.get("payment_intent_data") or {}
            product = price.get("product_data") if isinstance(price.get("product_data"), dict) else {}
            intent = PaymentIntent(amount=total, currency=currency.lower(), payment_method_types=["card"],
                                   metadata=_metadata(intent_data) if isinstance(intent_data, dict) else {},
                                   description=product.get("name"))
            now = int(time.time())
            session_id = "cs_test_" + self.connect.random_id(24)
            session = {
                "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total,
                "currency": currency.lower(), "client_reference_id": params.get("client_reference_id"),
                "customer_email": params.get("customer_email"), "metadata": _metadata(params),
                "payment_intent": intent.id, "success_url": success_url, "cancel_url": params.get("cancel_url"),
                "url": f"{origin}{PAGE_PATH}{session_id}", "created": now, "expires_at": now + SESSION_TTL_S,
                "livemode": False,
            }
            self.connect._put(CHECKOUT_KEY, session)
            return _public(session)

        return self.connect._idempotent(request, params, create)

    def _current(self, session_id: str) -> dict[str, Any]:
        """The session, complete and paid once its PaymentIntent succeeded (however it was paid)."""
        from localstripe.resources import PaymentIntent

        session = self.connect._get(CHECKOUT_KEY, session_id, "checkout.session")
        if session["status"] == "open" and PaymentIntent._api_retrieve(session["payment_intent"]).status == "succeeded":
            session.update(status="complete", payment_status="paid")
            self.connect._put(CHECKOUT_KEY, session)
        return session

    async def retrieve_session(self, request: Any) -> Any:
        return self.connect.json_response(_public(self._current(request.match_info["id"])))

    async def page(self, request: Any) -> Any:
        """Stripe's hosted page, played: what is paid for, and a Pay button."""
        web = self.connect.web
        try:
            session = self._current(request.match_info["id"])
        except StripeFailure:
            return web.Response(status=404, text="<p>Unknown checkout session</p>", content_type="text/html")
        amount = f"{session['currency'].upper()} {session['amount_total'] / 100:,.2f}"
        if session["status"] != "open":
            body = f"<p>This checkout is {html.escape(session['status'])}.</p>"
        else:
            cancel = session.get("cancel_url")
            body = (f'<form method="post" action="{PAGE_PATH}{html.escape(session["id"])}/pay">'
                    f"<p>Pay {html.escape(amount)} with the test card 4242 4242 4242 4242.</p>"
                    '<button type="submit">Pay</button></form>'
                    + (f'<p><a href="{html.escape(cancel)}">Cancel</a></p>' if cancel else ""))
        return web.Response(text=("<!doctype html><html lang=en><title>Stripe Checkout (local)</title>"
                                  f"<main><h1>Checkout</h1>{body}</main></html>"), content_type="text/html")

    async def pay(self, request: Any) -> Any:
        """The Pay button: the session's PaymentIntent confirmed with the test card, then back to the
        platform's success_url."""
        from localstripe.resources import PaymentIntent, PaymentMethod

        session = self._current(request.match_info["id"])
        if session["status"] == "open":
            intent = PaymentIntent._api_retrieve(session["payment_intent"])
            intent.payment_method = PaymentMethod(type="card", card=dict(TEST_CARD)).id
            intent._confirm(on_failure_now=intent._report_failure)
            session = self._current(session["id"])
            if session["status"] == "complete":
                self.connect._send_event("checkout.session.completed", session)
        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        raise self.connect.web.HTTPSeeOther(target)
