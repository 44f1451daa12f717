"""One POST of a signed delivery: no redirects followed, a short timeout, only public addresses.

A delivery goes from inside the platform's AWS account to a URL an admin typed, so it must not be
usable to reach what only the account can: the host's addresses are resolved and every one must
be public (in ``make dev`` loopback, and only loopback), and the connection is made to the address that was
checked (the TLS name stays the host's), so a DNS answer that changes in between cannot redirect
it. A 3xx is a failed attempt, not followed: a redirect could point anywhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tollgate.webhook_endpoints.service import LOOPBACK_HOSTS, deliveries_stay_local, loopback_http_allowed

TIMEOUT_SECONDS = 10
RESPONSE_KEPT = 500  # characters of the receiver's answer kept with the attempt
USER_AGENT = "Tollgate-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    ms: int
    response: str = ""


class Refused(Exception):
    """The URL resolves to an address deliveries may not go to."""


def _address(host: str, port: int) -> str:
    """The address to connect to: the first the host resolves to, once every one is allowed."""
    loopback_ok = loopback_http_allowed() and host.lower() in LOOPBACK_HOSTS
    if deliveries_stay_local() and not loopback_ok:  # not even a DNS query leaves the machine
        raise Refused(f"{host} is not this machine: the local stack delivers only to 127.0.0.1")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global and not (loopback_ok and ip.is_loopback):
            raise Refused(f"{host} resolves to {address}, which deliveries may not reach")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate for the URL's host."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body``; a 2xx is delivered, anything else (or no answer) a failed attempt."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    parts = urlsplit(url)
    host, secure = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = _address(host, port)
        kind = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = kind(host, address, port, TIMEOUT_SECONDS)
        try:
            connection.request("POST", target, body=body, headers={
                **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT})
            response = connection.getresponse()
            answer = response.read(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT]
        finally:
            connection.close()
    except Refused as exc:
        return Outcome(False, None, str(exc), took())
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:RESPONSE_KEPT], took())
    if 200 <= response.status < 300:
        return Outcome(True, response.status, None, took(), answer)
    error = "redirects are not followed" if 300 <= response.status < 400 else f"answered {response.status}"
    return Outcome(False, response.status, error, took(), answer)
