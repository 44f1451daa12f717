"""The local runtime's background loops (stream poller, queue poller, scheduler): one daemon thread
each, stopped by its owner, with a way for tests to wait until a loop has nothing left to do."""

from __future__ import annotations

import threading
from typing import Self


class Background:
    name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def has_work(self) -> bool:
        """Whether the template gives this loop anything to do (no thread is started otherwise)."""
        return True

    def start(self) -> Self:
        if self.has_work():
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until a full pass found nothing to do (tests use this instead of sleeping)."""
        self._idle.clear()
        return self._idle.wait(timeout_s)

    def _run(self) -> None:
        raise NotImplementedError
