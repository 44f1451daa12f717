"""One function's container: a process that imports the handler once and serves invocations.

Started by ``tollgate_local.functions.LocalFunction`` as ``python -I -u worker.py SPEC``, with the
environment Lambda would give the function (and nothing else of the parent's). ``-I`` keeps
the parent's ``PYTHONPATH`` and this script's folder off ``sys.path``; the function's code
directory and its layers go first, as ``/var/task`` and ``/opt/python`` do in Lambda. So the
function has its own modules, clients, caches and environment, as a container has.

It speaks length-prefixed JSON frames on two inherited pipe descriptors (stdout and stderr
stay the function's log, as in CloudWatch):

* it first sends ``{"ready": true}`` after importing the handler (the init phase), or
  ``{"init_error": {...}}`` and exits;
* then, one at a time, ``{"op": "invoke", "event", "context"}`` answers ``{"result"}`` or
  ``{"error": {"errorType", "errorMessage", "stackTrace"}}`` (Lambda's shape);
  ``{"op": "read", "module", "name"}`` / ``{"op": "write", "module", "name", "value"}``
  read or set a module global (a test hook: isolation is proven by looking inside).

End of input (the parent closed the pipe, or died) ends the process. Standard library only.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import time
import traceback
import warnings
from typing import Any

_HEADER = struct.Struct(">I")


def read_frame(fd: int) -> Any:
    """The next frame's JSON, or None at end of input."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    if body is None:
        return None
    return json.loads(body)


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class Context:
    """The Lambda context object the handler receives."""

    def __init__(self, fields: dict[str, Any], deadline_ms: float) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields.get("function_version", "$LATEST")
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(fields["memory_limit_in_mb"])
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {"errorType": error_type or type(exc).__name__, "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc)}


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def serve(spec: dict[str, Any]) -> int:
    requests, replies = int(spec["requests_fd"]), int(spec["replies_fd"])
    for fd in (requests, replies):
        # Not for the handler's own subprocesses: a pipe they held open would hide our exit.
        os.set_inheritable(fd, False)
    sys.path[:0] = [spec["code_dir"], *spec["layers"]]
    for message in spec.get("ignored_warnings", ()):
        warnings.filterwarnings("ignore", message=message)
    module_name, _, handler_name = spec["handler"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), handler_name)
    except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an init failure
        traceback.print_exc()
        write_frame(replies, _encode({"init_error": _error(exc, "Runtime.ImportModuleError")}))
        return 1
    write_frame(replies, _encode({"ready": True}))
    while (request := read_frame(requests)) is not None:
        answer = _answer(request, handler)
        try:
            payload = _encode(answer)
        except (TypeError, ValueError) as exc:  # a result JSON cannot carry: Lambda's marshal error
            payload = _encode({"error": _error(exc, "Runtime.MarshalError")})
        write_frame(replies, payload)
    return 0


def _answer(request: dict[str, Any], handler: Any) -> dict[str, Any]:
    op = request.get("op")
    if op == "invoke":
        context = Context(request["context"], request["deadline_ms"])
        try:
            return {"result": handler(request["event"], context)}
        except Exception as exc:  # noqa: BLE001 - the function's error goes back to the caller
            traceback.print_exc()  # the function's log, as Lambda writes it to CloudWatch
            return {"error": _error(exc)}
    if op in ("read", "write"):
        try:
            module = importlib.import_module(request["module"])
            if op == "write":
                setattr(module, request["name"], request["value"])
            value = getattr(module, request["name"])
        except Exception as exc:  # noqa: BLE001 - a bad probe must not end the container
            return {"error": _error(exc)}
        if isinstance(value, type(os.environ)):
            value = dict(value)
        try:
            _encode(value)
        except (TypeError, ValueError):
            value = {"repr": repr(value)}
        return {"result": value}
    return {"error": {"errorType": "UnknownOperation", "errorMessage": repr(op), "stackTrace": []}}


if __name__ == "__main__":
    sys.exit(serve(json.loads(sys.argv[1])))
