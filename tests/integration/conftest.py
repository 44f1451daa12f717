"""Integration tier: the real DynamoDB engine (DynamoDB Local) and a serialised moto server.

Both servers are started here on 127.0.0.1 with free ports (once per session) and stopped
by their own process / thread at the end. Each test gets a fresh table, created from
template.yaml, and the domain's client bound to it; afterwards the default client, the
settings cache and the catalog cache are restored.

Concurrency: why worker processes, not threads
----------------------------------------------
Powertools' ``APIGatewayHttpResolver.resolve`` stores the request being resolved in
*class* attributes (``BaseRouter.current_event = ...``, ``BaseRouter.lambda_context = ...``),
so every resolver in a process - even in separately imported copies of a function module -
shares one "current request"; route arguments sit on the resolver (``app.context``) and
``Metrics`` keeps its metric set in class attributes too. Our handlers read the principal
and the Idempotency-Key from ``app.current_event``. Driving handlers from threads (one
module copy per thread was tried) let a request run with another request's key: 201s
without a debit of their own, overspent wallets - artefacts of the harness, not of the
code under test. In Lambda an execution environment serves one request at a time.

So a concurrent run models N execution environments as N worker processes, each importing
the function once and serving one request at a time, all hitting one table at once. No
lock is held around a handler (that would serialise exactly the interleavings we test).
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support import ADMIN, ROOT, Caller, Reply, invoke, load_function, reset_layer_state

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
# Concurrent requests come from this many worker processes (Lambda execution environments).
ENVIRONMENTS = 32

# Which function serves which sample event, by the file-name prefix (as tests.support does).
_FUNCTION_OF = {"deduction": "deduction", "history": "history", "admin": "admin"}

WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
READ_OPS = frozenset({"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"})


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the session, not only this directory's.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


# ---------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dynamodb_local():
    from tollgate_local.dynamodb_local import DynamoDBLocal

    server = DynamoDBLocal().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server():
    from tollgate_local.moto_server import SerialMotoServer

    server = SerialMotoServer().start()
    try:
        yield server
    finally:
        server.stop()


def make_client(endpoint: str, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            max_pool_connections=100,
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


@dataclass
class Backend:
    """One bound table on one server: ``client`` is what the domain uses."""

    name: str
    endpoint: str
    client: Any
    table: str

    def item_count(self) -> int:
        total, start = 0, None
        while True:
            kwargs: dict[str, Any] = {"TableName": self.table, "Select": "COUNT", "ConsistentRead": True}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.client.scan(**kwargs)
            total += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    def raw_item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")


@contextmanager
def bound_table(name: str, endpoint: str, *, stream: bool = True) -> Iterator[Backend]:
    """A fresh table from template.yaml on ``endpoint``, with the domain pointed at it."""
    from tollgate.config import settings
    from tollgate_local.template import create_table, table_definitions

    client = make_client(endpoint)
    table = f"tollgate-it-{uuid.uuid4().hex[:12]}"
    if stream:
        create_table(client, "TollgateTable", table)
    else:
        definition = {k: v for k, v in table_definitions()["TollgateTable"].items() if k != "StreamSpecification"}
        client.create_table(TableName=table, **definition)
        client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    previous = os.environ.get("TABLE_NAME")
    os.environ["TABLE_NAME"] = table
    settings.cache_clear()
    reset_layer_state(client)  # the tests' modules and every function's copy of the layer
    try:
        yield Backend(name=name, endpoint=endpoint, client=client, table=table)
    finally:
        reset_layer_state()
        if previous is None:
            os.environ.pop("TABLE_NAME", None)
        else:
            os.environ["TABLE_NAME"] = previous
        settings.cache_clear()
        try:
            client.delete_table(TableName=table)
        except Exception:  # best effort: the server is in-memory and goes away anyway
            pass


@pytest.fixture
def ddb(dynamodb_local) -> Iterator[Backend]:
    """A fresh table on DynamoDB Local (the real engine)."""
    with bound_table("dynamodb_local", dynamodb_local.endpoint) as backend:
        yield backend


@pytest.fixture
def moto(moto_server) -> Iterator[Backend]:
    """A fresh table on the serialised moto server.

    It is made without the template's stream: no test reads it there, and moto's transact_write_items deep-copies
    each table it touches - stream records included - which makes every debit slower than
    the last (tens of thousands of copied records in one test).
    """
    with bound_table("moto_server", moto_server.endpoint, stream=False) as backend:
        yield backend


@pytest.fixture(params=["moto_server", "dynamodb_local"])
def backend(request) -> Backend:
    """Each test using this runs once per backend."""
    return request.getfixturevalue("moto" if request.param == "moto_server" else "ddb")


# ---------------------------------------------------------------------------------------
# Driving handlers with events/*.json: sequentially here, concurrently in worker processes
# ---------------------------------------------------------------------------------------


@dataclass
class Request:
    """One HTTP API request: arguments for ``tests.support.invoke``."""

    sample: str
    caller: Caller | None
    body: Any = ...
    headers: dict[str, str] | None = None
    path: str | None = None
    path_params: dict[str, str] | None = None
    query: dict[str, str] | None = None
    tag: str = ""

    def kwargs(self) -> dict[str, Any]:
        return {"caller": self.caller, "body": self.body, "headers": self.headers, "path": self.path,
                "path_params": self.path_params, "query": self.query}

    @property
    def function(self) -> str:
        return _FUNCTION_OF[self.sample.split("_", 1)[0]]


# State of one worker process (one "execution environment").
_ENV: dict[str, Any] = {}


def _env_init(barrier: Any) -> None:
    _ENV["barrier"] = barrier
    # The handlers print one EMF metrics line per request, as in Lambda; keep it off the terminal.
    sys.stdout = open(os.devnull, "w")  # lives as long as the worker process


def _env_bind(endpoint: str, table: str) -> None:
    from tollgate.config import settings

    if _ENV.get("endpoint") != endpoint or _ENV.get("table") != table:
        os.environ["TABLE_NAME"] = table
        settings.cache_clear()
        if _ENV.get("endpoint") != endpoint:
            _ENV["client"] = make_client(endpoint)
        reset_layer_state(_ENV["client"])  # every function's copy of the layer, in this worker
        _ENV["endpoint"], _ENV["table"] = endpoint, table


def _env_warm(endpoint: str, table: str, functions: list[str]) -> int:
    """Bind, import the handlers, then wait for every other worker: one warm-up per process."""
    _env_bind(endpoint, table)
    for name in functions:
        load_function(name)
    _ENV["barrier"].wait(timeout=120)
    return os.getpid()


def _env_invoke(endpoint: str, table: str, sample: str, kwargs: dict[str, Any]) -> Reply:
    _env_bind(endpoint, table)
    return invoke(sample, **kwargs)


@contextmanager
def _pythonpath(paths: list[str]) -> Iterator[None]:
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([*paths, *([previous] if previous else [])])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


class Environments:
    """``size`` worker processes, each one Lambda execution environment serving one request at a time.

    Workers are forked from a fresh, single-threaded fork server that has already imported
    boto3, Powertools and the domain (so starting them is cheap and no lock of this
    multi-threaded test process is inherited). Each worker makes its own boto3 client.
    """

    PRELOAD = [
        "boto3", "botocore.client", "pydantic", "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.batch", "tollgate.ledger", "tollgate.reservations", "tollgate.pricing",
        "tollgate.http", "tests.support", "tests.integration.conftest",
    ]

    def __init__(self, size: int) -> None:
        import multiprocessing
        from multiprocessing import forkserver

        self.size = size
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(self.PRELOAD)
        with _pythonpath([str(ROOT), str(ROOT / "layers" / "tollgate"), str(ROOT / "local")]):
            forkserver.ensure_running()
        self.barrier = ctx.Barrier(size)
        self.pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx, initializer=_env_init,
                                        initargs=(self.barrier,))

    def run(self, backend: Backend, requests: list[Request]) -> list[Reply]:
        functions = sorted({r.function for r in requests})
        warm = [self.pool.submit(_env_warm, backend.endpoint, backend.table, functions) for _ in range(self.size)]
        pids = {f.result() for f in warm}
        assert len(pids) == self.size, "every worker process is warm before the burst"
        futures = [self.pool.submit(_env_invoke, backend.endpoint, backend.table, r.sample, r.kwargs())
                   for r in requests]
        return [f.result() for f in futures]

    def close(self) -> None:
        from multiprocessing import forkserver

        self.pool.shutdown(wait=True, cancel_futures=True)
        # The fork server would end with this process anyway; stop the one we started now.
        stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            stop()


@pytest.fixture(scope="session")
def environments() -> Iterator[Environments]:
    envs = Environments(ENVIRONMENTS)
    try:
        yield envs
    finally:
        envs.close()


@dataclass
class Api:
    """Sequential calls go through tests.support.invoke here; ``concurrently`` uses the workers."""

    backend: Backend
    environments_fixture: Callable[[], Environments]

    def call(self, sample: str, *, caller: Caller | None, **changes: Any) -> Reply:
        return invoke(sample, **Request(sample, caller, **changes).kwargs())

    def concurrently(self, requests: list[Request]) -> list[Reply]:
        return self.environments_fixture().run(self.backend, requests)

    # Admin conveniences ---------------------------------------------------------------

    def put_feature(self, feature_id: str, credits: str, pricing_type: str = "per_call") -> None:
        reply = self.call("admin_put_feature.json", caller=ADMIN,
                          body={"name": feature_id, "pricing": {"type": pricing_type, "credits": credits}},
                          path=f"/v1/admin/features/{feature_id}", path_params={"feature_id": feature_id})
        assert reply.status == 200, reply

    def adjust(self, wallet_id: str, amount: str, key: str | None = None) -> Reply:
        return self.call("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "it"},
                         headers={"idempotency-key": key or f"adj-{uuid.uuid4().hex}"},
                         path=f"/v1/admin/wallets/{wallet_id}/adjustments", path_params={"wallet_id": wallet_id})

    def fund(self, wallet_id: str, amount: str) -> None:
        reply = self.adjust(wallet_id, amount)
        assert reply.status == 201, reply


def _api_for(request: pytest.FixtureRequest, backend: Backend) -> Api:
    return Api(backend=backend, environments_fixture=lambda: request.getfixturevalue("environments"))


@pytest.fixture
def api(request, backend) -> Api:
    """Requests against ``backend`` (each test using it runs on both servers)."""
    return _api_for(request, backend)


@pytest.fixture
def ddb_api(request, ddb) -> Api:
    """Requests against DynamoDB Local only."""
    return _api_for(request, ddb)


@pytest.fixture
def caller() -> Caller:
    """A person with a fresh wallet (``caller.wallet_id``)."""
    return Caller(f"it-{uuid.uuid4().hex[:12]}")


# ---------------------------------------------------------------------------------------
# Recording what the domain asks DynamoDB
# ---------------------------------------------------------------------------------------


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    error: str | None = None
    consumed: Any = None
    http_attempts: int = 0
    reasons: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPS

    @property
    def is_read(self) -> bool:
        return self.operation in READ_OPS


class Recorder:
    """Every DynamoDB API call made through ``client`` while recording, in order.

    ``capacity=True`` also asks for ``ReturnConsumedCapacity="INDEXES"`` on each call that
    takes it (added by a ``before-parameter-build`` hook, so the domain code is unchanged).
    """

    def __init__(self, client: Any, *, capacity: bool = False) -> None:
        self.client = client
        self.capacity = capacity
        self.calls: list[Call] = []
        self._recording = False
        self._ids = f"rec-{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._before_build, unique_id=self._ids + "-b")
        events.register("before-call.dynamodb", self._before_call, unique_id=self._ids + "-c")
        events.register("before-send.dynamodb", self._before_send, unique_id=self._ids + "-s")
        events.register("after-call.dynamodb", self._after_call, unique_id=self._ids + "-a")
        self._pending: dict[int, Call] = {}
        self._params: dict[int, dict[str, Any]] = {}

    def close(self) -> None:
        events = self.client.meta.events
        events.unregister("before-parameter-build.dynamodb", unique_id=self._ids + "-b")
        events.unregister("before-call.dynamodb", unique_id=self._ids + "-c")
        events.unregister("before-send.dynamodb", unique_id=self._ids + "-s")
        events.unregister("after-call.dynamodb", unique_id=self._ids + "-a")

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        self.calls = []
        self._recording = True
        try:
            yield self.calls
        finally:
            self._recording = False

    # botocore hooks -----------------------------------------------------------------

    def _before_build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self._recording:
            return
        # The API parameters as the caller passed them (before-call only sees the HTTP request).
        self._params[threading.get_ident()] = copy.deepcopy(params)
        if self.capacity and "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"  # PynamoDB asks for TOTAL; the index split is wanted here

    def _before_call(self, model: Any, **_: Any) -> None:
        if not self._recording:
            return
        call = Call(operation=model.name, params=self._params.pop(threading.get_ident(), {}))
        with self._lock:
            self.calls.append(call)
            self._pending[threading.get_ident()] = call

    def _before_send(self, **_: Any) -> None:
        call = self._pending.get(threading.get_ident())
        if self._recording and call is not None:
            call.http_attempts += 1

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            call = self._pending.pop(threading.get_ident(), None)
        if call is None:
            return
        call.error = (parsed.get("Error") or {}).get("Code")
        call.consumed = parsed.get("ConsumedCapacity")
        call.reasons = parsed.get("CancellationReasons")

    # summaries ------------------------------------------------------------------------

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]


@pytest.fixture
def recorder_factory() -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(client: Any, *, capacity: bool = False) -> Recorder:
        recorder = Recorder(client, capacity=capacity)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.close()
