"""The fuzz tier: Schemathesis against make dev's stack (the e2e tier's), started by the test itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import api, catalog, stack, tokens  # noqa: F401 - the e2e tier's fixtures, shared

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.fuzz)
