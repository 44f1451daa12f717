"""The dashboard's build (``make test-template`` builds ``dashboard/dist`` first): the
JavaScript the first page loads stays within the bundle budget, and its assets load from
relative paths (dist/ is served from any origin: make dev's server, CloudFront)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dashboard" / "dist"
BUDGET_GZIP_BYTES = 250 * 1000  # initial JavaScript, gzipped


def _initial_scripts(index: str) -> list[str]:
    scripts = re.findall(r'<script[^>]*type="module"[^>]*src="([^"]+)"', index)
    preloads = re.findall(r'<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"', index)
    return scripts + preloads


@pytest.fixture(scope="module")
def index() -> str:
    path = DIST / "index.html"
    if not path.exists():
        pytest.fail("dashboard/dist is not built: run `make dashboard` (make test-template builds it)")
    return path.read_text()


def test_initial_javascript_within_budget(index: str) -> None:
    scripts = _initial_scripts(index)
    assert scripts, "index.html loads no module script"
    total = sum(len(gzip.compress((DIST / src.removeprefix("./")).read_bytes(), 9)) for src in scripts)
    assert total <= BUDGET_GZIP_BYTES, f"initial JS is {total} bytes gzipped (budget {BUDGET_GZIP_BYTES})"


def test_assets_load_from_relative_paths(index: str) -> None:
    assert all(src.startswith("./") for src in _initial_scripts(index))
