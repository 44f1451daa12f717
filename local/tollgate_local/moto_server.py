"""A moto server on 127.0.0.1 that serves one request at a time.

moto is not thread-safe: a failed transaction puts back a copy of the tables it touched,
erasing what other threads committed meanwhile. Serialising requests (a WSGI middleware
holding a lock) keeps moto honest while still exposing read-modify-write races in our
own code, since those span several requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server

from tollgate_local.dynamodb_local import free_port
from tollgate_local.serving import ServerThread


class SerialisingMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            # Drain the body inside the lock so the whole request/response is one unit.
            return list(self.app(environ, start_response))


class SerialMotoServer:
    """``with SerialMotoServer() as moto: moto.endpoint``."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._serving: ServerThread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SerialMotoServer:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        app = SerialisingMiddleware(DomainDispatcherApplication(create_backend_app))
        self._serving = ServerThread(make_server("127.0.0.1", self.port, app, threaded=True), "moto").start()
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
        self._serving = None

    def __enter__(self) -> SerialMotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["SerialMotoServer", "SerialisingMiddleware"]
