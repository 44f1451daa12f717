"""Servers the gateway integration tests start on 127.0.0.1 and stop themselves.

A webhook receiver (the gateways' signed deliveries arrive here, and a test waits for the one
it expects on a condition, never a sleep) and localstripe behind the local stack's shim, in a
subprocess with its store in memory only, so a test never touches a running local stack's state;
and the Stripe library's HTTP client, recording what it sends.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import stripe

from tollgate_local import localstripe_shim as shim_module
from tollgate_local.serving import ServerThread


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on now: for a subprocess told its port, or an address that refuses."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def form_request(url: str, fields: dict[str, Any] | None = None, method: str = "POST") -> tuple[int, bytes]:
    """A form-encoded request answered with its status and body, an error status included (the tests check it)."""
    data = urllib.parse.urlencode(fields).encode() if fields is not None else (b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# ---------------------------------------------------------------------------------------
# A webhook receiver
# ---------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One webhook as it arrived: the raw body and headers are what a signature is checked against."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers 200 to every POST and keeps it; ``wait_for`` blocks on a condition, not a sleep."""

    def __init__(self, path: str, name: str) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # Kept before the answer: a sender that waits for it sees its deliveries in order.
                with receiver._arrived:
                    receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._serving = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler), name)
        self.url = f"{self._serving.url}{path}"

    def start(self) -> WebhookReceiver:
        self._serving.start()
        return self

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[Delivery], bool], what: str, timeout_s: float = 10) -> Delivery:
        """The first delivery ``predicate`` accepts, once it has arrived; ``what`` names it if none does in time."""

        def found() -> Delivery | None:
            return next((d for d in self.deliveries if predicate(d)), None)

        with self._arrived:
            delivery = self._arrived.wait_for(found, timeout=timeout_s)
        assert delivery is not None, f"no {what} within {timeout_s:g}s"
        return delivery


# ---------------------------------------------------------------------------------------
# localstripe behind the local stack's shim
# ---------------------------------------------------------------------------------------


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15) -> None:
    """Until the shim listens; a shim that exited fails at once rather than after the timeout."""
    for _ in range(int(timeout / 0.05)):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            try:
                proc.wait(timeout=0.05)  # doubles as the pause between attempts
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"the localstripe shim exited with {proc.returncode}") from None
    raise RuntimeError("the localstripe shim did not start")


@contextmanager
def localstripe_shim(receiver_url: str, secret: str) -> Iterator[str]:
    """The shim (local/tollgate_local/localstripe_shim.py, as local/tollgate_local/stack.py starts it, but with
    no store file) on a free port, its data cleared and its webhooks sent to ``receiver_url`` signed with
    ``secret``; yields its base URL and stops the process by its own pid."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, shim_module.__file__, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert form_request(f"{base}/_config/data", method="DELETE")[0] == 200
        assert form_request(f"{base}/_config/webhooks/tests", {"url": receiver_url, "secret": secret})[0] == 200
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def stripe_webhook(receiver: WebhookReceiver, event_type: str, object_id: str) -> Delivery:
    """The ``event_type`` event the shim sent about ``object_id``, once it has arrived."""
    return receiver.wait_for(lambda d: d.event.get("type") == event_type and d.event["data"]["object"].get("id") == object_id,
                             f"{event_type} webhook for {object_id}")


# -- what the Stripe library sends -------------------------------------------------------


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body or "", keep_blank_values=True))

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path


class RecordingClient(stripe.RequestsClient):
    """The Stripe library's own HTTP client, remembering each request it sends."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.sent: list[Sent] = []

    def request(self, method, url, headers, post_data=None):
        self.sent.append(Sent(method, url, dict(headers or {}), post_data))
        return super().request(method, url, headers, post_data)

    def to(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]
