"""Stripe Connect for localstripe, which lacks it: Express accounts, Account Links, transfers.

Loaded by ``localstripe_shim.py`` (see its docstring for what it serves) when run as a
script; like the shim, it imports nothing of Tollgate's.
"""

from __future__ import annotations

import html
import json
import time
from typing import Any

# Paths served without a secret key: the stand-in onboarding page and the test controls.
OPEN_PREFIX = "/_tollgate/"
ONBOARD_PATH = "/_tollgate/connect/onboard/"
# Where Connect objects live in localstripe's store (so they persist and /_config/data clears them).
ACCOUNT_KEY = "tollgate_account:"
TRANSFER_KEY = "tollgate_transfer:"
IDEMPOTENCY_KEY = "tollgate_idempotency:"
ACCOUNT_FIELDS = frozenset({"type", "country", "email", "business_type", "capabilities", "metadata",
                            "business_profile", "settings", "tos_acceptance", "controller"})
ACCOUNT_LINK_FIELDS = frozenset({"account", "type", "refresh_url", "return_url", "collect", "collection_options"})
TRANSFER_FIELDS = frozenset({"amount", "currency", "destination", "transfer_group", "metadata", "description",
                             "source_transaction", "source_type"})
TRANSFER_LIST_FIELDS = frozenset({"limit", "starting_after", "transfer_group", "destination"})
LINK_TTL_S = 300
# What Stripe answers for the statuses a test can inject: (type, code, message).
INJECTED_ERRORS = {
    400: ("invalid_request_error", "balance_insufficient",
          "You have insufficient available funds in your Stripe account."),
    429: ("invalid_request_error", "rate_limit",
          "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."),
}


class StripeFailure(Exception):
    """An answer in Stripe's error shape: ``{"error": {"type", "message", "code"?, "param"?}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def _unknown(params: dict[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeFailure(400, f"Received unknown parameter: {name}", param=name)


def _required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeFailure(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return value


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    value = params.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StripeFailure(400, "Invalid metadata: must be an object of strings", param="metadata")
    return dict(value)


def _url(params: dict[str, Any], name: str) -> str:
    value = _required(params, name)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise StripeFailure(400, f"Not a valid URL: {name}", code="url_invalid", param=name)
    return value


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored object as Stripe shows it (our bookkeeping fields start with ``_``)."""
    return json.loads(json.dumps({key: value for key, value in obj.items() if not key.startswith("_")}))


