"""The fault tier: every money path under each fault of ``tests/faults/layer.py``.

Handlers run in process against moto, each in its own namespace with its own DynamoDB client
(as in the functional tier); the fault layer sits in each function's client, below botocore's
retries, never in the tests' own client, which reads the table to check the outcome. Backoff
sleeps (botocore's and ``Transaction``'s) are zeroed: the retries happen, the waits do not.
Each case's outcome is collected into ``test-output/faults/report.md`` (faults x paths).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.faults.layer import DynamoFaults
from tests.support import FUNCTIONS, function_namespace, patch_layer

_HERE = Path(__file__).resolve().parent
REPORT = _HERE.parents[1] / "test-output" / "faults"
_outcomes: dict[str, dict[str, str]] = defaultdict(dict)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def faults(aws, monkeypatch):
    """A :class:`DynamoFaults` in every function's DynamoDB client (not the tests' own, which
    stays the ``aws`` fixture's). Each function has a client of its own, made when it is first
    used (a botocore client, retry quota included, as its container would have)."""
    from botocore.retries import standard
    from moto.core.models import botocore_stubber

    from tollgate.data.connection import CLIENT_CONFIG

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    patch_layer(monkeypatch, "tollgate.data.transactions", "_backoff", lambda attempt: None)
    layer = DynamoFaults(botocore_stubber)
    for name in sorted(p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists()):
        function_namespace(name).module("tollgate.data").set_client(layer.client(CLIENT_CONFIG))
    return layer


def record(path: str, fault: str, outcome: str) -> None:
    _outcomes[path][fault] = outcome


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")  # a pytest-xdist worker (the controller merges their parts)


def pytest_sessionstart(session):
    if not _is_worker(session.config):
        for part in REPORT.glob("part-*.json"):
            part.unlink()


def pytest_sessionfinish(session, exitstatus):
    REPORT.mkdir(parents=True, exist_ok=True)
    if _is_worker(session.config):
        worker = session.config.workerinput["workerid"]
        (REPORT / f"part-{worker}.json").write_text(json.dumps(_outcomes))
        return
    merged: dict[str, dict[str, str]] = defaultdict(dict)
    for part in [*REPORT.glob("part-*.json")]:
        for path, row in json.loads(part.read_text()).items():
            merged[path].update(row)
    for path, row in _outcomes.items():  # a run without workers
        merged[path].update(row)
    if not merged:
        return
    fault_names = sorted({f for row in merged.values() for f in row})
    lines = ["| path | " + " | ".join(fault_names) + " |", "|---" * (len(fault_names) + 1) + "|"]
    for path in sorted(merged):
        lines.append(f"| {path} | " + " | ".join(merged[path].get(f, "") for f in fault_names) + " |")
    (REPORT / "report.md").write_text("\n".join(lines) + "\n")
    (REPORT / "report.json").write_text(json.dumps(merged, indent=2, sort_keys=True))
