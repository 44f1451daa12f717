"""A webhook receiver for ``make dev``: subscribed to every event, it prints each delivery and whether
its signature verifies (with the SDK's ``verify_webhook``, as a platform's receiver would).

At start it makes sure an endpoint for its URL exists: the one it registered before (its id and
secret kept under the dev state folder), or a new one. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class WebhookReceiver:
    def __init__(self, port: int, state_dir: Path) -> None:
        self.port = port
        self.state_file = state_dir / "webhook-receiver.json"
        self.secret = ""
        self.endpoint_id = ""
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verdict, status = receiver.receive(body, self.headers.get("Tollgate-Signature"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"received": status == 200, "verdict": verdict}).encode())

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, body: bytes, signature: str | None) -> tuple[str, int]:
        from tollgate_sdk import WebhookSignatureError, verify_webhook

        try:
            event = verify_webhook(body, signature, self.secret)
        except WebhookSignatureError as exc:
            print(f"[webhook] REFUSED ({exc}): {body[:200]!r}", flush=True)
            return str(exc), 400
        self.received.append(event)
        print(f"[webhook] {event['type']} {event['id']} {event.get('wallet_id') or '-'} signature ok "
              f"{json.dumps(event.get('data'), separators=(',', ':'))}", flush=True)
        return "signature ok", 200

    def subscribe(self, api_url: str, admin_token: str) -> str:
        """Register (or find) the endpoint for this receiver's URL, subscribed to every event; its id."""
        saved = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        listed = _call(api_url, "GET", "/v1/admin/webhook-endpoints", admin_token)["data"]
        mine = [e for e in listed if e["url"] == self.url]
        keep = next((e for e in mine if e["endpoint_id"] == saved.get("endpoint_id") and e["status"] == "enabled"),
                    None)
        for stale in (e for e in mine if e is not keep):  # its secret is lost (or it was disabled): replace it
            _call(api_url, "DELETE", f"/v1/admin/webhook-endpoints/{stale['endpoint_id']}", admin_token)
        if keep is None:
            created = _call(api_url, "POST", "/v1/admin/webhook-endpoints", admin_token,
                            {"url": self.url, "events": ["*"], "description": "make dev's local receiver"})
            saved = {"endpoint_id": created["endpoint_id"], "secret": created["secret"]}
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(saved))
        self.endpoint_id, self.secret = saved["endpoint_id"], saved["secret"]
        return self.endpoint_id


def _call(api_url: str, method: str, path: str, token: str, body: Any = None) -> Any:
    request = urllib.request.Request(f"{api_url}{path}", method=method, data=None if body is None else
                                     json.dumps(body).encode(), headers={"Authorization": f"Bearer {token}",
                                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None
