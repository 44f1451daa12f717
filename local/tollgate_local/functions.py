"""The template's Lambda functions, each in a worker process of its own, as Lambda runs them.

Everything comes from template.yaml: handler file and name (``CodeUri`` + ``Handler``),
layers (``ContentUri``), memory, timeout and environment variables, with ``Globals`` merged
in as SAM merges them and intrinsics resolved against local values.

Each function is one warm container (``tollgate_local.worker``): its own process, modules,
clients and caches, and its own environment (what Lambda sets, the local stand-ins for the
account, the template's variables for that function: nothing else of this process's). It
serves one invocation at a time. A handler's exception comes back as Lambda reports it
(:class:`FunctionError`); a container that dies is replaced by a fresh one (a cold start)
on the next invocation; one that overruns its ``Timeout`` is stopped, as Lambda stops it.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tollgate_local import template
from tollgate_local.dynamodb_local import stop_process
from tollgate_local.intrinsics import ACCOUNT, REGION, Resolver, function_arn

__all__ = ["ACCOUNT", "REGION", "FunctionError", "FunctionRegistry", "LocalFunction", "Resolver", "function_arn"]


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, with ``Globals`` merged in."""

    name: str
    properties: dict[str, Any]

    @property
    def code_dir(self) -> Path:
        return template.ROOT / self.properties["CodeUri"]

    @property
    def handler(self) -> str:
        return str(self.properties["Handler"])

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def layers(self) -> tuple[Path, ...]:
        """The layers' folders, in the template's order (what Lambda extracts to /opt)."""
        paths = []
        for layer in self.properties.get("Layers") or []:
            ref = layer.get("Ref") if isinstance(layer, dict) else None
            resource = template.load()["Resources"].get(ref or "", {})
            if resource.get("Type") == "AWS::Serverless::LayerVersion":
                paths.append(template.ROOT / resource["Properties"]["ContentUri"])
        return tuple(paths)

    @property
    def memory_mb(self) -> int:
        return int(self.properties.get("MemorySize", 128))

    @property
    def timeout_s(self) -> float:
        return float(self.properties.get("Timeout", 3))

    @property
    def variables(self) -> dict[str, Any]:
        """The template's environment variables (intrinsics not yet resolved)."""
        return dict((self.properties.get("Environment") or {}).get("Variables") or {})


def _merge_globals(globals_: Any, own: Any) -> Any:
    # SAM's rule: maps merge, lists add (Globals' entries first), anything else is overridden.
    if isinstance(globals_, dict) and isinstance(own, dict):
        merged = dict(globals_)
        for key, value in own.items():
            merged[key] = _merge_globals(globals_[key], value) if key in globals_ else value
        return merged
    if isinstance(globals_, list) and isinstance(own, list):
        return [*globals_, *own]
    return own


def function_specs() -> dict[str, FunctionSpec]:
    globals_fn = (template.load().get("Globals") or {}).get("Function") or {}
    return {name: FunctionSpec(name, _merge_globals(globals_fn, resource.get("Properties") or {}))
            for name, resource in template.resources("AWS::Serverless::Function").items()}


class FunctionError(Exception):
    """The function failed, as Lambda reports it: its error type, message and stack trace."""

    def __init__(self, function: str, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


WORKER = Path(__file__).resolve().with_name("worker.py")
INIT_TIMEOUT_S = 60.0  # generous: eight containers may start at once on a small machine


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):  # binary attributes arrive base64-encoded, as in Lambda events
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


