"""A local OIDC issuer for ``make dev --sign-in oidc``: the dashboard's deployed sign-in path
(authorization code with PKCE, endpoints from discovery) run against a server on 127.0.0.1.

What it does as a hosted login (Cognito's Hosted UI, Auth0, Keycloak...) would:

* ``GET /.well-known/openid-configuration``: discovery, and ``GET /jwks.json``;
* ``GET /authorize``: checks ``client_id``, ``redirect_uri`` (loopback only), ``response_type=code``
  and an S256 ``code_challenge``, then shows a sign-in form (a user and roles: it is local, so no
  password); the form's ``POST`` redirects back with a one-time ``code`` and the ``state``;
* ``POST /token``: exchanges the code once, within :data:`CODE_SECONDS`, for the same client and
  redirect URI, and only with the ``code_verifier`` whose S256 digest is the challenge; errors are
  RFC 6749's ``{"error": "invalid_grant" | "invalid_request" | ...}`` with 400.

The tokens it issues are the local signer's, with the local issuer name (``tokens.ISSUER``) and
audience, so the API (the gateway's JWT authorizer and the API-key authorizer function) accepts
them exactly as it accepts ``make token``'s. That name is not this server's URL, as a real issuer's
would be: the dashboard never compares them, and one name keeps every local token valid whichever
sign-in made it. Discovery, the token endpoint and the JWKS answer CORS requests from any origin
(the dashboard calls them from its own).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tollgate_local.tokens import ISSUER, LocalSigner

CLIENT_ID = "tollgate-dashboard"
CODE_SECONDS = 60
TOKEN_SECONDS = 3600
MAX_BODY = 8192
ROLES = ("user", "developer", "admin")
SUB = re.compile(r"^[A-Za-z0-9._@|+=-]{1,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def loopback_uri(uri: str) -> bool:
    """Only pages on this machine may receive a code."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost") and not parts.fragment


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    sub: str
    roles: tuple[str, ...]
    expires_at: float


class _Handler(BaseHTTPRequestHandler):
    server_version = "tollgate-local-oidc"
    issuer: LocalOidcIssuer

    def log_message(self, *_: Any) -> None:
        pass

    # -- responses ---------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", {"Access-Control-Allow-Origin": "*"})

    def _page(self, status: int, title: str, body: str) -> None:
        page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"
                f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>")
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _redirect(self, uri: str, params: dict[str, str]) -> None:
        sep = "&" if urlsplit(uri).query else "?"
        self._send(302, b"", "text/plain", {"Location": f"{uri}{sep}{urlencode(params)}"})

    def _form(self) -> dict[str, str] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        fields = parse_qs(self.rfile.read(length).decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in fields.items() if len(v) == 1} | {"__roles": ",".join(fields.get("roles", []))}

    # -- routes ------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        self._send(204, b"", "text/plain", {
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"})

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/.well-known/openid-configuration":
            self._json(200, self.issuer.discovery())
        elif path == "/jwks.json":
            self._json(200, self.issuer.signer.jwks())
        elif path == "/authorize":
            self._authorize({k: v[0] for k, v in parse_qs(query).items() if len(v) == 1})
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        path = self.path.partition("?")[0]
        form = self._form()
        if form is None:
            self._json(413, {"error": "invalid_request", "error_description": "the body is too large"})
        elif path == "/authorize":
            self._sign_in(form)
        elif path == "/token":
            status, body = self.issuer.exchange(form)
            self._json(status, body)
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> None:
        problem = self.issuer.check_request(query)
        if problem is not None:
            self._page(400, "Sign-in request refused", f"<p>{html.escape(problem)}</p>")
            return
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(query.get(k, ""))}">'
                         for k in ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"))
        roles = "".join(f'<label><input type="checkbox" name="roles" value="{r}"{" checked" if r == "user" else ""}>'
                        f" {r}</label> " for r in ROLES)
        self._page(200, "Sign in to Tollgate (local issuer)",
                   f'<form method="post" action="/authorize">{hidden}'
                   '<p><label for="sub">User</label> <input id="sub" name="sub" value="alice" required></p>'
                   f"<fieldset><legend>Roles</legend>{roles}</fieldset>"
                   '<p><button type="submit">Continue</button></p></form>')

    def _sign_in(self, form: dict[str, str]) -> None:
        problem = self.issuer.check_request({**form, "response_type": "code"})
        if problem is not None:
            self._page(400, "Sign-in request refused", f"<p>{html.escape(problem)}</p>")
            return
        sub = form.get("sub", "").strip()
        roles = tuple(r for r in form["__roles"].split(",") if r in ROLES)
        if not SUB.match(sub):
            self._page(422, "Sign-in refused", "<p>User: 1-128 characters of A-Z a-z 0-9 . _ @ | + = -</p>")
            return
        code = self.issuer.issue_code(_Grant(form["client_id"], form["redirect_uri"], form["code_challenge"], sub,
                                             roles, time.monotonic() + CODE_SECONDS))
        self._redirect(form["redirect_uri"], {"code": code, **({"state": form["state"]} if form.get("state") else {})})


class LocalOidcIssuer:
    """The server: one client (:data:`CLIENT_ID`), codes kept in memory until used or expired."""

    def __init__(self, *, port: int, signer: LocalSigner, client_id: str = CLIENT_ID) -> None:
        self.signer, self.client_id = signer, client_id
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        handler = type("OidcHandler", (_Handler,), {"issuer": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-oidc", daemon=True)

    def start(self) -> LocalOidcIssuer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,  # the tokens' iss (see the module's docstring)
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "email"],
        }

    def check_request(self, query: dict[str, str]) -> str | None:
        """Why an authorization request is refused, or None."""
        if query.get("client_id") != self.client_id:
            return "unknown client_id"
        if not loopback_uri(query.get("redirect_uri", "")):
            return "redirect_uri must be a page on 127.0.0.1 or localhost"
        if query.get("response_type") != "code":
            return "response_type must be code"
        if query.get("code_challenge_method") != "S256" or not CHALLENGE.match(query.get("code_challenge", "")):
            return "PKCE is required: an S256 code_challenge"
        return None

    def issue_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for stale in [c for c, g in self._codes.items() if g.expires_at <= now]:
                del self._codes[stale]
            self._codes[code] = grant
        return code

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: (status, body)."""
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        verifier = form.get("code_verifier", "")
        if not VERIFIER.match(verifier):
            return 400, {"error": "invalid_request", "error_description": "code_verifier is required (PKCE)"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # once, whatever follows
        if grant is None or grant.expires_at <= time.monotonic():
            return 400, {"error": "invalid_grant", "error_description": "the code is unknown, used or expired"}
        if grant.client_id != form["client_id"] or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "the code was issued for another client or page"}
        if not secrets.compare_digest(s256(verifier), grant.challenge):
            return 400, {"error": "invalid_grant", "error_description": "code_verifier does not match the challenge"}
        roles = list(grant.roles)
        access = self.signer.token(grant.sub, roles, ttl_s=TOKEN_SECONDS, client_id=self.client_id, token_use="access")
        identity = self.signer.token(grant.sub, roles, ttl_s=TOKEN_SECONDS, token_use="id")
        return 200, {"access_token": access, "id_token": identity, "token_type": "Bearer",
                     "expires_in": TOKEN_SECONDS, "scope": "openid email"}
