"""moto as the local AWS for everything but DynamoDB, with Lambda served by the stack.

moto sends Step Functions' Lambda tasks to its own port, so a WSGI middleware answers
``POST /2015-03-31/functions/{name}/invocations`` by invoking the real handler in that
function's own worker process.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server

from tollgate_local.functions import FunctionError, FunctionRegistry
from tollgate_local.serving import ServerThread

_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class LambdaInvokeMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], registry: FunctionRegistry) -> None:
        self.app = app
        self.registry = registry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _INVOKE.match(environ.get("PATH_INFO", ""))
        if not match or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        from urllib.parse import unquote

        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        event = json.loads(raw) if raw else {}
        headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        try:
            result = self.registry.get(unquote(match.group(1))).invoke(event)
            body = json.dumps(result, default=str).encode()
        except KeyError:
            start_response("404 Not Found", headers)
            return [json.dumps({"Type": "User", "message": "Function not found"}).encode()]
        except FunctionError as exc:
            # As Lambda answers: the handler's own error type, so Step Functions' Retry and Catch
            # match it by name (moto names the task's failure after errorType).
            headers.append(("X-Amz-Function-Error", "Unhandled"))
            body = json.dumps({"errorMessage": exc.message, "errorType": exc.error_type}).encode()
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an unhandled error
            traceback.print_exc()
            headers.append(("X-Amz-Function-Error", "Unhandled"))
            body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
        start_response("200 OK", headers)
        return [body]


class LocalMotoServer:
    def __init__(self, registry: FunctionRegistry, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        app = LambdaInvokeMiddleware(DomainDispatcherApplication(create_backend_app), registry)
        self._serving = ServerThread(make_server("127.0.0.1", port, app, threaded=True), "moto")
        self.port = self._serving.port
        self.endpoint = self._serving.url

    def start(self) -> LocalMotoServer:
        self._serving.start()
        import urllib.request

        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).read()
        return self

    def stop(self) -> None:
        self._serving.stop()