class LocalFunction:
    """One function's container: ``start()``, then ``invoke(event)`` as often as needed, ``stop()``."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str] | None = None,
                 ignored_warnings: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self.name = spec.name
        self.environment: dict[str, str] = dict(environment or {})
        self.ignored_warnings = ignored_warnings  # messages kept off the log (make dev's terminal)
        self._proc: subprocess.Popen[bytes] | None = None
        self._requests = self._replies = -1
        self._ready = False
        self._stopped = False
        # One invocation at a time, as one warm container serves them.
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalFunction:
        """Start the container without waiting for its init phase (see :meth:`wait_ready`)."""
        with self._lock:
            self._stopped = False
            if self._proc is None:
                self._spawn()
        return self

    def wait_ready(self) -> None:
        with self._lock:
            self._ensure_ready()

    def stop(self) -> None:
        # An invocation may hold the container for up to its Timeout: stop it rather than wait
        # (by its own PID; the caller gets Runtime.ExitError).
        if not self._lock.acquire(timeout=5.0):
            proc = self._proc
            if proc is not None:
                proc.terminate()
            self._lock.acquire()
        try:
            self._stopped = True
            self._discard(wait_s=5.0)
        finally:
            self._lock.release()

    def _spawn(self) -> None:
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        spec = {"code_dir": str(self.spec.code_dir), "layers": [str(p) for p in self.spec.layers],
                "handler": self.spec.handler, "requests_fd": requests_r, "replies_fd": replies_w,
                "ignored_warnings": list(self.ignored_warnings)}
        try:
            self._proc = subprocess.Popen(
                # -I: none of this process's PYTHONPATH or folders; -u: the log line by line, as Lambda's.
                [sys.executable, "-I", "-u", str(WORKER), json.dumps(spec)],
                env=self.environment, cwd=self.spec.code_dir, stdin=subprocess.DEVNULL,
                pass_fds=(requests_r, replies_w),
                # Its own session: Ctrl-C in make dev's terminal reaches the stack, which stops
                # the containers by PID, rather than interrupting handlers mid-request.
                start_new_session=True,
            )
        finally:
            os.close(requests_r)
            os.close(replies_w)
        self._requests, self._replies, self._ready = requests_w, replies_r, False

    def _ensure_ready(self) -> None:
        if self._stopped:
            raise FunctionError(self.name, "ResourceNotFoundException", "the local stack is stopped")
        if self._proc is not None and self._proc.poll() is not None:
            self._discard()  # the container died while idle: Lambda would start a new one
        if self._proc is None:
            self._spawn()
        if self._ready:
            return
        frame = self._read(time.monotonic() + INIT_TIMEOUT_S)
        if frame is None or "init_error" in frame:
            error = (frame or {}).get("init_error") or {}
            self._discard()
            raise FunctionError(self.name, error.get("errorType", "Runtime.ExitError"),
                                error.get("errorMessage", "the container exited during init"),
                                error.get("stackTrace"))
        self._ready = True

    def _discard(self, wait_s: float = 0.0) -> None:
        """Close the pipes and make sure the process is gone (by its own handle)."""
        for fd in (self._requests, self._replies):
            if fd >= 0:
                os.close(fd)
        self._requests = self._replies = -1
        proc, self._proc, self._ready = self._proc, None, False
        if proc is None:
            return
        try:
            proc.wait(timeout=wait_s)  # end of input: the worker leaves its loop and exits
        except subprocess.TimeoutExpired:
            stop_process(proc)

    # -- calls -------------------------------------------------------------------------

    def invoke(self, event: Any) -> Any:
        """Run the handler on ``event`` in the container; its return value, or FunctionError."""
        request_id = str(uuid.uuid4())
        context = {
            "function_name": self.name, "function_version": "$LATEST",
            "invoked_function_arn": function_arn(self.name), "memory_limit_in_mb": self.spec.memory_mb,
            "aws_request_id": request_id, "log_group_name": f"/aws/lambda/{self.name}",
            "log_stream_name": f"local/[$LATEST]{self.pid or 0}",
        }
        return self._call({"op": "invoke", "event": event, "context": context}, timeout_s=self.spec.timeout_s)

    def read_global(self, module: str, name: str) -> Any:
        """Test hook: the value of ``module.name`` inside the container (JSON, or ``{"repr"}``)."""
        return self._call({"op": "read", "module": module, "name": name}, timeout_s=INIT_TIMEOUT_S)

    def write_global(self, module: str, name: str, value: Any) -> Any:
        """Test hook: set ``module.name`` inside the container."""
        return self._call({"op": "write", "module": module, "name": name, "value": value}, timeout_s=INIT_TIMEOUT_S)

    def _call(self, request: dict[str, Any], *, timeout_s: float) -> Any:
        with self._lock:
            self._ensure_ready()
            # The clock of an invocation starts when the container takes it, not while it queues.
            request["deadline_ms"] = time.time() * 1000 + timeout_s * 1000
            payload = json.dumps(request, default=_json_default).encode()
            try:
                _write_frame(self._requests, payload)
            except BrokenPipeError:  # it died between calls: a fresh container takes the request
                self._discard()
                self._ensure_ready()
                _write_frame(self._requests, payload)
            deadline = time.monotonic() + timeout_s
            reply = self._read(deadline)
            if reply is None:
                # Its pipe ended before the deadline: it exited (reap it to read the status,
                # which may lag the end of the pipe). Otherwise it overran its Timeout.
                timed_out = time.monotonic() >= deadline
                code = None if timed_out else self._exit_status()
                self._discard()
                if timed_out:
                    raise FunctionError(self.name, "Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds")
                raise FunctionError(self.name, "Runtime.ExitError", f"the container exited with status {code}")
        if "error" in reply:
            error = reply["error"]
            raise FunctionError(self.name, error["errorType"], error["errorMessage"], error.get("stackTrace"))
        return reply["result"]

    def _exit_status(self) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def _read(self, deadline: float) -> dict[str, Any] | None:
        """The next frame from the container; None if it ended, or sent nothing before ``deadline``."""
        header = self._read_exact(4, deadline)
        if header is None:
            return None
        body = self._read_exact(int.from_bytes(header, "big"), deadline)
        return None if body is None else json.loads(body)

    def _read_exact(self, size: int, deadline: float) -> bytes | None:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                return None
            chunk = os.read(self._replies, size)
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(len(payload).to_bytes(4, "big") + payload)
    while view:
        view = view[os.write(fd, view):]


class FunctionRegistry:
    """All functions of the template, each with the environment Lambda would give it."""

    def __init__(self, parameters: dict[str, str], resource_names: dict[str, str]) -> None:
        self.resolver = Resolver(parameters, resource_names)
        self.specs = function_specs()
        self.functions: dict[str, LocalFunction] = {name: LocalFunction(spec) for name, spec in self.specs.items()}

    def environment(self, name: str, account: Mapping[str, str], secrets: Mapping[str, str] | None = None,
                    overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """What the function's process sees, and nothing more.

        ``account``: the local stand-ins for AWS (credentials, endpoints...), for every function;
        ``secrets``: local values of secrets, each given only to functions whose template names
        its parameter (``STRIPE_SECRET_KEY`` for ``STRIPE_SECRET_KEY_PARAM``), as SSM would;
        ``overrides``: set last, for tests.
        """
        spec = self.specs[name]
        variables = {key: str(self.resolver.value(raw)) for key, raw in spec.variables.items()}
        granted = {key: value for key, value in (secrets or {}).items()
                   if f"{key}_PARAM" in variables or f"{key}_SECRET" in variables}
        return {
            # What the Lambda runtime sets in every container.
            "PATH": os.environ.get("PATH", os.defpath),
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            # No ~/.aws of this machine's user: nothing but the variables here configures the SDK.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            **account,
            **variables,
            **granted,
            **(overrides or {}),
        }

    def global_environment(self) -> dict[str, str]:
        """The template's ``Globals`` variables: what a script working against the stack needs
        (the table's name...), as an operator's shell would have it."""
        globals_fn = (template.load().get("Globals") or {}).get("Function") or {}
        raw = (globals_fn.get("Environment") or {}).get("Variables") or {}
        return {key: str(self.resolver.value(value)) for key, value in raw.items()}

    def start(self, account: Mapping[str, str], secrets: Mapping[str, str] | None = None,
              overrides: Mapping[str, str] | None = None, ignored_warnings: tuple[str, ...] = ()) -> None:
        """Start every container at once and wait for their init phases (failures are printed
        by the container and reported again by each invocation, as Lambda does)."""
        for name, function in self.functions.items():
            function.environment = self.environment(name, account, secrets, overrides)
            function.ignored_warnings = ignored_warnings
            function.start()
        for function in self.functions.values():
            try:
                function.wait_ready()
            except FunctionError as exc:
                print(f"[functions] {exc}", file=sys.stderr)

    def stop(self) -> None:
        for function in self.functions.values():
            function.stop()

    def get(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        return self.functions[name]
