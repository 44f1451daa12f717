"""The load tier: ``make load`` (scripts/load.py, scripts/capacity.py) on small loads, each run a
subprocess with its own DynamoDB Local and worker processes. It runs beside the workflow tier,
which mostly waits on its executions."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the session, not only this directory's.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.load)
