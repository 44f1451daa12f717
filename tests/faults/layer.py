"""The fault layer: scripted failures under the DynamoDB client and in front of the gateways.

**DynamoDB.** :class:`DynamoFaults` takes the place of moto's responder in one botocore client's
``before-send`` chain, so a fault happens below the client's own retries (``standard`` mode,
as deployed): one throttle is retried away, a storm exhausts the retries and reaches Tollgate.
Each planned fault applies to the next request of its operation (or, planned ``after`` some,
to the request after those):

* ``throttle`` / ``internal_error``: DynamoDB answers ``ThrottlingException`` (400) or
  ``InternalServerError`` (500); nothing is applied.
* ``conflict``: a ``TransactWriteItems`` is cancelled with ``TransactionConflict`` for every
  item (the storm Tollgate's ``Transaction`` retries); nothing is applied.
* ``reset``: the connection drops before the request is read (``ConnectionClosedError``).
* ``timeout_after_write``: the request **is applied**, then the answer never arrives
  (``ReadTimeoutError``): the ambiguous case.

**Gateways.** :class:`FaultyGateway` stands in front of a gateway fake and fails its next
calls of a method the way the real adapters report the fault (a ``GatewayError`` with no
status for a timeout or reset, with 502/503 for a 5xx), or makes the call and then fails
(``timeout_after_call``: the gateway acted, Tollgate never heard).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Literal

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

DynamoFault = Literal["throttle", "internal_error", "conflict", "reset", "timeout_after_write"]
GatewayFault = Literal["timeout", "server_error", "reset", "timeout_after_call"]

_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "internal_error": (500, "InternalServerError", "Internal server error"),
}


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


def _answer(request: Any, status: int, body: dict[str, Any]) -> AWSResponse:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault-layer",
               "Content-Length": str(len(raw))}
    return AWSResponse(request.url, status, headers, _Body(raw))


class DynamoFaults:
    """Planned faults for one or more DynamoDB clients (see the module's docstring)."""

    def __init__(self, responder: Any) -> None:
        self._responder = responder  # moto's before-send responder, which applies the request
        self._plan: dict[str, list[DynamoFault | None]] = defaultdict(list)  # None: let one through
        self.injected: Counter[tuple[str, DynamoFault]] = Counter()
        self.applied_then_lost = 0

    def install(self, client: Any) -> None:
        """Answer ``client``'s requests through this layer instead of moto's responder directly."""
        client.meta.events.unregister("before-send", self._responder)
        client.meta.events.register("before-send", self)

    def client(self, config: Any) -> Any:
        """A DynamoDB client of its own (botocore's, with ``config``) with this layer installed, made
        on its first use: a function a test never calls costs no client."""
        return _ClientOnFirstUse(self, config)

    def plan(self, operation: str, fault: DynamoFault, times: int = 1, after: int = 0) -> None:
        """``fault`` on ``times`` requests of ``operation`` in a row, once ``after`` more have gone through."""
        self._plan[operation].extend([None] * after + [fault] * times)

    def clear(self) -> None:
        self._plan.clear()

    def pending(self, operation: str) -> int:
        return sum(1 for fault in self._plan.get(operation, ()) if fault is not None)

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        queue = self._plan.get(operation)
        if not queue:
            return self._responder(event_name=event_name, request=request, **kwargs)
        fault = queue.pop(0)
        if fault is None:
            return self._responder(event_name=event_name, request=request, **kwargs)
        self.injected[(operation, fault)] += 1
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            return _answer(request, status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                                             "message": message})
        if fault == "conflict":
            items = len(json.loads(request.body or b"{}").get("TransactItems", ())) or 1
            return _answer(request, 400, {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                           f"[{', '.join(['TransactionConflict'] * items)}]",
                "CancellationReasons": [{"Code": "TransactionConflict",
                                         "Message": "Transaction is ongoing for the item"}] * items})
        if fault == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        # timeout_after_write: DynamoDB applies it; the client never hears back.
        self._responder(event_name=event_name, request=request, **kwargs)
        self.applied_then_lost += 1
        raise ReadTimeoutError(endpoint_url=request.url)


class _ClientOnFirstUse:
    def __init__(self, layer: DynamoFaults, config: Any) -> None:
        self._layer = layer
        self._config = config
        self._client: Any = None

    def __getattr__(self, attribute: str) -> Any:
        if self._client is None:
            import botocore.session

            self._client = botocore.session.get_session().create_client("dynamodb", config=self._config)
            self._layer.install(self._client)
        return getattr(self._client, attribute)


class FaultyGateway:
    """A gateway fake whose next calls of a method fail as planned (see the module's docstring)."""

    def __init__(self, inner: Any, name: str, error_class: type[Exception]) -> None:
        self._inner = inner
        self._name = name
        self._error = error_class
        self._plan: dict[str, list[GatewayFault]] = defaultdict(list)
        self.injected: Counter[tuple[str, GatewayFault]] = Counter()

    def plan(self, method: str, fault: GatewayFault, times: int = 1) -> None:
        self._plan[method].extend([fault] * times)

    def clear(self) -> None:
        self._plan.clear()

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._inner, attribute)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            queue = self._plan.get(attribute)
            if not queue:
                return target(*args, **kwargs)
            fault = queue.pop(0)
            self.injected[(attribute, fault)] += 1
            if fault == "server_error":
                raise self._error(f"{self._name} failed (HTTP 503)", gateway=self._name, gateway_status=503)
            if fault == "timeout_after_call":
                target(*args, **kwargs)
            reason = "ConnectionResetError" if fault == "reset" else "TimeoutError"
            raise self._error(f"Could not reach {self._name}: {reason}", gateway=self._name)

        return call