class Connect:
    """Stripe Connect's accounts, account links and transfers on localstripe's aiohttp app."""

    def __init__(self, app: Any) -> None:
        from aiohttp import web
        from localstripe import server
        from localstripe.resources import Event, random_id, store
        from localstripe.webhooks import schedule_webhook

        self.web, self.json_response, self.get_post_data = web, server.json_response, server.get_post_data
        self.store, self.random_id, self.Event, self.schedule_webhook = store, random_id, Event, schedule_webhook
        self.failures: list[int] = []  # statuses the next transfer creations answer
        self._exempt_from_auth(app, server.auth_middleware)
        routes = [
            ("POST", "/v1/accounts", self.create_account),
            ("GET", "/v1/accounts/{id}", self.retrieve_account),
            ("POST", "/v1/account_links", self.create_account_link),
            ("POST", "/v1/transfers", self.create_transfer),
            ("GET", "/v1/transfers", self.list_transfers),
            ("GET", "/v1/transfers/{id}", self.retrieve_transfer),
            ("GET", ONBOARD_PATH + "{id}", self.onboard),
            ("POST", "/_tollgate/transfers/fail", self.fail_transfers),
            ("POST", "/_tollgate/transfers/{id}/reverse", self.reverse_transfer),
            ("GET", "/_tollgate/transfers", self.all_transfers),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._answering(handler))

    def _exempt_from_auth(self, app: Any, auth: Any) -> None:
        """localstripe wants a key on every path but ``/_config/``: ours under OPEN_PREFIX need none."""

        @self.web.middleware
        async def auth_except_open_paths(request: Any, handler: Any) -> Any:
            if request.path.startswith(OPEN_PREFIX):
                return await handler(request)
            return await auth(request, handler)

        app.middlewares[app.middlewares.index(auth)] = auth_except_open_paths

    def _answering(self, handler: Any) -> Any:
        async def answer(request: Any) -> Any:
            try:
                return await handler(request)
            except StripeFailure as failure:
                return self.json_response(failure.body, status=failure.status)

        return answer

    # -- storage ----------------------------------------------------------------------------

    def _get(self, prefix: str, object_id: str, what: str) -> dict[str, Any]:
        found = self.store.get(prefix + object_id)
        if found is None:
            raise StripeFailure(404, f"No such {what}: '{object_id}'", code="resource_missing", param="id")
        return found

    def _put(self, prefix: str, obj: dict[str, Any]) -> None:
        self.store[prefix + obj["id"]] = obj  # the store writes itself to its file on every set

    def _transfers(self) -> list[dict[str, Any]]:
        return [value for key, value in self.store.items() if key.startswith(TRANSFER_KEY)]

    async def _params(self, request: Any) -> dict[str, Any]:
        data = await self.get_post_data(request)
        return dict(data) if isinstance(data, dict) else {}

    def _idempotent(self, request: Any, params: dict[str, Any], create: Any) -> Any:
        """Run ``create`` (which checks ``params``, then creates) once per Idempotency-Key: a
        replay with the same parameters gets the first answer again, with other parameters
        Stripe's idempotency error. A request refused by its checks stores nothing, as on Stripe."""
        key = request.headers.get("Idempotency-Key")
        if not key:
            return self.json_response(create())
        record = self.store.get(IDEMPOTENCY_KEY + key)
        if record is None:
            body = create()
            self.store[IDEMPOTENCY_KEY + key] = {"path": request.path, "params": params, "body": body}
            return self.json_response(body, headers={"Idempotency-Key": key})
        if (record["path"], record["params"]) != (request.path, params):
            raise StripeFailure(400, "Keys for idempotent requests can only be used with the same parameters they "
                                     f"were first used with. Try using a key other than '{key}' if you meant to "
                                     "execute a different request.", type="idempotency_error")
        return self.json_response(record["body"], headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"})

    def _send_event(self, event_type: str, obj: dict[str, Any]) -> None:
        """A signed event to every registered webhook, as localstripe sends its own."""

        class Exported:
            def _export(self) -> dict[str, Any]:
                return _public(obj)

        self.schedule_webhook(self.Event(event_type, Exported()))

    # -- accounts ---------------------------------------------------------------------------

    async def create_account(self, request: Any) -> Any:
        params = await self._params(request)

        def create() -> dict[str, Any]:
            _unknown(params, ACCOUNT_FIELDS)
            kind = params.get("type")
            if kind not in ("express", "standard", "custom"):
                raise StripeFailure(400, "Invalid type: must be one of custom, express, or standard", param="type")
            capabilities = params.get("capabilities") or {}
            if not isinstance(capabilities, dict) or not all(isinstance(v, dict) for v in capabilities.values()):
                raise StripeFailure(400, "Invalid capabilities: must be an object", param="capabilities")
            metadata = _metadata(params)
            account = {
                "id": "acct_" + self.random_id(16), "object": "account", "type": kind,
                "business_type": params.get("business_type"), "country": params.get("country") or "US",
                "default_currency": "usd", "email": params.get("email"), "created": int(time.time()),
                "capabilities": {name: "inactive" for name, asked in capabilities.items()
                                 if str(asked.get("requested")).lower() == "true"},
                "charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
                "metadata": metadata, "livemode": False,
                "requirements": {"currently_due": ["external_account", "tos_acceptance.date"],
                                 "disabled_reason": "requirements.past_due"},
            }
            self._put(ACCOUNT_KEY, account)
            return _public(account)

        return self._idempotent(request, params, create)

    async def retrieve_account(self, request: Any) -> Any:
        return self.json_response(_public(self._get(ACCOUNT_KEY, request.match_info["id"], "account")))

    async def create_account_link(self, request: Any) -> Any:
        params = await self._params(request)
        _unknown(params, ACCOUNT_LINK_FIELDS)
        account_id = _required(params, "account")
        account = self.store.get(ACCOUNT_KEY + str(account_id))
        if account is None:
            raise StripeFailure(400, f"No such account: '{account_id}'", code="resource_missing", param="account")
        if _required(params, "type") not in ("account_onboarding", "account_update"):
            raise StripeFailure(400, "Invalid type: must be one of account_onboarding or account_update", param="type")
        account["_return_url"] = _url(params, "return_url")
        account["_refresh_url"] = _url(params, "refresh_url")
        self._put(ACCOUNT_KEY, account)
        now = int(time.time())
        return self.json_response({"object": "account_link", "created": now, "expires_at": now + LINK_TTL_S,
                                   "url": f"{request.url.origin()}{ONBOARD_PATH}{account['id']}"})

    async def onboard(self, request: Any) -> Any:
        """Stripe's hosted onboarding, played in one step: the account can be paid out to."""
        account = self.store.get(ACCOUNT_KEY + request.match_info["id"])
        if account is None:
            return self.web.Response(status=404, text="<p>Unknown account</p>", content_type="text/html")
        account.update(payouts_enabled=True, details_submitted=True,
                       capabilities=dict.fromkeys(account["capabilities"], "active"),
                       requirements={"currently_due": [], "disabled_reason": None})
        self._put(ACCOUNT_KEY, account)
        back = account.get("_return_url")
        link = f'<p><a href="{html.escape(back)}">Return to the platform</a></p>' if back else ""
        return self.web.Response(
            text=("<!doctype html><title>Stripe onboarding (local)</title><h1>Onboarding complete</h1>"
                  f"<p>{html.escape(account['id'])} can now receive payouts.</p>{link}"),
            content_type="text/html")

    # -- transfers --------------------------------------------------------------------------

    async def create_transfer(self, request: Any) -> Any:
        params = await self._params(request)
        if self.failures:  # before anything else: a request Stripe never executed
            self._inject(self.failures.pop(0))

        def create() -> dict[str, Any]:
            _unknown(params, TRANSFER_FIELDS)
            amount = str(_required(params, "amount"))
            if not amount.isdigit() or int(amount) <= 0:
                raise StripeFailure(400, "Invalid positive integer", param="amount")
            currency = str(_required(params, "currency"))
            if len(currency) != 3 or not currency.isalpha():
                raise StripeFailure(400, f"Invalid currency: {currency.lower()}", param="currency")
            destination = str(_required(params, "destination"))
            account = self.store.get(ACCOUNT_KEY + destination)
            if account is None:
                raise StripeFailure(400, f"No such destination: '{destination}'", code="resource_missing",
                                    param="destination")
            if account["capabilities"].get("transfers") != "active":
                raise StripeFailure(400, "Your destination account needs to have at least one of the following "
                                         "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                                    code="insufficient_capabilities_for_transfer", param="destination")
            metadata = _metadata(params)
            transfer_id = "tr_" + self.random_id(24)
            transfer = {
                "id": transfer_id, "object": "transfer", "amount": int(amount), "amount_reversed": 0,
                "balance_transaction": "txn_" + self.random_id(24), "created": int(time.time()),
                "currency": currency.lower(), "description": params.get("description"),
                "destination": destination, "destination_payment": "py_" + self.random_id(24),
                "livemode": False, "metadata": metadata, "reversed": False,
                "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                              "url": f"/v1/transfers/{transfer_id}/reversals"},
                "source_transaction": params.get("source_transaction"), "source_type": "card",
                "transfer_group": params.get("transfer_group"),
            }
            self._put(TRANSFER_KEY, transfer)
            self._send_event("transfer.created", transfer)
            return _public(transfer)

        return self._idempotent(request, params, create)

    def _inject(self, status: int) -> None:
        if status in INJECTED_ERRORS:
            kind, code, message = INJECTED_ERRORS[status]
            raise StripeFailure(status, message, type=kind, code=code)
        if status >= 500:
            raise StripeFailure(status, "An unknown error occurred", type="api_error")
        raise StripeFailure(status, f"The request failed ({status})")

    async def list_transfers(self, request: Any) -> Any:
        params = dict(request.query)
        _unknown(params, TRANSFER_LIST_FIELDS)
        limit = params.get("limit", "10")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            raise StripeFailure(400, "Invalid integer: limit must be between 1 and 100", param="limit")
        found = sorted(self._transfers(), key=lambda t: t["created"], reverse=True)  # newest first, as Stripe lists
        for name in ("transfer_group", "destination"):
            if name in params:
                found = [t for t in found if t.get(name) == params[name]]
        if "starting_after" in params:
            ids = [t["id"] for t in found]
            found = found[ids.index(params["starting_after"]) + 1:] if params["starting_after"] in ids else []
        page = found[: int(limit)]
        return self.json_response({"object": "list", "data": [_public(t) for t in page],
                                   "has_more": len(found) > len(page), "url": "/v1/transfers"})

    async def retrieve_transfer(self, request: Any) -> Any:
        return self.json_response(_public(self._get(TRANSFER_KEY, request.match_info["id"], "transfer")))

    # -- test controls ----------------------------------------------------------------------

    async def fail_transfers(self, request: Any) -> Any:
        params = await self._params(request)
        try:
            status, count = int(params.get("status", 500)), int(params.get("count", 1))
        except (TypeError, ValueError):
            raise StripeFailure(400, "status and count must be integers") from None
        if not 400 <= status <= 599 or count < 1:
            raise StripeFailure(400, "status must be 400-599 and count at least 1")
        self.failures.extend([status] * count)
        return self.json_response({"failing": list(self.failures)})

    async def reverse_transfer(self, request: Any) -> Any:
        transfer = self._get(TRANSFER_KEY, request.match_info["id"], "transfer")
        if transfer["reversed"]:
            raise StripeFailure(400, f"Transfer {transfer['id']} is already fully reversed.",
                                code="transfer_already_reversed")
        reversal = {"id": "trr_" + self.random_id(24), "object": "transfer_reversal", "amount": transfer["amount"],
                    "currency": transfer["currency"], "created": int(time.time()), "metadata": {},
                    "transfer": transfer["id"], "destination_payment_refund": "pyr_" + self.random_id(24)}
        transfer["reversals"] = {**transfer["reversals"], "data": [reversal, *transfer["reversals"]["data"]],
                                 "total_count": transfer["reversals"]["total_count"] + 1}
        transfer.update(reversed=True, amount_reversed=transfer["amount"])
        self._put(TRANSFER_KEY, transfer)
        self._send_event("transfer.reversed", transfer)
        return self.json_response(_public(transfer))

    async def all_transfers(self, request: Any) -> Any:
        found = sorted(self._transfers(), key=lambda t: t["created"])
        return self.json_response({"object": "list", "data": [_public(t) for t in found]})
