"""Unit tier: pure domain logic, no AWS, no moto, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # This hook sees every item of the session, not only this folder's: mark ours alone.
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.unit)
