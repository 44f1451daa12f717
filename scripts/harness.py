"""What scripts/bench.py and scripts/load.py share: a function's handler module, its sample
events and a Lambda context, as the Lambda runtime would give them."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"


def load_function(name: str, prefix: str) -> ModuleType:
    """functions/<name>/app.py, imported as ``<prefix>_<name>``."""
    spec = importlib.util.spec_from_file_location(f"{prefix}_{name}", FUNCTIONS / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Context:
    """A Lambda context for ``function_name``."""

    memory_limit_in_mb = 512

    def __init__(self, function_name: str = "bench") -> None:
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def event(sample: str, *, body: Any = ..., headers: dict[str, str] | None = None,
          path: str | None = None, path_params: dict[str, str] | None = None) -> dict[str, Any]:
    """A copy of ``events/<sample>`` with the given body, extra headers, path and path parameters."""
    ev = copy.deepcopy(json.loads((EVENTS / sample).read_text()))
    if body is not ...:
        ev["body"] = json.dumps(body)
    ev["headers"] = {**ev.get("headers", {}), **(headers or {})}
    if path is not None:
        ev["rawPath"] = path
        ev["requestContext"]["http"]["path"] = path
    if path_params is not None:
        ev["pathParameters"] = path_params
    return ev
