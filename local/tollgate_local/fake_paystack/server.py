"""HTTP routing, and the running fake: one thread on a free 127.0.0.1 port.

``/checkout/...`` goes to the checkout page (``checkout.py``), ``/_tollgate/...`` to the test
controls (``control.py``), everything else to the API emulation (``api.py``, ``refunds.py``,
``transfers.py``). After writing an API answer, the request's thread plays what follows it (a
refund's or a transfer's outcome and webhook). :meth:`FakePaystack.stop` shuts the server down and joins its thread.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from tollgate_local.fake_paystack import checkout, control
from tollgate_local.fake_paystack.api import DEFAULT_CURRENCIES, DEFAULT_SECRET_KEY
from tollgate_local.fake_paystack.refunds import PaystackRefunds
from tollgate_local.fake_paystack.transfers import PaystackTransfers
from tollgate_local.serving import LocalHTTPServer, ServerThread

_HTML = "text/html; charset=utf-8"


class FakePaystack(PaystackRefunds, PaystackTransfers):
    """The fake Paystack, served: payments, disputes, refunds and transfers."""

    def __init__(
        self,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        port: int = 0,
        webhook_url: str | None = None,
        currencies: Iterable[str] = DEFAULT_CURRENCIES,
    ) -> None:
        super().__init__(secret_key, webhook_url=webhook_url, currencies=currencies)
        self._port = port
        self._serving: ServerThread | None = None

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("the fake Paystack is not running")
        return self._serving.port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePaystack:
        handler = type("FakePaystackHandler", (_Handler,), {"fake": self})
        server = LocalHTTPServer(("127.0.0.1", self._port), handler)
        self._serving = ServerThread(server, "fake-paystack").start()
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
        self._serving = None

    def __enter__(self) -> FakePaystack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
                status, page = checkout.page(self.fake, parts[0])
                self._send(status, page.encode(), _HTML)
            elif method == "POST" and len(parts) == 2:
                status, page, location = checkout.act(self.fake, parts[0], parts[1])
                self._send(status, page.encode(), _HTML, location=location)
            else:
                self._send(404, b"<p>Not found</p>", _HTML)
            return
        if path.startswith(control.PREFIX):
            status, payload = control.handle(self.fake, method, path, raw)
            self._send(status, json.dumps(payload).encode(), "application/json")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload = self.fake.handle(method, self.path, headers, raw)
        self._send(status, json.dumps(payload).encode(), "application/json")
        self.fake.deliver_pending()  # after the answer, as Paystack settles a transfer after answering

    def _send(self, status: int, body: bytes, content_type: str, *, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)


__all__ = ["FakePaystack"]
