"""localstripe, with what it lacks for Tollgate's Stripe adapter, bound to 127.0.0.1.

Run it as a script (it imports nothing of Tollgate's, so it needs no PYTHONPATH)::

    python local/tollgate_local/localstripe_shim.py PORT [STORE_FILE]

What it changes in localstripe 1.15 (the production adapter has no local special case; the
differences live here):

- A PaymentIntent takes ``description`` and ``receipt_email``, as Stripe's does, and shows
  them back (localstripe answers ``400 Unexpected description, receipt_email``).
- ``POST /v1/refunds`` honours ``Idempotency-Key`` as Stripe does (localstripe ignores it):
  the same key and parameters replay the first answer (``Idempotent-Replayed: true``), other
  parameters are Stripe's 400 ``idempotency_error``, and a refused request stores nothing.
  localstripe itself takes a refund's ``metadata`` and shows it back, and makes every refund
  ``succeeded`` at once, with no webhook.
- The store is pickled to ``STORE_FILE`` after every write, and loaded from it at start
  (localstripe always writes ``/tmp/localstripe.pickle``); without one it stays in memory.
- Connect, which localstripe lacks (``localstripe_connect.py``): ``POST /v1/accounts``, ``GET
  /v1/accounts/{id}``, ``POST /v1/account_links``, ``POST /v1/transfers``, ``GET
  /v1/transfers[/{id}]``, with Stripe's idempotency keys on the two creations (the same key
  and parameters replay the first answer; other parameters are Stripe's 400
  ``idempotency_error``). An Account Link opens ``GET /_tollgate/connect/onboard/{acct}``
  on this server, which stands in for Stripe's hosted onboarding: visiting it completes the
  onboarding (``payouts_enabled``, the ``transfers`` capability active). A transfer needs
  a destination with ``transfers`` active, as on Stripe; it sends ``transfer.created``.
- Checkout Sessions, which localstripe lacks (``localstripe_checkout.py``): ``POST
  /v1/checkout/sessions`` and ``GET /v1/checkout/sessions/{id}``, the session's page at
  ``/_tollgate/checkout/{id}`` standing in for Stripe's hosted one (Pay: the test card, then
  ``checkout.session.completed`` and back to ``success_url``), so hosted checkout works locally.
- Stripe.js's ``confirmCardPayment(clientSecret, {payment_method: {card}})`` with the card
  element: localstripe's stand-in Stripe.js (``/js.stripe.com/v3/``) only authenticates a
  PaymentIntent already in ``requires_action``; the shim appends a wrapper that sends the
  element's card to ``POST /_tollgate/payment_intents/{id}/confirm_card`` (publishable key
  and client secret, as Stripe.js authenticates), which attaches it as a PaymentMethod and
  confirms, then runs the stand-in's 3-D Secure step when the card asks for one. So a page
  using the real Elements flow (the dashboard's) pays locally.
- Test controls (no key needed, like localstripe's ``/_config/``): ``POST
  /_tollgate/transfers/fail`` (form or JSON ``status``, ``count``) makes the next ``count``
  transfer creations answer ``status`` with Stripe's error body, before anything is done
  (so nothing is stored under their idempotency keys, as for a request Stripe never
  executed); ``POST /_tollgate/transfers/{id}/reverse`` reverses a transfer and sends
  Stripe's signed ``transfer.reversed`` to every webhook registered at
  ``/_config/webhooks/{id}``; ``GET /_tollgate/transfers`` lists every transfer made.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

# Fields of a PaymentIntent that Stripe takes and localstripe does not.
PAYMENT_INTENT_FIELDS = ("description", "receipt_email")
REFUNDS_PATH = "/v1/refunds"
IDEMPOTENCY_KEY = "tollgate_idempotency:"  # where localstripe_connect.py keeps its records too


def patch_payment_intents() -> None:
    from localstripe.resources import PaymentIntent, UserError

    if getattr(PaymentIntent, "_tollgate_shim", False):
        return
    original = PaymentIntent.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        extra = {name: kwargs.pop(name, None) for name in PAYMENT_INTENT_FIELDS}
        for name, value in extra.items():
            if value is not None and not isinstance(value, str):
                raise UserError(400, f"Invalid {name}")
        original(self, *args, **kwargs)
        for name, value in extra.items():
            setattr(self, name, value)

    PaymentIntent.__init__ = __init__
    PaymentIntent._tollgate_shim = True


def honour_refund_idempotency(app: Any) -> None:
    """Replay ``POST /v1/refunds`` by its ``Idempotency-Key``, after the key check (the
    innermost middleware), keeping each first 2xx answer in the store."""
    from aiohttp import web
    from localstripe.resources import store
    from localstripe.server import get_post_data, json_response

    @web.middleware
    async def idempotent_refunds(request: Any, handler: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or request.path != REFUNDS_PATH or not key:
            return await handler(request)
        params = json.loads(json.dumps(await get_post_data(request) or {}))  # plain dicts, as stored
        record = store.get(IDEMPOTENCY_KEY + key)
        if record is None:
            response = await handler(request)  # a refusal raises (or is not 2xx): nothing kept
            if 200 <= response.status < 300:
                store[IDEMPOTENCY_KEY + key] = {"path": request.path, "params": params, "body": json.loads(response.text)}
            return response
        if (record["path"], record["params"]) != (request.path, params):
            return json_response({"error": {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same parameters they were first "
                           f"used with. Try using a key other than '{key}' if you meant to execute a different request."}},
                status=400)
        return json_response(record["body"], headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"})

    app.middlewares.append(idempotent_refunds)


CONFIRM_CARD_PATH = "/_tollgate/payment_intents/{id}/confirm_card"
CONFIRM_CARD_JS = """
;(function () {
  const standIn = Stripe;
  Stripe = (apiKey) => {
    const stripe = standIn(apiKey);
    const authenticate = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const element = data && data.payment_method && data.payment_method.card;
      if (!element) return authenticate(clientSecret, data);
      const card = element.value && element.value.card;
      if (!card) return {error: {message: 'Enter the card details'}};
      const pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/_tollgate/payment_intents/${pi}/confirm_card`, {
        method: 'POST',  // a simple request, no preflight (as the stand-in's own calls)
        body: JSON.stringify({key: apiKey, client_secret: clientSecret, card}),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status !== 200 || body.error) return {error: body.error || {message: 'Bad request'}};
      if (body.status === 'requires_action') return authenticate(clientSecret, data);
      if (body.status === 'requires_payment_method') {
        return {error: (body.last_payment_error || {message: 'Your card was declined.'}), paymentIntent: body};
      }
      return {paymentIntent: body};
    };
    return stripe;
  };
})();
"""


def confirm_card_payments(app: Any) -> None:
    """The stand-in Stripe.js's ``confirmCardPayment`` with a card element (see the docstring)."""
    from aiohttp import web
    from localstripe.resources import PaymentIntent, PaymentMethod, UserError
    from localstripe.server import get_post_data, json_response

    async def confirm_card(request: Any) -> Any:
        data = await get_post_data(request, remove_auth=False) or {}
        key, secret, card = data.get("key"), data.get("client_secret"), data.get("card")
        if not (isinstance(key, str) and key.startswith("pk_")):
            raise UserError(401, "Unauthorized")
        intent = PaymentIntent._api_retrieve(request.match_info["id"])
        if secret != intent.client_secret:
            raise UserError(401, "Unauthorized")
        if intent.status != "requires_payment_method" or not isinstance(card, dict):
            raise UserError(400, "Bad request")
        method = PaymentMethod(type="card", card={k: card.get(k) for k in ("number", "exp_month", "exp_year", "cvc")})
        intent.payment_method = method.id
        intent._confirm(on_failure_now=intent._report_failure)
        return json_response(intent._export())

    @web.middleware
    async def wrap_stripe_js(request: Any, handler: Any) -> Any:
        response = await handler(request)
        if request.path == "/js.stripe.com/v3/" and response.status == 200:
            return web.Response(text=response.text + CONFIRM_CARD_JS, content_type="application/javascript")
        return response

    app.router.add_route("POST", CONFIRM_CARD_PATH, confirm_card)
    app.middlewares.append(wrap_stripe_js)


def persist_to(path: Path | None) -> None:
    """Keep the store in ``path`` (loaded now, written after every change), or in memory only."""
    from localstripe.resources import Store, store

    def dump(self: Any) -> None:
        if path is not None:
            with path.open("wb") as f:
                pickle.dump(dict(self), f)

    Store.dump_to_disk = dump
    if path is not None and path.exists():
        with path.open("rb") as f:
            dict.update(store, pickle.load(f))  # our own file, written by dump above


def main(argv: list[str]) -> None:
    from aiohttp import web
    from localstripe.server import app

    port = int(argv[1])
    path = Path(argv[2]) if len(argv) > 2 and argv[2] else None
    patch_payment_intents()
    honour_refund_idempotency(app)
    confirm_card_payments(app)
    persist_to(path)
    # Run as a script, this folder is on sys.path: its sibling needs no package.
    from localstripe_checkout import Checkout
    from localstripe_connect import Connect

    Checkout(app, Connect(app))
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(sys.argv)
