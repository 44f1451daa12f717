"""A server's ``serve_forever`` on a daemon thread: the one way the local stack runs its HTTP servers.

Its creator binds the server to 127.0.0.1. :meth:`ServerThread.stop` ends the loop, closes
the listening socket and joins the thread; it is safe before :meth:`start` and twice.
"""

from __future__ import annotations

import socketserver
import threading
from http.server import ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that takes a burst of connections, as API Gateway does: the
    standard library's listen backlog of 5 resets the rest of 20 simultaneous clients."""

    request_queue_size = 128
    daemon_threads = True


class ServerThread:
    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self.port = int(server.server_address[1])  # type: ignore[index]
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():  # shutdown() waits for a loop that must be running
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()
