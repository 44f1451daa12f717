"""The workflow tier: the real ``statemachines/*.asl.json`` executed by moto's Step Functions,
each Lambda task answered by the real handler in its own worker process, against the local
stack's DynamoDB Local, localstripe (with its Connect shim) and fake Paystack.

Retry intervals and the confirmation timeout are template parameters, short here (moto
waits them in real time). Tests wait on conditions (a payout's status, an earnings figure)
with a deadline, never on a fixed sleep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e.conftest import Client, _restore

_HERE = Path(__file__).resolve().parent
T = TypeVar("T")

CONFIRMATION_TIMEOUT_S = 3


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.workflow)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from tollgate_local.stack import LocalStack, StackConfig

    saved = dict(os.environ)
    config = StackConfig.ephemeral(tmp_path_factory.mktemp("tollgate-workflow"))
    config.parameters = {"PayoutRetryIntervalSeconds": "1",
                         "PayoutConfirmationTimeoutSeconds": str(CONFIRMATION_TIMEOUT_S),
                         "RefundRetryIntervalSeconds": "1",
                         "RefundConfirmationTimeoutSeconds": str(CONFIRMATION_TIMEOUT_S)}
    local = LocalStack(config)
    local.start()
    try:
        yield local
    finally:
        local.stop()
        _restore(saved)


@pytest.fixture(scope="module")
def api(stack) -> Client:
    return Client(stack.url)


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """Poll ``probe`` until it gives something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # a polling interval, not a stand-in for synchronisation


def terminal(api: Client, token: str, payout_id: str) -> Callable[[], dict[str, Any] | None]:
    def probe() -> dict[str, Any] | None:
        reply = api.get(f"/v1/payouts/{payout_id}", token=token)
        return reply.body if reply.body and reply.body.get("status") in ("paid", "failed", "reversed") else None

    return probe
