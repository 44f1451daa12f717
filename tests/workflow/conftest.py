"""The workflow tier: the real ``statemachines/*.asl.json`` executed by moto's Step Functions,
each Lambda task answered by the real handler in its own worker process, against the local
stack's DynamoDB Local, localstripe (with its Connect shim) and fake Paystack.

Retry intervals and the confirmation timeout are template parameters, short here (moto
waits them in real time). Tests wait on conditions (a payout's status, an earnings figure)
with a deadline, never on a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.support import (
    running_stack,
    wait_for,  # noqa: F401 - the workflow tests take it from here
)

_HERE = Path(__file__).resolve().parent

CONFIRMATION_TIMEOUT_S = 3


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.workflow)


@pytest.fixture(scope="package")  # one stack for the tier: each start costs ~15 s of containers and tables
def stack(tmp_path_factory):
    from tollgate_local.stack import StackConfig

    config = StackConfig.ephemeral(tmp_path_factory.mktemp("tollgate-workflow"))
    config.parameters = {"PayoutRetryIntervalSeconds": "1",
                         "PayoutConfirmationTimeoutSeconds": str(CONFIRMATION_TIMEOUT_S),
                         "RefundRetryIntervalSeconds": "1",
                         "RefundConfirmationTimeoutSeconds": str(CONFIRMATION_TIMEOUT_S),
                         "AllocationRetryIntervalSeconds": "1",
                         "ExportRetryIntervalSeconds": "1"}
    with running_stack(config) as local:
        from tollgate_local.seed import seed_if_empty

        # Seeded first, while the catalog is empty: the refund tests buy its starter package.
        seed_if_empty(local.url, local.signer.token("admin", ["admin", "user"]))
        yield local


@pytest.fixture(scope="package")
def api(stack) -> Client:
    return Client(stack.url)


def terminal(api: Client, token: str, payout_id: str) -> Callable[[], dict[str, Any] | None]:
    def probe() -> dict[str, Any] | None:
        reply = api.get(f"/v1/payouts/{payout_id}", token=token)
        return reply.body if reply.body and reply.body.get("status") in ("paid", "failed", "reversed") else None

    return probe
