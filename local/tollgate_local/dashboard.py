"""The dashboard in ``make dev``: ``dashboard/dist`` served on 127.0.0.1 (its own port), with
the ``config.json`` the app reads at start and a dev-only sign-in, ``POST /_dev/token
{"sub", "roles"}``, which mints a token with the local signer (as ``make token`` does).

Never deployed: the deployed dashboard is static files on S3 behind CloudFront, signing in
at the OIDC issuer.
"""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tollgate_local import template
from tollgate_local.tokens import LocalSigner

DIST = template.ROOT / "dashboard" / "dist"
STRIPE_PUBLISHABLE_KEY = "pk_test_tollgate_local"  # localstripe accepts any pk_test_ key
SUB = re.compile(r"^[A-Za-z0-9._@|+=-]{1,128}$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_BODY = 4096


class _Handler(SimpleHTTPRequestHandler):
    server_version = "tollgate-dashboard"
    app_config: dict[str, Any]
    signer: LocalSigner

    def log_message(self, *_: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"error": {"code": code, "message": message}})

    def end_headers(self) -> None:
        if self.path.split("?")[0] in ("/", "/index.html"):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/config.json":
            self._json(200, self.app_config)
            return
        if not (Path(self.directory) / "index.html").exists():  # the dist this server was given
            self._error(503, "not_built", "dashboard/dist is not built: run `npm --prefix dashboard run build`")
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/_dev/token":
            self._error(404, "not_found", "Not Found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._error(413, "payload_too_large", "The body is too large")
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._error(400, "invalid_json", "The body is not JSON")
            return
        sub = body.get("sub") if isinstance(body, dict) else None
        roles = body.get("roles", ["user"]) if isinstance(body, dict) else None
        if not isinstance(sub, str) or not SUB.match(sub):
            self._error(422, "validation_error", "sub: 1-128 characters of A-Z a-z 0-9 . _ @ | + = -")
            return
        if not isinstance(roles, list) or not all(isinstance(r, str) and ROLE.match(r) for r in roles):
            self._error(422, "validation_error", "roles: a list of role names")
            return
        self._json(200, {"token": self.signer.token(sub, roles), "sub": sub, "roles": roles})


class DashboardServer:
    def __init__(self, *, port: int, api_url: str, signer: LocalSigner, stripe_url: str | None,
                 dist: Path = DIST, oidc_issuer: str | None = None, oidc_client_id: str | None = None) -> None:
        # With an OIDC issuer (make dev --sign-in oidc: tollgate_local.oidc) the app signs in there, as
        # deployed; otherwise on its dev sign-in page.
        auth = ({"authMode": "oidc", "oidcIssuer": oidc_issuer, "oidcClientId": oidc_client_id} if oidc_issuer
                else {"authMode": "dev"})
        config = {
            "apiBaseUrl": api_url,
            **auth,
            "stripeJsUrl": f"{stripe_url}/js.stripe.com/v3/" if stripe_url else "https://js.stripe.com/v3/",
            "stripePublishableKey": STRIPE_PUBLISHABLE_KEY,
        }
        handler = type("DashboardHandler", (_Handler,), {"app_config": config, "signer": signer})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(dist)))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="dashboard", daemon=True)

    def start(self) -> DashboardServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
