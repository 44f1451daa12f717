"""A local API Gateway (HTTP API, payload 2.0) serving every HttpApi route in template.yaml.

Routes, their functions and authorizers are read from the template. Like API Gateway it:
verifies JWTs for JwtAuthorizer routes (401 when missing, expired or forged) and passes
the claims flattened to strings; runs the real authorizer function for Lambda-authorizer
routes (403 when it says no) and passes its context; builds payload 2.0 events with path
and query parameters, lower-cased headers and base64 bodies for binary content; and maps
the function's response back to HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tollgate_local import template
from tollgate_local.functions import ACCOUNT, FunctionError, FunctionRegistry
from tollgate_local.serving import LocalHTTPServer, ServerThread
from tollgate_local.tokens import LocalSigner, flatten_claims

API_ID = "local"
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded",
               "application/javascript", "application/problem+json")


@dataclass(frozen=True)
class CompiledRoute:
    route: template.Route
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    specificity: tuple[int, int]


def compile_route(route: template.Route) -> CompiledRoute:
    regex, params, literal = "", [], 0
    for segment in route.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            params.append(segment[1:-2])
            regex += "/(.+)"
        elif segment.startswith("{"):
            params.append(segment[1:-1])
            regex += "/([^/]+)"
        else:
            regex += "/" + re.escape(segment)
            literal += 1
    return CompiledRoute(route, re.compile(regex + "/?" if regex else "/"), tuple(params), (literal, -len(params)))


class LocalApi:
    """Turns an HTTP request into an API Gateway event, authorizes it, invokes the function."""

    def __init__(self, registry: FunctionRegistry, signer: LocalSigner, *, issuer: str, audience: str,
                 control: dict[str, Callable[[str], Any]] | None = None) -> None:
        self.registry = registry
        self.signer = signer
        self.issuer, self.audience = issuer, audience
        self.routes = sorted((compile_route(r) for r in template.http_routes()),
                             key=lambda c: c.specificity, reverse=True)
        self.authorizers = self._authorizers()
        self.cors = self._cors()
        self.control = control or {}
        self.last_event: dict[str, Any] | None = None
        # Every answered request, in order, for tests that wait on an asynchronous caller
        # (a gateway's webhook) instead of sleeping.
        self.answered: list[tuple[str, str, int]] = []
        self._bodies: list[bytes] = []  # each answered request's body, by the same index
        self._answered_cond = threading.Condition()

    def _http_api(self) -> dict[str, Any]:
        apis = template.resources("AWS::Serverless::HttpApi")
        return next(iter(apis.values()))["Properties"] if apis else {}

    def _authorizers(self) -> dict[str, dict[str, Any]]:
        return (self._http_api().get("Auth") or {}).get("Authorizers") or {}

    def _cors(self) -> dict[str, Any]:
        return self._http_api().get("CorsConfiguration") or {}

    # -- request handling --------------------------------------------------------------

    def handle(self, method: str, raw_url: str, headers: dict[str, str], body: bytes, source_ip: str
               ) -> tuple[int, dict[str, str], list[str], bytes]:
        result = self._handle(method, raw_url, headers, body, source_ip)
        with self._answered_cond:
            self.answered.append((method, urlsplit(raw_url).path, result[0]))
            self._bodies.append(body)
            self._answered_cond.notify_all()
        return result

    def wait_for(self, method: str, path: str, *, after: int = 0, containing: bytes | None = None,
                 timeout_s: float = 15.0) -> tuple[str, str, int]:
        """Block until request number > ``after`` matching method and path (and whose body holds
        ``containing``, given one: a webhook about one object, not another's) has been answered."""
        def found() -> tuple[str, str, int] | None:
            return next((a for a, body in zip(self.answered[after:], self._bodies[after:], strict=True)
                         if a[0] == method and a[1] == path and (containing is None or containing in body)), None)

        with self._answered_cond:
            if not self._answered_cond.wait_for(lambda: found() is not None, timeout=timeout_s):
                raise TimeoutError(f"no {method} {path} within {timeout_s}s")
            return found()  # type: ignore[return-value]

    def _handle(self, method: str, raw_url: str, headers: dict[str, str], body: bytes, source_ip: str
                ) -> tuple[int, dict[str, str], list[str], bytes]:
        url = urlsplit(raw_url)
        path = url.path or "/"
        if path.startswith("/_local/"):
            return self._control(method, path)
        if method == "OPTIONS" and self.cors:
            return 204, self._cors_headers(headers), [], b""
        match = self._match(method, path)
        if match is None:
            return self._message(404, "Not Found")
        compiled, path_params = match
        event = self._event(compiled, method, url.path, url.query, headers, body, source_ip, path_params)
        authorizer_name = compiled.route.authorizer
        if authorizer_name:
            denied = self._authorize(authorizer_name, event)
            if denied is not None:
                return denied
        self.last_event = event
        try:
            result = self.registry.get(compiled.route.function).invoke(event)
        except Exception as exc:  # noqa: BLE001 - an HTTP API answers 500 when the function fails
            _report(exc)
            return self._message(500, "Internal Server Error")
        status, out_headers, cookies, payload = self._response(result)
        out_headers.update(self._cors_headers(headers))
        return status, out_headers, cookies, payload

    def _match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        for compiled in self.routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            m = compiled.pattern.fullmatch(path)
            if m:
                return compiled, dict(zip(compiled.params, m.groups(), strict=True))
        return None

    def _event(self, compiled: CompiledRoute, method: str, path: str, query: str, headers: dict[str, str],
               body: bytes, source_ip: str, path_params: dict[str, str]) -> dict[str, Any]:
        from urllib.parse import unquote

        lowered: dict[str, str] = {}
        for key, value in headers.items():
            k = key.lower()
            lowered[k] = f"{lowered[k]},{value}" if k in lowered else value
        cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
        # API Gateway sets these itself, whatever the client sent (here the scheme is http).
        host = lowered.get("host", "127.0.0.1")
        lowered.update({"x-forwarded-for": source_ip, "x-forwarded-proto": "http",
                        "x-forwarded-port": host.rpartition(":")[2] if ":" in host else "80"})
        query_params: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
        content_type = lowered.get("content-type", "")
        is_text = not body or content_type.startswith(_TEXT_TYPES)
        now = datetime.now(UTC)
        route_key = f"{compiled.route.method} {compiled.route.path}"
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": lowered,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "domainName": lowered.get("host", "127.0.0.1"),
                "domainPrefix": lowered.get("host", "127.0.0.1").split(".")[0],
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                         "userAgent": lowered.get("user-agent", "")},
                "requestId": uuid.uuid4().hex[:16],
                "routeKey": route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": time.time_ns() // 1_000_000,
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if query_params:
            event["queryStringParameters"] = query_params
        if path_params:
            event["pathParameters"] = {k: unquote(v) for k, v in path_params.items()}
        if body:
            if is_text:
                event["body"] = body.decode("utf-8", errors="replace")
            else:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        return event

    def _authorize(self, name: str, event: dict[str, Any]) -> tuple[int, dict[str, str], list[str], bytes] | None:
        config = self.authorizers.get(name) or {}
        if "JwtConfiguration" in config:
            header = event["headers"].get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return self._message(401, "Unauthorized")
            try:
                claims = self.signer.verify(token.strip(), issuer=self.issuer, audience=self.audience)
            except Exception:  # noqa: BLE001 - any verification failure is a 401, as in API Gateway
                return self._message(401, "Unauthorized")
            event["requestContext"]["authorizer"] = {"jwt": {"claims": flatten_claims(claims), "scopes": None}}
            return None
        function_name = self.registry.resolver.value(config.get("FunctionArn"))
        request = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/$default/{event['routeKey'].replace(' ', '')}",
            "identitySource": [],
            **{k: event[k] for k in ("routeKey", "rawPath", "rawQueryString", "headers", "requestContext")},
        }
        for key in ("cookies", "queryStringParameters", "pathParameters"):
            if key in event:
                request[key] = event[key]
        try:
            result = self.registry.get(function_name).invoke(request)
        except Exception as exc:  # noqa: BLE001 - as API Gateway does when the authorizer fails
            _report(exc)
            return self._message(500, "Internal Server Error")
        if not isinstance(result, dict) or result.get("isAuthorized") is not True:
            return self._message(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": result.get("context") or {}}
        return None

    @staticmethod
    def _response(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
        if not isinstance(result, dict) or "statusCode" not in result:
            return 200, {"content-type": "application/json"}, [], json.dumps(result).encode()
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ",".join(str(v) for v in values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return int(result["statusCode"]), headers, list(result.get("cookies") or []), payload

    def _cors_headers(self, request_headers: dict[str, str]) -> dict[str, str]:
        if not self.cors:
            return {}
        origin = next((v for k, v in request_headers.items() if k.lower() == "origin"), None)
        allowed = self.registry.resolver.value(self.cors.get("AllowOrigins")) or []
        if isinstance(allowed, str):
            allowed = [a.strip() for a in allowed.split(",")]
        if origin is None or ("*" not in allowed and origin not in allowed):
            return {}
        return {
            "access-control-allow-origin": "*" if "*" in allowed else origin,
            "access-control-allow-headers": ",".join(self.cors.get("AllowHeaders") or []),
            "access-control-allow-methods": ",".join(self.cors.get("AllowMethods") or []),
            "access-control-max-age": str(self.cors.get("MaxAge", 0)),
        }

    def _control(self, method: str, path: str) -> tuple[int, dict[str, str], list[str], bytes]:
        parts = path.strip("/").split("/")
        if path == "/_local/health":
            return 200, {"content-type": "application/json"}, [], b'{"status":"ok"}'
        if method == "POST" and len(parts) == 3 and parts[1] in self.control:
            try:
                result = self.control[parts[1]](parts[2])
            except KeyError:
                return self._message(404, f"no such function: {parts[2]}")
            return 200, {"content-type": "application/json"}, [], json.dumps(result, default=str).encode()
        return self._message(404, "Not Found")

    @staticmethod
    def _message(status: int, message: str) -> tuple[int, dict[str, str], list[str], bytes]:
        """API Gateway's own answer, byte for byte: {"message":"Not Found"}."""
        return status, {"content-type": "application/json"}, [], json.dumps({"message": message},
                                                                           separators=(",", ":")).encode()


def _report(exc: Exception) -> None:
    """A failed invocation, on the terminal: one line when the function failed (its container
    has printed its own traceback, as its log), the whole traceback when this process did."""
    if isinstance(exc, FunctionError):
        print(f"[gateway] {exc}", file=sys.stderr)
    else:
        traceback.print_exception(exc)


class _Handler(BaseHTTPRequestHandler):
    """Answers every method as API Gateway does: a route, or a JSON 404 (never a 501 page)."""

    api: LocalApi
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY a keep-alive client waits
    # ~40 ms on every response for Nagle's algorithm and the peer's delayed ACK.
    disable_nagle_algorithm = True

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler answers 501 for a method without a do_<METHOD>; API Gateway
        # routes every method (TRACE, CONNECT, PROPFIND, ...) and answers 404 where none matches.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:  # a content-length or chunk size that is not a number
            self.close_connection = True
            status, out_headers, cookies, payload = LocalApi._message(400, "Bad Request")
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
            status, out_headers, cookies, payload = self.api.handle(
                self.command, self.path, headers, body, self.client_address[0]
            )
        self.send_response(status)
        for key, value in out_headers.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        for cookie in cookies:
            self.send_header("set-cookie", cookie)
        # A 204 or 304 has no body, and a HEAD answer none on the wire: a stray byte would be
        # read as the start of the next response on a keep-alive connection.
        if status in (204, 304):
            payload = b""
        if status != 204:
            self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class GatewayServer:
    def __init__(self, api: LocalApi, port: int, *, verbose: bool = False) -> None:
        handler = type("BoundHandler", (_Handler,), {"api": api})
        server = LocalHTTPServer(("127.0.0.1", port), handler)
        server.verbose = verbose  # type: ignore[attr-defined]
        self.server = server
        self._serving = ServerThread(server, "gateway")
        self.port = self._serving.port
        self.url = self._serving.url

    def start(self) -> GatewayServer:
        self._serving.start()
        return self

    def stop(self) -> None:
        self._serving.stop()
